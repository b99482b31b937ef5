package dev.dialer.dispatcher.watchdog;

import dev.dialer.dispatcher.resilience.Heartbeat;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import org.springframework.stereotype.Component;
import reactor.core.publisher.SignalType;

/**
 * When the watchdog last finished a poll: what tells a running watchdog from one whose subscription is alive but whose
 * polls no longer happen (a poll stuck on the database or the carrier). Counted from the start until the first poll.
 */
@Component
class WatchdogHeartbeat extends Heartbeat {

    WatchdogHeartbeat(Clock clock, MeterRegistry registry) {
        super(clock, registry, "dialer.dispatcher.watchdog.poll.age",
                "Seconds since the watchdog last finished a poll (0 while it is stopped)");
    }

    /** The watchdog started: its first poll is due within one interval. */
    void started() {
        beat();
    }

    /** A poll finished, whatever it found. */
    void polled() {
        beat();
    }

    /** The watchdog stopped ({@link Heartbeat#stop}). */
    void stopped(SignalType signal) {
        stop(signal);
    }

    /** Whether the watchdog runs and finished a poll (or started) within {@code staleAfter}. */
    boolean freshWithin(Duration staleAfter) {
        return last() != null && !staleFor(staleAfter);
    }
}
