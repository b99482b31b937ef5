package dev.dialer.dispatcher.retry;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The retry scheduler's ticks, on virtual time. */
class RetrySchedulerTest {

    private final RetryProperties properties = new RetryProperties(Duration.ofMinutes(1), Duration.ofSeconds(1),
            Duration.ofSeconds(30), Duration.ofMinutes(2), 100, Duration.ofSeconds(15), Duration.ofMinutes(30),
            Duration.ofMinutes(5));

    @Test
    void aTickWhoseDatabaseHangsIsGivenUpOnceItsLeaseRanOut() {
        // A claim that neither answers nor fails: a connection gone quiet.
        RetrySchedule hanging = new RetrySchedule(null) {
            @Override
            Flux<ScheduledAttempt> claimDue(Instant now, Duration lease, int batch) {
                return Flux.never();
            }
        };
        RetryScheduler scheduler = new RetryScheduler(hanging, null, record -> Mono.empty(), properties,
                Clock.systemUTC(), new RetryMetrics(new SimpleMeterRegistry()), command -> true);

        StepVerifier.withVirtualTime(scheduler::fireDue)
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(29))
                .thenAwait(Duration.ofSeconds(1))
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }
}
