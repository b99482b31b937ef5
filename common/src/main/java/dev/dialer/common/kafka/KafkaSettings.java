package dev.dialer.common.kafka;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where Kafka is and any client properties to add or override (security, timeouts).
 *
 * @param bootstrapServers comma-separated host:port list
 * @param overrides        extra Kafka client properties, applied last
 */
public record KafkaSettings(String bootstrapServers, Map<String, Object> overrides) {

    /**
     * Client properties an operator may not set through {@code dialer.kafka.properties}, because the dialer's
     * guarantees rest on what it sets or leaves them to: acknowledged writes ({@code acks=all}, idempotence) that stop
     * being tried about when the caller is told they failed (the delivery, request and blocking time-outs, derived
     * from the service's own acknowledgement time-out); offsets committed only for handled records, read from the
     * start; keys choosing partitions with Kafka's own partitioner and the classic protocol's range assignment (a
     * caller ID's commands and callbacks land on, and are owned as, the same partition; a compacted topic keeps one
     * value per key); each consumer's own group and poll size; one client id per client rather than one for all of
     * them; the serializers.
     */
    public static final Set<String> RESERVED = Set.of(
            "bootstrap.servers", "acks", "enable.idempotence", "transactional.id", "delivery.timeout.ms",
            "request.timeout.ms", "max.block.ms", "enable.auto.commit", "auto.offset.reset", "group.id",
            "group.instance.id", "group.protocol", "group.remote.assignor", "max.poll.records", "client.id",
            "partitioner.class", "partitioner.ignore.keys", "partition.assignment.strategy", "key.serializer",
            "value.serializer", "key.deserializer", "value.deserializer");

    public KafkaSettings {
        overrides = overrides == null ? Map.of() : Map.copyOf(overrides);
    }

    public static KafkaSettings of(String bootstrapServers) {
        return new KafkaSettings(bootstrapServers, Map.of());
    }

    /**
     * The settings a service is configured with: {@code dialer.kafka.bootstrap-servers} and the client properties of
     * {@code dialer.kafka.properties} (TLS, SASL, timeouts…), given to every producer, consumer and admin client.
     *
     * @throws IllegalArgumentException naming them, when {@code clientProperties} sets any {@link #RESERVED} property
     */
    public static KafkaSettings configured(String bootstrapServers, Map<String, String> clientProperties) {
        Map<String, String> properties = clientProperties == null ? Map.of() : clientProperties;
        Set<String> refused = new TreeSet<>(properties.keySet());
        refused.retainAll(RESERVED);
        if (!refused.isEmpty()) {
            throw new IllegalArgumentException("dialer.kafka.properties may not set " + refused
                    + ": the dialer sets them itself, or its guarantees rest on their defaults");
        }
        return new KafkaSettings(bootstrapServers, Map.copyOf(properties));
    }
}
