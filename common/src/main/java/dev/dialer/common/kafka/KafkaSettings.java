package dev.dialer.common.kafka;

import java.util.Map;

/**
 * Where Kafka is and any client properties to add or override (security, timeouts).
 *
 * @param bootstrapServers comma-separated host:port list
 * @param overrides        extra Kafka client properties, applied last
 */
public record KafkaSettings(String bootstrapServers, Map<String, Object> overrides) {

    public KafkaSettings {
        overrides = overrides == null ? Map.of() : Map.copyOf(overrides);
    }

    public static KafkaSettings of(String bootstrapServers) {
        return new KafkaSettings(bootstrapServers, Map.of());
    }
}
