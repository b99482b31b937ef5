package dev.dialer.dispatcher.pacing;

/**
 * A token bucket of {@code rate} per second holding at most {@code burst} tokens, kept as the generic cell rate
 * algorithm's theoretical arrival time: one number, no refill timer. Each start is spaced {@code 1/rate} from the
 * previous one, with up to {@code burst} starts allowed back to back after an idle spell; so any one-second window
 * sees at most {@code rate + burst} starts, never the doubled burst a fixed-cycle limiter allows at a cycle boundary.
 *
 * <p>Times are the caller's nanoseconds (a scheduler's {@code now}), so a virtual clock drives it in tests.
 * Thread-safe.
 */
final class PaceBucket {

    private final long intervalNanos;
    private final long toleranceNanos;
    private long theoreticalArrival = Long.MIN_VALUE;

    /**
     * @param perSecond starts per second, above 0
     * @param burst     starts allowed back to back, at least 1
     */
    PaceBucket(double perSecond, int burst) {
        if (!(perSecond > 0) || burst < 1) {
            throw new IllegalArgumentException("rate must be above 0 and burst at least 1");
        }
        this.intervalNanos = Math.max(1, Math.round(1_000_000_000d / perSecond));
        this.toleranceNanos = (burst - 1) * intervalNanos;
    }

    /** The earliest time a start may happen, given {@code now}; reserves nothing. */
    synchronized long earliest(long now) {
        return theoreticalArrival == Long.MIN_VALUE ? now : Math.max(now, theoreticalArrival - toleranceNanos);
    }

    /** Takes the slot at {@code at}, which must be at or after {@link #earliest}. */
    synchronized void take(long at) {
        long base = theoreticalArrival == Long.MIN_VALUE ? at : Math.max(theoreticalArrival, at);
        theoreticalArrival = base + intervalNanos;
    }

    /**
     * Takes the slot at {@code now} if the rate allows it now, as one step (for buckets several threads share).
     *
     * @return {@code now} when taken; otherwise the earliest time to try again
     */
    synchronized long tryTake(long now) {
        long at = earliest(now);
        if (at > now) {
            return at;
        }
        take(now);
        return now;
    }

    /** Whether the bucket is full again at {@code now}: forgetting it then changes nothing. */
    synchronized boolean idleAt(long now) {
        return theoreticalArrival == Long.MIN_VALUE || theoreticalArrival <= now;
    }

    long intervalNanos() {
        return intervalNanos;
    }
}
