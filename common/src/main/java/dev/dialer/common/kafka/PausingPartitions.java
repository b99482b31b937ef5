package dev.dialer.common.kafka;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A subscription's partitions handled side by side, each acknowledged in offset order ({@link InOrderAcknowledger}),
 * and a partition whose records do not finish paused alone once {@code high} of them wait, so that it holds back
 * neither the other partitions nor the memory: its records stop coming while the others go on.
 *
 * <p>A record is counted as it arrives from the consumer, before the records are grouped by partition, and the
 * grouping asks the consumer for records without a bound of its own. Counted in its group instead, a stuck partition's
 * records piled up there unseen until the grouping's bounded demand ran out, and every partition stopped.
 */
public final class PausingPartitions {

    private final String topic;
    private final int high;
    private final PartitionFlow flow = new PartitionFlow().onAssigned(this::assigned).onRevoked(this::revoked);
    private final Map<Integer, InOrderAcknowledger> acknowledgers = new ConcurrentHashMap<>();

    /**
     * @param topic the subscription's one topic
     * @param high  records of a partition received and not finished at which it stops fetching (about a poll more may
     *              arrive), as it does at {@link InOrderAcknowledger#FINISHED_FACTOR} times as many received and not
     *              acknowledged; it fetches again at half
     */
    public PausingPartitions(String topic, int high) {
        this.topic = topic;
        this.high = high;
    }

    /** The flow to subscribe with ({@link KafkaSubscriber#receive}), through which partitions are paused. */
    public PartitionFlow flow() {
        return flow;
    }

    /**
     * Each partition's records handled by {@code work} up to {@code inFlight} at once (1: one after the other, in
     * order), finishing in any order and acknowledged in order; {@code work} emits the record when its handling is
     * durable, and must not acknowledge it itself. A record still waiting for its turn when its partition is revoked is
     * dropped unhandled (its partition's next owner reads it again); one being handled then finishes.
     *
     * <p>Every partition the consumer is ever given is handled at once, however many the topic has: a partition's
     * stream lasts as long as the subscription (it takes the partition back after a revocation), so a bound on the
     * streams at once left the partitions past it unread for good, their lag growing and nothing else saying so.
     */
    public Flux<InboundRecord> handle(Flux<InboundRecord> records, int inFlight,
                                      Function<InboundRecord, Mono<InboundRecord>> work) {
        return records
                // Fetched before its partition was revoked: the partition's owner reads it again.
                .filter(record -> !flow.fetchedBeforeRevocation(record))
                .map(record -> {
                    InOrderAcknowledger acknowledger = acknowledger(record.partition());
                    acknowledger.received(record);
                    return new Tracked(record, acknowledger);
                })
                .groupBy(tracked -> tracked.record().partition(), Integer.MAX_VALUE)
                // Done with the acknowledger that received it: after a revocation, another's. One whose turn comes
                // after its partition was revoked is not handled at all: its next owner reads it again from the last
                // commit, and handling it here too would race that owner (a call's events sent out of order).
                .flatMap(partition -> partition.flatMap(tracked -> tracked.acknowledger().isRevoked() ? Mono.empty()
                        : work.apply(tracked.record()).doOnNext(tracked.acknowledger()::done), inFlight),
                        Integer.MAX_VALUE)
                .doFinally(signal -> acknowledgers.clear());
    }

    private record Tracked(InboundRecord record, InOrderAcknowledger acknowledger) {
    }

    /** Records of {@code partition} received and not acknowledged yet. */
    public int unacknowledged(int partition) {
        InOrderAcknowledger acknowledger = acknowledgers.get(partition);
        return acknowledger == null ? 0 : acknowledger.unacknowledged();
    }

    private InOrderAcknowledger acknowledger(int partition) {
        return acknowledgers.computeIfAbsent(partition, number -> new InOrderAcknowledger(high,
                () -> flow.pause(topic, number).subscribe(),
                () -> flow.resume(topic, number).subscribe()));
    }

    /**
     * Revoked partitions start afresh if they come back: what was received of them is their next owner's to read
     * again, never acknowledged here, and a pause held for it is lifted.
     */
    private void revoked(Map<String, Set<Integer>> partitions) {
        partitions.getOrDefault(topic, Set.of()).forEach(number -> {
            InOrderAcknowledger gone = acknowledgers.remove(number);
            if (gone != null && gone.revoke()) {
                flow.resume(topic, number).subscribe();
            }
        });
    }

    /** A new consumer (after a failure) fetches every partition: the pauses still needed are made again. */
    private void assigned(Map<String, Set<Integer>> partitions) {
        partitions.getOrDefault(topic, Set.of()).forEach(number -> {
            InOrderAcknowledger acknowledger = acknowledgers.get(number);
            if (acknowledger != null) {
                acknowledger.assigned();
            }
        });
    }
}
