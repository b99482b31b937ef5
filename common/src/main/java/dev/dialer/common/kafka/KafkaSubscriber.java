package dev.dialer.common.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.kafka.receiver.KafkaReceiver;
import reactor.kafka.receiver.ReceiverOptions;
import reactor.kafka.receiver.ReceiverRecord;
import reactor.util.retry.Retry;

/**
 * Group consumption, at least once: offsets are committed only for acknowledged records (and never past an
 * unacknowledged one of the same partition). A consumer failure resubscribes with a fresh consumer after a backoff;
 * per-record errors must be handled by the caller inside that record's pipeline.
 */
public final class KafkaSubscriber {

    private static final Logger log = LoggerFactory.getLogger(KafkaSubscriber.class);
    /** reactor-kafka's own default: a revocation waits up to a minute for unacknowledged records. */
    private static final Duration DEFAULT_REBALANCE_WAIT = Duration.ofSeconds(60);

    private KafkaSubscriber() {
    }

    /**
     * @param maxPollRecords records fetched per poll: bounds what sits in memory per consumer
     */
    public static Flux<InboundRecord> receive(KafkaSettings settings, String groupId, Collection<String> topics,
                                              int maxPollRecords) {
        return receive(settings, groupId, topics, maxPollRecords, new PartitionFlow());
    }

    /**
     * As {@link #receive(KafkaSettings, String, Collection, int)}, with {@code flow} attached to each consumer it
     * creates: the caller may pause and resume single partitions and hears of assignments and revocations.
     */
    public static Flux<InboundRecord> receive(KafkaSettings settings, String groupId, Collection<String> topics,
                                              int maxPollRecords, PartitionFlow flow) {
        return receive(settings, groupId, topics, maxPollRecords, flow, DEFAULT_REBALANCE_WAIT);
    }

    /**
     * As {@link #receive(KafkaSettings, String, Collection, int, PartitionFlow)}, with how long a revocation waits for
     * the records already emitted from the revoked partitions to be acknowledged before it lets the group go on. Keep
     * it short (decision 0063): reactor-kafka counts a record dropped at a revocation (not begun when its partition
     * went) as waited for at every later revocation of the consumer, so each of them waits the whole bound, with the
     * group stopped.
     */
    public static Flux<InboundRecord> receive(KafkaSettings settings, String groupId, Collection<String> topics,
                                              int maxPollRecords, PartitionFlow flow, Duration rebalanceWait) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, groupId + "-" + Long.toHexString(System.nanoTime()));
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // Topics are made at start-up with their partitions and policies; one missing is an error, not a default.
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // An upstream producer writing in transactions: what it aborted was never sent (a command never to be dialled).
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.putAll(settings.overrides());
        ReceiverOptions<String, byte[]> options = ReceiverOptions.<String, byte[]>create(props)
                .subscription(topics)
                .commitInterval(Duration.ofMillis(200))
                .commitBatchSize(500)
                .maxDelayRebalance(rebalanceWait)
                .addAssignListener(flow::assigned)
                .addRevokeListener(flow::revoked);
        // A failed receive() Flux cannot be resubscribed: build a fresh receiver for every retry.
        return Flux.defer(() -> {
                    KafkaReceiver<String, byte[]> receiver = KafkaReceiver.create(FlowControlledConsumer.factory(flow), options);
                    flow.attach(receiver);
                    return receiver.receive();
                })
                .map(KafkaSubscriber::toInbound)
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(500)).maxBackoff(Duration.ofSeconds(10))
                        .doBeforeRetry(signal -> log.warn("consumer {} failed, resubscribing", groupId,
                                signal.failure())));
    }

    /**
     * The record as the services read it, with the assignment its consumer stamped on it. A reader that stamps none
     * (a {@link CompactedTopicReader}) reads the header as an outside producer wrote it: one that is not a number is
     * no stamp, never an error, which would stop the reader at that record on every read from the beginning.
     */
    static InboundRecord toInbound(ReceiverRecord<String, byte[]> record) {
        Header stamp = record.headers().lastHeader(FlowControlledConsumer.ASSIGNMENT_HEADER);
        long assignment = 0;
        if (stamp != null) {
            record.headers().remove(FlowControlledConsumer.ASSIGNMENT_HEADER);
            assignment = assignment(stamp.value());
        }
        return new InboundRecord(record.topic(), record.partition(), record.offset(), record.key(), record.value(),
                headers(record.headers()), record.receiverOffset()::acknowledge, assignment,
                List.of(record.headers().toArray()));
    }

    static long assignment(byte[] stamp) {
        try {
            return stamp == null ? 0 : Long.parseLong(new String(stamp, StandardCharsets.US_ASCII));
        } catch (NumberFormatException notOurs) {
            return 0;
        }
    }

    static Map<String, String> headers(Iterable<Header> headers) {
        Map<String, String> result = new HashMap<>();
        for (Header header : headers) {
            if (header.value() != null) {
                result.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
            }
        }
        return result;
    }
}
