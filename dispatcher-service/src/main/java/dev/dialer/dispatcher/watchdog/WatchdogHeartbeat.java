package dev.dialer.dispatcher.watchdog;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.springframework.stereotype.Component;

/**
 * When the watchdog last finished a poll: what tells a running watchdog from one whose subscription is alive but whose
 * polls no longer happen (a poll stuck on the database or the carrier). Counted from the start until the first poll.
 */
@Component
class WatchdogHeartbeat {

    private final Clock clock;
    private volatile Instant last;

    WatchdogHeartbeat(Clock clock, MeterRegistry registry) {
        this.clock = clock;
        Gauge.builder("dialer.dispatcher.watchdog.poll.age", this, WatchdogHeartbeat::ageSeconds)
                .description("Seconds since the watchdog last finished a poll (0 while it is not running)")
                .baseUnit("seconds").register(registry);
    }

    /** The watchdog started: its first poll is due within one interval. */
    void started() {
        last = clock.instant();
    }

    /** A poll finished, whatever it found. */
    void polled() {
        last = clock.instant();
    }

    void stopped() {
        last = null;
    }

    /** When the last poll finished (or the watchdog started); {@code null} while it is not running. */
    Instant last() {
        return last;
    }

    /** Whether the watchdog runs and finished a poll (or started) within {@code staleAfter}. */
    boolean freshWithin(Duration staleAfter) {
        Instant since = last;
        return since != null && !clock.instant().isAfter(since.plus(staleAfter));
    }

    private double ageSeconds() {
        Instant since = last;
        return since == null ? 0 : Math.max(0, Duration.between(since, clock.instant()).toMillis() / 1000.0);
    }
}
