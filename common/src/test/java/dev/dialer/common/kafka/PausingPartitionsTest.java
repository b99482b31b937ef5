package dev.dialer.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** One partition whose records do not finish holds back no other partition, however many of its records arrive. */
class PausingPartitionsTest {

    private final List<Long> handledOfPartitionOne = new CopyOnWriteArrayList<>();

    @Test
    void aStuckPartitionsBacklogNeverStopsTheOthers() {
        PausingPartitions partitions = new PausingPartitions("dialer.call.events", 1_000);
        Sinks.Many<InboundRecord> consumer = Sinks.many().unicast().onBackpressureBuffer();
        Disposable running = partitions.handle(consumer.asFlux(), 64,
                        record -> record.partition() == 0 ? Mono.never()
                                : Mono.fromRunnable(() -> handledOfPartitionOne.add(record.offset()))
                                        .thenReturn(record))
                .subscribe();

        // Partition 0's records hang: far more of them than it handles at once, then partition 1's.
        for (long offset = 0; offset < 900; offset++) {
            consumer.tryEmitNext(record(0, offset));
        }
        for (long offset = 0; offset < 10; offset++) {
            consumer.tryEmitNext(record(1, offset));
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> handledOfPartitionOne.size() == 10);
        assertThat(handledOfPartitionOne).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
        // Counted as they arrived, so partition 0's pause sees its whole backlog, not only what it works on.
        assertThat(partitions.unacknowledged(0)).isEqualTo(900);
        running.dispose();
    }

    @Test
    void everyPartitionOfATopicOfMoreThanFlatMapsDefaultConcurrencyIsHandled() {
        PausingPartitions partitions = new PausingPartitions("dialer.call.events", 1_000);
        Sinks.Many<InboundRecord> consumer = Sinks.many().unicast().onBackpressureBuffer();
        List<Integer> handled = new CopyOnWriteArrayList<>();
        // Each partition's stream stays open while the subscription lasts, as with a real consumer.
        Disposable running = partitions.handle(consumer.asFlux(), 1,
                        record -> Mono.fromRunnable(() -> handled.add(record.partition())).thenReturn(record))
                .subscribe();

        for (int partition = 0; partition < 300; partition++) {
            consumer.tryEmitNext(record(partition, 0));
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> handled.size() == 300);
        assertThat(handled).doesNotHaveDuplicates();
        running.dispose();
    }

    @Test
    void oneAtATimeAPartitionsRecordsAreHandledInOrderPastMoreThanTheGroupingsDefaultDemand() {
        PausingPartitions partitions = new PausingPartitions("dialer.webhook.deliveries", 1_000);
        Sinks.Many<InboundRecord> consumer = Sinks.many().unicast().onBackpressureBuffer();
        Disposable running = partitions.handle(consumer.asFlux(), 1,
                        record -> record.partition() == 0 ? Mono.never()
                                : Mono.fromRunnable(() -> handledOfPartitionOne.add(record.offset()))
                                        .thenReturn(record))
                .subscribe();

        // Reactor's grouping asks for 256 records unless told otherwise: a stuck partition's 300 used it all up.
        for (long offset = 0; offset < 300; offset++) {
            consumer.tryEmitNext(record(0, offset));
        }
        for (long offset = 0; offset < 300; offset++) {
            consumer.tryEmitNext(record(1, offset));
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> handledOfPartitionOne.size() == 300);
        assertThat(handledOfPartitionOne).isSorted();
        running.dispose();
    }

    @Test
    void whatWasReceivedOfARevokedPartitionIsNeverAcknowledgedAndItsNextAssignmentStartsAfresh() {
        PausingPartitions partitions = new PausingPartitions("dialer.call.events", 1_000);
        List<String> acknowledged = new CopyOnWriteArrayList<>();
        Sinks.Empty<Void> head = Sinks.empty();
        Sinks.Many<InboundRecord> consumer = Sinks.many().unicast().onBackpressureBuffer();
        Disposable running = partitions.handle(consumer.asFlux(), 1,
                        record -> (record.assignment() == 1 && record.offset() == 0 ? head.asMono()
                                : Mono.<Void>empty()).thenReturn(record))
                .subscribe();
        PartitionFlow flow = partitions.flow();

        flow.assigned(List.of(PartitionFlowTest.partition("dialer.call.events", 0)));
        consumer.tryEmitNext(stamped(0, 1, acknowledged));
        consumer.tryEmitNext(stamped(1, 1, acknowledged));
        flow.revoked(List.of(PartitionFlowTest.partition("dialer.call.events", 0)));
        // Fetched before the revocation, handed over after it.
        consumer.tryEmitNext(stamped(2, 1, acknowledged));
        // The head finishes only now: its partition is another consumer's, which reads it again.
        head.tryEmitEmpty();
        flow.assigned(List.of(PartitionFlowTest.partition("dialer.call.events", 0)));
        consumer.tryEmitNext(stamped(0, 3, acknowledged));
        consumer.tryEmitNext(stamped(1, 3, acknowledged));

        await().atMost(Duration.ofSeconds(10)).until(() -> acknowledged.size() == 2);
        assertThat(acknowledged).containsExactly("0 of assignment 3", "1 of assignment 3");
        running.dispose();
    }

    @Test
    void recordsStillWaitingForTheirTurnWhenTheirPartitionIsRevokedAreNotHandledHere() {
        PausingPartitions partitions = new PausingPartitions("dialer.call.events", 1_000);
        List<Long> handled = new CopyOnWriteArrayList<>();
        Sinks.Empty<Void> head = Sinks.empty();
        Sinks.Many<InboundRecord> consumer = Sinks.many().unicast().onBackpressureBuffer();
        Disposable running = partitions.handle(consumer.asFlux(), 1,
                        record -> Mono.fromRunnable(() -> handled.add(record.offset()))
                                .then(record.offset() == 0 ? head.asMono() : Mono.<Void>empty()).thenReturn(record))
                .subscribe();
        PartitionFlow flow = partitions.flow();
        flow.assigned(List.of(PartitionFlowTest.partition("dialer.call.events", 0)));
        for (long offset = 0; offset < 3; offset++) {
            consumer.tryEmitNext(record(0, offset));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> handled.size() == 1);

        // The partition goes to another consumer while offset 0 is handled and 1 and 2 wait behind it.
        flow.revoked(List.of(PartitionFlowTest.partition("dialer.call.events", 0)));
        head.tryEmitEmpty();
        // A record of another partition gets through: the grouping has moved on.
        consumer.tryEmitNext(record(1, 7));

        await().atMost(Duration.ofSeconds(10)).until(() -> handled.contains(7L));
        assertThat(handled).as("the head finished; those behind it are the next owner's").containsExactly(0L, 7L);
        running.dispose();
    }

    private static InboundRecord stamped(long offset, long assignment, List<String> acknowledged) {
        return new InboundRecord("dialer.call.events", 0, offset, "req", new byte[0], Map.of(),
                () -> acknowledged.add(offset + " of assignment " + assignment), assignment);
    }

    private static InboundRecord record(int partition, long offset) {
        return new InboundRecord("dialer.call.events", partition, offset, "req-" + offset, new byte[0], Map.of(),
                () -> { });
    }
}
