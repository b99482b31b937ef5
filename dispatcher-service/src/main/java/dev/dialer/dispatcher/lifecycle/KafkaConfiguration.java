package dev.dialer.dispatcher.lifecycle;

import dev.dialer.common.kafka.ConsumerGroupLag;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.command.CommandConsumerProperties;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The Kafka clients this service shares: one settings object, one publisher (closed at shutdown), and the measure of
 * how far the dispatchers' consumer group is behind.
 */
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

    /** {@code dialer.kafka.consumer.lag} of the commands and callbacks the dispatchers have yet to take. */
    @Bean(initMethod = "start", destroyMethod = "close")
    ConsumerGroupLag commandsLag(KafkaSettings settings, CommandConsumerProperties commands, MeterRegistry registry) {
        return new ConsumerGroupLag(settings, commands.groupId(), List.of(Topics.CALL_COMMANDS,
                Topics.CARRIER_CALLBACKS), registry, ConsumerGroupLag.DEFAULT_INTERVAL);
    }
}
