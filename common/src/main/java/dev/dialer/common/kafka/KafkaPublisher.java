package dev.dialer.common.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.kafka.sender.KafkaSender;
import reactor.kafka.sender.SenderOptions;
import reactor.kafka.sender.SenderRecord;
import reactor.kafka.sender.SenderResult;

/**
 * Publishes records with {@code acks=all} and the idempotent producer: a completed {@link Mono} means every in-sync
 * replica has the record. One instance per service, shared, closed at shutdown.
 */
public final class KafkaPublisher implements AutoCloseable {

    private final KafkaSender<String, byte[]> sender;
    private final int maxRecordBytes;
    private final Duration longestLanding;

    private KafkaPublisher(KafkaSender<String, byte[]> sender, int maxRecordBytes, Duration longestLanding) {
        this.sender = sender;
        this.maxRecordBytes = maxRecordBytes;
        this.longestLanding = longestLanding;
    }

    /**
     * @param deliveryTimeout how long the client may try before it reports a record as failed
     */
    public static KafkaPublisher create(KafkaSettings settings, String clientId, Duration deliveryTimeout) {
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 2);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
        // As large as the largest DLQ record, so that a copy of the largest command a topic takes is sent whole.
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_DLQ_RECORD_BYTES);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.putAll(settings.overrides());
        // The time-outs last, from the one given: the client stops trying a record about when its caller gives up on
        // it (as long as a request and the batching delay allow, which the client insists on).
        int timeout = (int) deliveryTimeout.toMillis();
        int requestTimeout = Math.min(timeout, 30_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, requestTimeout);
        int linger = intOf(props, ProducerConfig.LINGER_MS_CONFIG);
        int delivery = Math.max(timeout, linger + requestTimeout);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, delivery);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout);
        SenderOptions<String, byte[]> options = SenderOptions.<String, byte[]>create(props)
                .stopOnError(false)
                .maxInFlight(1024);
        return new KafkaPublisher(KafkaSender.create(options), maxRequestSize(props),
                Duration.ofMillis((long) timeout + delivery));
    }

    /**
     * The longest a record handed to this publisher may still take to be stored: the client may wait {@code
     * max.block.ms} to take it (the topic's metadata, room in its buffer), then tries it for {@code
     * delivery.timeout.ms}. A caller that gave up on a record earlier must assume it may land until then.
     */
    public Duration longestLanding() {
        return longestLanding;
    }

    /** The largest record this publisher sends ({@code max.request.size}); a larger one fails to publish. */
    public int maxRecordBytes() {
        return maxRecordBytes;
    }

    private static int maxRequestSize(Map<String, Object> props) {
        return intOf(props, ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    }

    private static int intOf(Map<String, Object> props, String name) {
        Object value = props.get(name);
        return value instanceof Number number ? number.intValue() : Integer.parseInt(value.toString().trim());
    }

    /**
     * The partition of {@code topic} a record keyed {@code key} goes to (Kafka's default partitioner: murmur2 of the
     * key), as this producer knows the topic; waits for the topic's metadata if the producer has none yet.
     */
    public Mono<Integer> partitionOf(String topic, String key) {
        return partitionCount(topic).map(partitions -> partitionOf(key, partitions));
    }

    /** How many partitions {@code topic} has, as this producer knows it; waits for its metadata if it has none yet. */
    public Mono<Integer> partitionCount(String topic) {
        return sender.doOnProducer(producer -> producer.partitionsFor(topic).size());
    }

    /**
     * The partition, of a topic of {@code partitionCount}, Kafka's Java client puts a record keyed {@code key} on: its
     * default partitioner, murmur2 of the key's UTF-8 bytes.
     */
    public static int partitionOf(String key, int partitionCount) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitionCount;
    }

    /** Completes once the broker acknowledged the record; errors with the producer's exception otherwise. */
    public Mono<Void> publish(OutboundRecord record) {
        return sender.send(Mono.just(toSenderRecord(record))).next().flatMap(KafkaPublisher::outcome);
    }

    /**
     * Sends the records pipelined (not one round trip each) and completes when all are acknowledged. If any failed, it
     * errors with the first failure, but only once every record's outcome is known: a caller that counts what it handed
     * over as in the producer (the API's budget of unacknowledged bytes) must not count the rest as gone while they may
     * still be sent. Records of one key keep their order.
     */
    public Mono<Void> publishAll(List<OutboundRecord> records) {
        return publishEach(records)
                .mapNotNull(Outcome::failure)
                .collectList()
                .flatMap(failures -> failures.isEmpty() ? Mono.empty() : Mono.error(failures.get(0)));
    }

    /**
     * Sends the records pipelined and emits each one's outcome as the broker gives it, by its place in {@code records};
     * completes once every record's is known (the sender then signals the first failure as an error, which says
     * nothing the outcomes did not). Errors only when the sender stopped before every outcome was known. Records of
     * one key keep their order.
     */
    public Flux<Outcome> publishEach(List<OutboundRecord> records) {
        if (records.isEmpty()) {
            return Flux.empty();
        }
        return Flux.defer(() -> {
            AtomicInteger known = new AtomicInteger();
            return sender.send(Flux.range(0, records.size())
                            .map(index -> toSenderRecord(records.get(index), index)))
                    .map(result -> {
                        known.incrementAndGet();
                        return new Outcome(result.correlationMetadata(), result.exception());
                    })
                    .onErrorResume(error -> known.get() == records.size() ? Flux.empty() : Flux.error(error));
        });
    }

    /**
     * What became of one record of {@link #publishEach}.
     *
     * @param index   its place in the records sent
     * @param failure why the producer gave it up; null once the broker acknowledged it
     */
    public record Outcome(int index, Exception failure) {
    }

    private static Mono<Void> outcome(SenderResult<?> result) {
        return result.exception() == null ? Mono.empty() : Mono.error(result.exception());
    }

    static SenderRecord<String, byte[], Void> toSenderRecord(OutboundRecord record) {
        return toSenderRecord(record, null);
    }

    private static <T> SenderRecord<String, byte[], T> toSenderRecord(OutboundRecord record, T correlation) {
        ProducerRecord<String, byte[]> producerRecord =
                new ProducerRecord<>(record.topic(), record.partition(), record.key(), record.value());
        record.sentHeaders().forEach(producerRecord.headers()::add);
        return SenderRecord.create(producerRecord, correlation);
    }

    @Override
    public void close() {
        sender.close();
    }
}
