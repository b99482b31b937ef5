package dev.dialer.dispatcher.resilience;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import reactor.core.publisher.SignalType;

/**
 * When a background loop last made progress: what tells a loop that runs from one whose subscription is alive but
 * whose work no longer gets done (a poll, tick or round stuck on the database). Beats from the loop's start; cleared
 * when the loop is stopped. Its age is a gauge, 0 while the loop is stopped; a loop that ended by itself (an error or a
 * completion, which its code never means to happen) is not cleared, so its age grows and its stall alert fires as for
 * a loop that hangs, and it reads stale at once ({@link #staleFor}): nothing will make progress again until a restart.
 */
public class Heartbeat {

    private final Clock clock;
    private volatile Instant last;
    private volatile boolean ended;

    public Heartbeat(Clock clock, MeterRegistry registry, String gauge, String description) {
        this.clock = clock;
        Gauge.builder(gauge, this, Heartbeat::ageSeconds).description(description).baseUnit("seconds")
                .register(registry);
    }

    /** The loop started, or made progress. */
    public void beat() {
        last = clock.instant();
        ended = false;
    }

    /**
     * The loop's subscription ended with {@code signal}: cleared when it was cancelled (stopped at shut-down or by its
     * lifecycle), kept ageing when the loop ended by itself.
     */
    public void stop(SignalType signal) {
        if (signal == SignalType.CANCEL) {
            last = null;
            ended = false;
        } else {
            ended = true;
        }
    }

    /** When the loop last made progress (or started); {@code null} while it is stopped. */
    public Instant last() {
        return last;
    }

    /**
     * Whether the loop has made no progress for {@code staleAfter}, or has ended by itself (however recently: it makes
     * none from then on); false while it is stopped.
     */
    public boolean staleFor(Duration staleAfter) {
        Instant since = last;
        return since != null && (ended || clock.instant().isAfter(since.plus(staleAfter)));
    }

    /** Whether the loop ended by itself (an error or a completion) since it last started. */
    public boolean ended() {
        return ended;
    }

    private double ageSeconds() {
        Instant since = last;
        return since == null ? 0 : Math.max(0, Duration.between(since, clock.instant()).toMillis() / 1000.0);
    }
}
