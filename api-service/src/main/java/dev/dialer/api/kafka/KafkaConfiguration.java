package dev.dialer.api.kafka;

import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.TopicProvisioner;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The service's Kafka resources: topics checked once at start-up, one shared producer closed at shutdown. */
@Configuration(proxyBeanMethods = false)
class KafkaConfiguration {

    private static final Logger log = LoggerFactory.getLogger(KafkaConfiguration.class);
    private static final long PROVISION_TIMEOUT_MILLIS = 30_000;

    /** Marks that the topics exist; the producer depends on it so that nothing is produced before. */
    record ProvisionedTopics(boolean created) {
    }

    /** Where Kafka is and the client properties every Kafka client of the service is given. */
    @Bean
    KafkaSettings kafkaSettings(KafkaProperties kafka) {
        return KafkaSettings.configured(kafka.bootstrapServers(), kafka.properties());
    }

    @Bean
    ProvisionedTopics provisionedTopics(KafkaProperties kafka, KafkaSettings settings) {
        if (!kafka.provisionTopics()) {
            log.info("topic provisioning is off (dialer.kafka.provision-topics=false): the topics must exist");
            return new ProvisionedTopics(false);
        }
        // Runs on the starting thread, before the server accepts requests: blocking here is intended.
        TopicProvisioner.ensure(settings, Topics.all(kafka.partitions()),
                (short) kafka.replicationFactor(), PROVISION_TIMEOUT_MILLIS);
        return new ProvisionedTopics(true);
    }

    @Bean(destroyMethod = "close")
    KafkaPublisher kafkaPublisher(KafkaSettings settings, ProduceProperties produce, ProvisionedTopics topics) {
        return KafkaPublisher.create(settings, "api-service", produce.ackTimeout());
    }

    @Bean
    AcknowledgedPublisher acknowledgedPublisher(KafkaPublisher publisher, ProduceProperties produce,
                                                MeterRegistry registry) {
        return new AcknowledgedPublisher(publisher, produce.ackTimeout(), produce.retryAfter(),
                produce.maxBytesInFlight().toBytes(), registry);
    }
}
