package dev.dialer.dispatcher.retry;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/** Retry schedulers whose claims of due rows a test decides, for tests outside the package (readiness). */
public final class ScriptedRetryScheduler {

    private ScriptedRetryScheduler() {
    }

    /**
     * A scheduler whose claim at each tick is what {@code claim} gives then: empty (nothing due), an error (a database
     * that refuses) or a {@code Mono} that never ends (one that hangs). It has nothing to publish.
     */
    public static RetryScheduler claiming(Supplier<Mono<Void>> claim, RetryProperties properties, Clock clock,
                                          MeterRegistry registry) {
        RetrySchedule schedule = new RetrySchedule(null) {
            @Override
            Mono<List<String>> dueAccounts(Instant dueBy, String after, int most) {
                return claim.get().thenReturn(List.of());
            }
        };
        return new RetryScheduler(schedule, (command, attempt) -> Mono.just(true), record -> Mono.empty(), properties,
                clock, new RetryMetrics(registry), command -> true);
    }
}
