package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.kafka.InboundRecord;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** One partition whose records do not finish holds back no other partition, however many of its records arrive. */
class PerPartitionTest {

    private final Map<Integer, InOrderAcknowledger> acknowledgers = new ConcurrentHashMap<>();
    private final List<Long> handledOfPartitionOne = new CopyOnWriteArrayList<>();

    @Test
    void aStuckPartitionsBacklogNeverStopsTheOthers() {
        Sinks.Many<InboundRecord> consumer = Sinks.many().unicast().onBackpressureBuffer();
        Disposable running = CallEventConsumer.perPartition(consumer.asFlux(),
                        number -> acknowledgers.computeIfAbsent(number, n -> new InOrderAcknowledger(
                                CallEventConsumer.MAX_UNACKNOWLEDGED_PER_PARTITION, () -> { }, () -> { })), 2,
                        record -> record.partition() == 0 ? Mono.never()
                                : Mono.fromRunnable(() -> handledOfPartitionOne.add(record.offset()))
                                        .thenReturn(record))
                .subscribe();

        // Partition 0's endpoint hangs: far more of its records than it handles at once, then partition 1's.
        for (long offset = 0; offset < 900; offset++) {
            consumer.tryEmitNext(record(0, offset));
        }
        for (long offset = 0; offset < 10; offset++) {
            consumer.tryEmitNext(record(1, offset));
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> handledOfPartitionOne.size() == 10);
        assertThat(handledOfPartitionOne).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
        // Counted as they arrived, so partition 0's pause sees its whole backlog, not only what it works on.
        assertThat(acknowledgers.get(0).unacknowledged()).isEqualTo(900);
        running.dispose();
    }

    private static InboundRecord record(int partition, long offset) {
        return new InboundRecord("dialer.call.events", partition, offset, "req-" + offset, new byte[0], Map.of(),
                () -> { });
    }
}
