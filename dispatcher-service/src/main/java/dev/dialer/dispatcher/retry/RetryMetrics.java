package dev.dialer.dispatcher.retry;

import dev.dialer.dispatcher.resilience.Heartbeat;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import org.springframework.stereotype.Component;

/**
 * {@code dialer.dispatcher.retries} by {@code stage} and {@code reason}, the reason of the {@code dispatch.schedule}
 * row counted ({@link RetrySchedule#REASONS}: {@code retry}, {@code capacity}, {@code parked}, {@code window},
 * {@code paused}, {@code cap}). The stages: {@code scheduled} (an attempt ended and its next one was written to the
 * schedule; counted for retries alone, the other waits show in {@link ScheduleBacklog}'s gauges), {@code fired} (a
 * row's wait ended and its command was published), {@code dropped} (the request no longer wanted it when the wait
 * ended), {@code held} (due, but left in the schedule a while longer because no carrier of its route takes calls:
 * every breaker open), {@code still_paused} (a call waiting for its campaign's resume, kept because the campaign is
 * still paused), {@code stalled} (due, but left in the schedule because its commands partition took no command in
 * time: that partition's leader is away, or it lacks in-sync replicas; claimable again when the first row left for
 * it can be). Every stage carries the reason, because Prometheus takes the series of one name only with the same
 * labels; and because the scheduler fires every kind of wait, {@code fired} compares with {@code scheduled} only
 * for {@code reason="retry"}. Counters are registered up front for the reasons each stage can meet, so that
 * dashboards see zeros rather than missing series.
 *
 * <p>{@code dialer.dispatcher.retry.lateness}: how long after its due time a wait (a retry, a window, a capacity
 * requeue, a parked call) was published, which grows when the schedule falls behind, and counted from the due time
 * the wait first had: a row held for want of a carrier is due again a few seconds later each time, and an hour of
 * holds shows as an hour late. {@code dialer.dispatcher.retry.progress.age}: seconds since the scheduler last
 * completed a tick.
 */
@Component
public class RetryMetrics {

    private static final String RETRIES = "dialer.dispatcher.retries";
    private static final String RETRY = "retry";
    private static final String PAUSED = "paused";

    private final MeterRegistry registry;
    private final Timer lateness;

    RetryMetrics(MeterRegistry registry) {
        this.registry = registry;
        count("scheduled", RETRY, 0);
        for (String reason : RetrySchedule.REASONS) {
            count("fired", reason, 0);
            count("dropped", reason, 0);
            count("held", reason, 0);
            count("stalled", reason, 0);
        }
        count("still_paused", PAUSED, 0);
        this.lateness = Timer.builder("dialer.dispatcher.retry.lateness")
                .description("time from the due time a scheduled wait first had to its command being published")
                .register(registry);
    }

    /** An attempt ended and its retry was written to the schedule (reason {@code retry}). */
    public void scheduled() {
        count("scheduled", RETRY, 1);
    }

    /** A row of {@code reason} was published {@code late} after the due time its wait first had. */
    void fired(String reason, Duration late) {
        count("fired", reason, 1);
        lateness.record(late.isNegative() ? Duration.ZERO : late);
    }

    void dropped(String reason) {
        count("dropped", reason, 1);
    }

    void held(String reason) {
        count("held", reason, 1);
    }

    /** A row was left in the schedule for a later tick: its commands partition took no command in time. */
    void stalled(String reason) {
        count("stalled", reason, 1);
    }

    /** A call waiting for its campaign's resume was looked at and kept: the campaign is still paused. */
    void stillPaused(String reason) {
        count("still_paused", reason, 1);
    }

    private void count(String stage, String reason, double amount) {
        registry.counter(RETRIES, "stage", stage, "reason", reason).increment(amount);
    }

    /** The scheduler's progress, its age the gauge {@code dialer.dispatcher.retry.progress.age}. */
    Heartbeat progress(Clock clock) {
        return new Heartbeat(clock, registry, "dialer.dispatcher.retry.progress.age",
                "Seconds since the retry scheduler last completed a tick (0 while it is stopped)");
    }
}
