package dev.dialer.dispatcher.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DncEntry;
import dev.dialer.common.kafka.InboundRecord;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** A compacted topic's view: the latest value per key, also while the topic is read again after a failure. */
class CompactedViewTest {

    private static final String KEY = "acc:+4915112345678";

    @Test
    void aReadFromTheBeginningAgainAfterAFailureNeverShowsAnOlderValue() {
        List<InboundRecord> history = List.of(
                record(0, entry("first")),
                record(1, null),
                record(2, entry("again")));
        AtomicInteger reads = new AtomicInteger();
        // The first read fails after the whole history; the second, from the beginning, stops after its first record.
        CompactedView<DncEntry> view = new CompactedView<>("dnc", DncEntry.class, () -> reads.incrementAndGet() == 1
                ? Flux.fromIterable(history).concatWith(Flux.error(new IllegalStateException("consumer failed")))
                : Flux.just(history.get(0)).concatWith(Flux.never()), Mono.empty(), false, new SimpleMeterRegistry());

        Disposable following = view.follow().subscribe();
        try {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> reads.get() == 2);

            assertThat(view.get(KEY)).as("the latest value, not the first one read again").isNotNull()
                    .extracting(DncEntry::reason).isEqualTo("again");
        } finally {
            following.dispose();
        }
    }

    private static DncEntry entry(String reason) {
        return new DncEntry(DncEntry.VERSION, "acc", "+4915112345678", reason, Instant.parse("2026-11-01T00:00:00Z"));
    }

    private static InboundRecord record(long offset, DncEntry value) {
        return new InboundRecord("dialer.dnc", 0, offset, KEY, value == null ? null : Contract.toBytes(value),
                Map.of(), () -> { });
    }
}
