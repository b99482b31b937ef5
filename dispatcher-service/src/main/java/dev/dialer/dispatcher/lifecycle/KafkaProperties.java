package dev.dialer.dispatcher.lifecycle;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Where Kafka is and how the dialer's topics are created (shared by every dialer service).
 *
 * @param bootstrapServers  comma-separated host:port list
 * @param partitions        partitions of the keyed work topics, when this service creates them
 * @param replicationFactor replication factor of topics this service creates
 */
@Validated
@ConfigurationProperties("dialer.kafka")
record KafkaProperties(
        @DefaultValue("localhost:9092") @NotBlank String bootstrapServers,
        @DefaultValue("12") @Min(1) int partitions,
        @DefaultValue("1") @Min(1) short replicationFactor) {
}
