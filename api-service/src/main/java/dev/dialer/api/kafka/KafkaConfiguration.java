package dev.dialer.api.kafka;

import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.TopicProvisioner;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The service's Kafka resources: topics checked once at start-up, one shared producer closed at shutdown. */
@Configuration(proxyBeanMethods = false)
class KafkaConfiguration {

    private static final Logger log = LoggerFactory.getLogger(KafkaConfiguration.class);
    private static final long PROVISION_TIMEOUT_MILLIS = 30_000;
    /** The producer's buffer beyond the records the API waits for: the records it hands over unwaited, restated. */
    static final long PRODUCER_BUFFER_HEADROOM = 32L << 20;

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
        return KafkaPublisher.create(withBufferFor(settings, produce.maxBytesInFlight().toBytes()), "api-service",
                produce.ackTimeout());
    }

    /**
     * The settings with a producer buffer ({@code buffer.memory}) that holds the records the API may wait for at once
     * ({@code dialer.api.kafka.max-bytes-in-flight}) and {@link #PRODUCER_BUFFER_HEADROOM}: Kafka's default, 32 MB, was
     * less than the budget (then 128 MB, now 64 MB, as the records and their copy in the buffer are both held), and a
     * producer whose buffer is full blocks every publish handed to it for up to the ack timeout, behind which all the
     * instance's requests wait and get the ambiguous 503, where the budget meant a request it cannot hold to be refused
     * at once. A larger buffer configured stays.
     */
    static KafkaSettings withBufferFor(KafkaSettings settings, long maxBytesInFlight) {
        long wanted = maxBytesInFlight + PRODUCER_BUFFER_HEADROOM;
        Object configured = settings.overrides().get(ProducerConfig.BUFFER_MEMORY_CONFIG);
        if (configured != null && Long.parseLong(configured.toString().strip()) >= wanted) {
            return settings;
        }
        Map<String, Object> overrides = new HashMap<>(settings.overrides());
        overrides.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(wanted));
        return new KafkaSettings(settings.bootstrapServers(), overrides);
    }

    @Bean
    AcknowledgedPublisher acknowledgedPublisher(KafkaPublisher publisher, ProduceProperties produce,
                                                MeterRegistry registry) {
        return new AcknowledgedPublisher(publisher, produce.ackTimeout(), produce.retryAfter(),
                produce.maxBytesInFlight().toBytes(), produce.maxBytesPerAccount(), registry);
    }
}
