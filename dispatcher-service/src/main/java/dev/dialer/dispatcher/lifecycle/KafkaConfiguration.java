package dev.dialer.dispatcher.lifecycle;

import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import java.time.Duration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The Kafka clients this service shares: one settings object, one publisher (closed at shutdown). */
@Configuration(proxyBeanMethods = false)
class KafkaConfiguration {

    /**
     * How long the producer keeps trying one record. Long enough to ride out a broker restart; callers that must not
     * give up retry on top of it.
     */
    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(30);

    @Bean
    KafkaSettings kafkaSettings(KafkaProperties properties) {
        return KafkaSettings.configured(properties.bootstrapServers(), properties.properties());
    }

    @Bean(destroyMethod = "close")
    KafkaPublisher kafkaPublisher(KafkaSettings settings) {
        return KafkaPublisher.create(settings, "dialer-dispatcher", DELIVERY_TIMEOUT);
    }
}
