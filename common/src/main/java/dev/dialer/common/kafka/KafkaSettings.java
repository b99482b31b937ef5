package dev.dialer.common.kafka;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

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
     * being tried about when the caller is told they failed (the delivery, request and blocking time-outs, derived from
     * the service's own acknowledgement time-out); offsets committed only for handled records, read from the start,
     * committed records only (an upstream producer's aborted transaction never acted on); keys choosing partitions with
     * Kafka's own partitioner and the classic protocol's range assignment (a caller ID's commands and callbacks land
     * on, and are owned as, the same partition; a compacted topic keeps one value per key); each consumer's own group
     * and poll size; one client id per client rather than one for all of them; the serializers.
     */
    public static final Set<String> RESERVED = Set.of(
            "bootstrap.servers", "acks", "enable.idempotence", "transactional.id", "delivery.timeout.ms",
            "request.timeout.ms", "max.block.ms", "enable.auto.commit", "auto.offset.reset", "isolation.level",
            "group.id",
            "group.instance.id", "group.protocol", "group.remote.assignor", "max.poll.records", "client.id",
            "partitioner.class", "partitioner.ignore.keys", "partition.assignment.strategy", "key.serializer",
            "value.serializer", "key.deserializer", "value.deserializer");

    /** The most requests in flight per connection an idempotent producer allows. */
    private static final int MAX_IDEMPOTENT_IN_FLIGHT = 5;

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
     * @throws IllegalArgumentException naming them, when {@code clientProperties} sets any {@link #RESERVED} property,
     *                                  or a value a producer, consumer or admin client would refuse
     */
    public static KafkaSettings configured(String bootstrapServers, Map<String, String> clientProperties) {
        Map<String, String> properties = clientProperties == null ? Map.of() : clientProperties;
        Set<String> refused = new TreeSet<>(properties.keySet());
        refused.retainAll(RESERVED);
        if (!refused.isEmpty()) {
            throw new IllegalArgumentException("dialer.kafka.properties may not set " + refused
                    + ": the dialer sets them itself, or its guarantees rest on their defaults");
        }
        validate(bootstrapServers, properties);
        return new KafkaSettings(bootstrapServers, Map.copyOf(properties));
    }

    /**
     * Reads the properties as each kind of client would: a value one of them refuses (a protocol that does not exist,
     * a number that is not one) stops the start here, where a consumer made with it would only fail, and be made
     * again, for as long as the service runs.
     */
    private static void validate(String bootstrapServers, Map<String, String> properties) {
        Map<String, Object> probe = new HashMap<>(properties);
        probe.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        probe.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        probe.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        probe.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        probe.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        try {
            AdminClientConfig.configDef().parse(probe);
            ConsumerConfig.configDef().parse(probe);
            idempotent(ProducerConfig.configDef().parse(probe));
        } catch (ConfigException e) {
            throw new IllegalArgumentException("dialer.kafka.properties: " + e.getMessage(), e);
        }
    }

    /**
     * The publisher enables idempotence itself ({@code KafkaPublisher}), which Kafka's producer refuses to combine with
     * more than five requests in flight per connection or with no retries; made lazily on the first publish, such a
     * producer failed every publish for as long as the service ran, the service up all the same.
     */
    private static void idempotent(Map<String, Object> producer) {
        int inFlight = (Integer) producer.get(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION);
        if (inFlight > MAX_IDEMPOTENT_IN_FLIGHT) {
            throw new ConfigException(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, inFlight,
                    "the dialer's producer is idempotent, which allows at most " + MAX_IDEMPOTENT_IN_FLIGHT);
        }
        int retries = (Integer) producer.get(ProducerConfig.RETRIES_CONFIG);
        if (retries < 1) {
            throw new ConfigException(ProducerConfig.RETRIES_CONFIG, retries,
                    "the dialer's producer is idempotent, which needs retries");
        }
    }
}
