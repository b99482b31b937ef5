package dev.dialer.dispatcher.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.dialer.dispatcher.TestClock;
import dev.dialer.dispatcher.policy.PolicyViewsLifecycle;
import dev.dialer.dispatcher.retry.RetryProperties;
import dev.dialer.dispatcher.retry.RetryScheduler;
import dev.dialer.dispatcher.retry.ScriptedRetryScheduler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The retry scheduler's readiness on virtual time, with claims of due rows that find nothing, fail, or hang: a
 * subscribed pipeline whose ticks never complete is not ready.
 */
class RetrySchedulerHealthIndicatorTest {

    private static final Duration POLL = Duration.ofSeconds(1);
    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final Duration STALE_AFTER = Duration.ofMinutes(2);

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final AtomicReference<Mono<Void>> claim = new AtomicReference<>(Mono.empty());
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final RetryProperties properties = new RetryProperties(Duration.ofMinutes(1), POLL, LEASE, STALE_AFTER,
            100, Duration.ofSeconds(15), Duration.ofMinutes(30), Duration.ofMinutes(5));
    private final RetryScheduler scheduler = ScriptedRetryScheduler.claiming(claim::get, properties,
            TestClock.following(time), meters);
    private final RetrySchedulerLifecycle lifecycle = new RetrySchedulerLifecycle(null, scheduler, policyReadInFull());
    private final RetrySchedulerHealthIndicator indicator =
            new RetrySchedulerHealthIndicator(lifecycle, scheduler, properties);

    private static PolicyViewsLifecycle policyReadInFull() {
        PolicyViewsLifecycle policy = mock(PolicyViewsLifecycle.class);
        when(policy.readInFull()).thenReturn(Mono.empty());
        return policy;
    }

    @AfterEach
    void stop() {
        lifecycle.stop();
        VirtualTimeScheduler.reset();
    }

    @Test
    void isDownUntilThePipelineRuns() {
        assertThat(indicator.health().getStatus()).isEqualTo(Status.DOWN);
    }

    @Test
    void staysUpWhileTicksCompleteFindingNothingDue() {
        start();

        time.advanceTimeBy(STALE_AFTER.multipliedBy(3));

        assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
        assertThat(meters.get("dialer.dispatcher.retry.progress.age").gauge().value()).isZero();
    }

    @Test
    void goesDownOnceTicksHangForStaleAfterAndUpAgainWhenATickCompletes() {
        start();
        time.advanceTimeBy(POLL);
        claim.set(Mono.never());

        // Each hanging tick is given up at its lease, and the next one hangs too.
        time.advanceTimeBy(STALE_AFTER.minusSeconds(1));
        assertThat(indicator.health().getStatus()).as("stale-after has not passed since the last completed tick")
                .isEqualTo(Status.UP);
        time.advanceTimeBy(Duration.ofSeconds(6));
        Health stalled = indicator.health();
        assertThat(stalled.getStatus()).isEqualTo(Status.DOWN);
        assertThat(stalled.getDetails()).containsEntry("lastProgress", "1970-01-01T00:00:01Z")
                .containsEntry("staleAfter", "PT2M");
        assertThat(meters.get("dialer.dispatcher.retry.progress.age").gauge().value()).isEqualTo(125.0);

        claim.set(Mono.empty());
        // The tick hanging now is given up at its lease; the next one completes.
        time.advanceTimeBy(LEASE.plus(POLL.multipliedBy(2)));

        assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
    }

    @Test
    void goesDownOnceEveryTickFailsForStaleAfterAndUpAgainWhenATickCompletes() {
        start();
        time.advanceTimeBy(POLL);
        claim.set(Mono.error(new IllegalStateException("the database refuses connections")));

        time.advanceTimeBy(STALE_AFTER.plusSeconds(5));
        assertThat(indicator.health().getStatus()).isEqualTo(Status.DOWN);

        claim.set(Mono.empty());
        time.advanceTimeBy(POLL);

        assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
    }

    @Test
    void isDownOnceStopped() {
        start();
        time.advanceTimeBy(POLL);

        lifecycle.stop();

        assertThat(indicator.health().getStatus()).isEqualTo(Status.DOWN);
        assertThat(indicator.health().getDetails()).containsEntry("lastProgress", "null");
    }

    private void start() {
        VirtualTimeScheduler.getOrSet(time);
        lifecycle.start();
    }
}
