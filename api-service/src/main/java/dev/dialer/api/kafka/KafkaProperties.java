package dev.dialer.api.kafka;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * Where Kafka is and how the dialer's topics are created.
 *
 * @param bootstrapServers  Kafka bootstrap servers
 * @param partitions        partitions of the work topics when they are created
 * @param replicationFactor replication factor of created topics (3 in production)
 * @param provisionTopics   whether to create missing topics at start-up
 */
@Validated
@ConfigurationProperties("dialer.kafka")
public record KafkaProperties(@NotBlank String bootstrapServers, @Min(1) int partitions,
                              @Min(1) int replicationFactor, boolean provisionTopics) {
}
