package dev.dialer.dispatcher.retry;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
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
            Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, int batch,
                                                ScheduledAttempt after) {
                return claim.get().thenMany(Flux.empty());
            }
        };
        return new RetryScheduler(schedule, (command, attempt) -> Mono.just(true), record -> Mono.empty(), properties,
                clock, new RetryMetrics(registry), command -> true);
    }
}
