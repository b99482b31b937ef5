package dev.dialer.common.kafka;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.kafka.receiver.KafkaReceiver;
import reactor.kafka.receiver.ReceiverPartition;

/**
 * Control over one subscription's partitions, for a consumer that holds records in memory per partition and must
 * stop fetching a partition that is full without stopping the others (back-pressure on the shared {@code receive()}
 * Flux would pause every partition). Also tells the consumer which partitions it owns as the group rebalances.
 *
 * <p>A pause holds across the receiver's own back-pressure pauses and until {@link #resume}, and a resume never lets a
 * partition be fetched while the receiver has no demand ({@link FlowControlledConsumer}). Pausing or resuming while no
 * consumer runs (between a failure and the resubscription) does nothing: a fresh consumer starts with every partition
 * resumed.
 */
public final class PartitionFlow {

    private static final Logger log = LoggerFactory.getLogger(PartitionFlow.class);

    private final AtomicReference<KafkaReceiver<String, byte[]>> receiver = new AtomicReference<>();
    private final AtomicReference<FlowControlledConsumer<?, ?>> consumer = new AtomicReference<>();
    private final List<Consumer<Map<String, Set<Integer>>>> assignedListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<Map<String, Set<Integer>>>> revokedListeners = new CopyOnWriteArrayList<>();
    /** Assignments and revocations so far: written on the receiver's event-loop thread only. */
    private volatile long generation;
    /** Each partition's last revocation, as the {@link #generation} it made. */
    private final Map<TopicPartition, Long> revokedAt = new ConcurrentHashMap<>();

    /**
     * Called with the partitions this consumer was given, by topic (every subscribed topic, each its own numbers: the
     * topics of one subscription may have different counts, for a while at least, as an operator grows them one by
     * one).
     */
    public PartitionFlow onAssigned(Consumer<Map<String, Set<Integer>>> listener) {
        assignedListeners.add(listener);
        return this;
    }

    /** Called with the partitions this consumer lost, by topic, before another consumer takes them. */
    public PartitionFlow onRevoked(Consumer<Map<String, Set<Integer>>> listener) {
        revokedListeners.add(listener);
        return this;
    }

    /** Stops fetching the partition until {@link #resume}; records already fetched still arrive. */
    public Mono<Void> pause(String topic, int partition) {
        return onConsumer(flowControlled -> flowControlled.pauseForApplication(new TopicPartition(topic, partition)));
    }

    public Mono<Void> resume(String topic, int partition) {
        return onConsumer(flowControlled -> flowControlled.resumeForApplication(new TopicPartition(topic, partition)));
    }

    /**
     * Runs a pause or a resume. After a consumer failure the receiver refuses work until the subscription attaches a
     * new one; the pause or resume then does nothing, as it would with no consumer, rather than fail its caller.
     */
    private Mono<Void> onConsumer(Consumer<FlowControlledConsumer<?, ?>> action) {
        return withConsumer(flowControlled -> {
            action.accept(flowControlled);
            return Boolean.TRUE;
        }).then().onErrorResume(error -> {
            log.info("a pause or resume found no running consumer ({}); the next consumer starts with every "
                    + "partition resumed", error.toString());
            return Mono.empty();
        });
    }

    /** Runs {@code action} on the receiver's event-loop thread, the only one that may touch its consumer. */
    <T> Mono<T> withConsumer(Function<FlowControlledConsumer<?, ?>, T> action) {
        KafkaReceiver<String, byte[]> current = receiver.get();
        FlowControlledConsumer<?, ?> flowControlled = consumer.get();
        if (current == null || flowControlled == null) {
            return Mono.empty();
        }
        return current.doOnConsumer(proxy -> action.apply(flowControlled));
    }

    /** A new receiver for the subscription; its consumer is created when it is subscribed to. */
    void attach(KafkaReceiver<String, byte[]> current) {
        consumer.set(null);
        receiver.set(current);
    }

    void consumerCreated(FlowControlledConsumer<?, ?> created) {
        consumer.set(created);
    }

    /**
     * How many assignments and revocations there have been: each record is stamped with the count as of the poll that
     * fetched it ({@link InboundRecord#assignment}), so that a consumer can tell a record fetched before a revocation
     * of its partition, still on its way through the pipeline, from one fetched since.
     */
    public long generation() {
        return generation;
    }

    /**
     * The {@link #generation} of the partition's last revocation (0 if it never was): a record of it stamped with an
     * older one ({@link InboundRecord#assignment}) was fetched before, and is its next owner's to read again. Kept
     * here, on the consumer's own thread, before any listener hears of the revocation: so it holds for records of a
     * partition whose consumer has not even seen one yet.
     */
    public long revokedAt(String topic, int partition) {
        return revokedAt.getOrDefault(new TopicPartition(topic, partition), 0L);
    }

    /**
     * Whether the record was fetched before its partition's last revocation ({@link #revokedAt}) and is delivered only
     * now: its partition's owner reads it again from the last commit. Taken in, it would be tracked ahead of the
     * records fetched again, and its acknowledgement would commit past them while they still wait.
     */
    public boolean fetchedBeforeRevocation(InboundRecord record) {
        return record.assignment() < revokedAt(record.topic(), record.partition());
    }

    void assigned(Collection<ReceiverPartition> partitions) {
        generation++;
        Map<String, Set<Integer>> numbers = numbers(partitions);
        assignedListeners.forEach(listener -> listener.accept(numbers));
    }

    void revoked(Collection<ReceiverPartition> partitions) {
        generation++;
        partitions.forEach(partition -> revokedAt.put(partition.topicPartition(), generation));
        Map<String, Set<Integer>> numbers = numbers(partitions);
        revokedListeners.forEach(listener -> listener.accept(numbers));
    }

    private static Map<String, Set<Integer>> numbers(Collection<ReceiverPartition> partitions) {
        return partitions.stream().map(ReceiverPartition::topicPartition).collect(Collectors.groupingBy(
                TopicPartition::topic, Collectors.mapping(TopicPartition::partition, Collectors.toUnmodifiableSet())));
    }
}
