package dev.dialer.webhook;

import dev.dialer.common.kafka.KafkaSettings;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Where Kafka is and how the dialer's topics are created; the same {@code dialer.kafka} properties in every service.
 *
 * @param bootstrapServers  comma-separated host:port list
 * @param partitions        partitions of the keyed work topics when this service creates them
 * @param replicationFactor replication factor of topics this service creates
 * @param properties        Kafka client properties given to every producer, consumer and admin client of the service
 *                          (TLS, SASL, timeouts), e.g. {@code dialer.kafka.properties.security.protocol=SASL_SSL};
 *                          those the dialer sets itself are refused at start-up ({@code KafkaSettings#RESERVED})
 */
@Validated
@ConfigurationProperties(prefix = "dialer.kafka")
public record KafkaProperties(
        @NotBlank @DefaultValue("localhost:9092") String bootstrapServers,
        @Min(1) @Max(10_000) @DefaultValue("12") int partitions,
        @Min(1) @Max(Short.MAX_VALUE) @DefaultValue("1") int replicationFactor,
        Map<String, String> properties) {

    public KafkaProperties {
        properties = properties == null ? Map.of() : Map.copyOf(properties);
    }

    /** Where Kafka is and the client properties every Kafka client of the service is given. */
    public KafkaSettings settings() {
        return KafkaSettings.configured(bootstrapServers, properties);
    }
}
