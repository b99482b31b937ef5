package dev.dialer.api.kafka;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Where Kafka is and how the dialer's topics are created; the same {@code dialer.kafka.*} keys in every service.
 *
 * @param bootstrapServers  comma-separated host:port list
 * @param partitions        partitions of the keyed work topics when this service creates them
 * @param replicationFactor replication factor of the topics this service creates; above 1, they are created with
 *                          {@code min.insync.replicas} of one less, at least 2
 * @param provisionTopics   whether to create missing topics at start-up; off where an operator creates them (or in
 *                          a test that must start without a reachable broker)
 * @param properties        Kafka client properties given to every producer, consumer and admin client of the service
 *                          (TLS, SASL, timeouts), e.g. {@code dialer.kafka.properties.security.protocol=SASL_SSL};
 *                          those the dialer sets itself are refused at start-up ({@code KafkaSettings#RESERVED})
 */
@Validated
@ConfigurationProperties("dialer.kafka")
record KafkaProperties(
        @DefaultValue("localhost:9092") @NotBlank String bootstrapServers,
        @DefaultValue("12") @Min(1) int partitions,
        @DefaultValue("1") @Min(1) @Max(Short.MAX_VALUE) int replicationFactor,
        @DefaultValue("true") boolean provisionTopics,
        Map<String, String> properties) {

    KafkaProperties {
        properties = properties == null ? Map.of() : Map.copyOf(properties);
    }
}
