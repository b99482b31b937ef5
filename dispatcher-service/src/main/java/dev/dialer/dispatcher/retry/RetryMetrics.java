package dev.dialer.dispatcher.retry;

import dev.dialer.dispatcher.resilience.Heartbeat;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import org.springframework.stereotype.Component;

/**
 * {@code dialer.dispatcher.retries} by {@code stage}: {@code scheduled} (an attempt ended and its next one was
 * written to the schedule), {@code fired} (its command was published), {@code dropped} (the request no longer wanted
 * it when the wait ended), {@code held} (due, but left in the schedule a while longer because no carrier of its route
 * takes calls: every breaker open). {@code dialer.dispatcher.retry.lateness}: how long after its due time a wait
 * (a retry, a window, a capacity requeue, a parked call) was published, which grows when the schedule falls behind,
 * and counted from the due time the wait first had: a row held for want of a carrier is due again a few seconds later
 * each time, and an hour of holds shows as an hour late. {@code dialer.dispatcher.retry.progress.age}: seconds since
 * the scheduler last completed a tick.
 */
@Component
public class RetryMetrics {

    private final MeterRegistry registry;
    private final Counter scheduled;
    private final Counter fired;
    private final Counter dropped;
    private final Counter held;
    private final Counter stillPaused;
    private final Timer lateness;

    RetryMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.scheduled = registry.counter("dialer.dispatcher.retries", "stage", "scheduled");
        this.fired = registry.counter("dialer.dispatcher.retries", "stage", "fired");
        this.dropped = registry.counter("dialer.dispatcher.retries", "stage", "dropped");
        this.held = registry.counter("dialer.dispatcher.retries", "stage", "held");
        this.stillPaused = registry.counter("dialer.dispatcher.retries", "stage", "still_paused");
        this.lateness = Timer.builder("dialer.dispatcher.retry.lateness")
                .description("time from the due time a scheduled wait first had to its command being published")
                .register(registry);
    }

    public void scheduled() {
        scheduled.increment();
    }

    void fired(Duration late) {
        fired.increment();
        lateness.record(late.isNegative() ? Duration.ZERO : late);
    }

    void dropped() {
        dropped.increment();
    }

    void held() {
        held.increment();
    }

    /** A call waiting for its campaign's resume was looked at and kept: the campaign is still paused. */
    void stillPaused() {
        stillPaused.increment();
    }

    /** The scheduler's progress, its age the gauge {@code dialer.dispatcher.retry.progress.age}. */
    Heartbeat progress(Clock clock) {
        return new Heartbeat(clock, registry, "dialer.dispatcher.retry.progress.age",
                "Seconds since the retry scheduler last completed a tick (0 while it is not running)");
    }
}
