package dev.dialer.api.kafka;

import java.time.Duration;

/**
 * How long a state owed to Kafka waits after a sweeper's restatement of it failed: {@code first} after the first
 * failure, doubled after each one up to {@code max}. Kafka away for an hour costs a few tries per row, not one a
 * sweep, and a row whose object cannot be read (its reader refuses it) does not crowd out the others.
 */
record RestatementBackoff(Duration first, Duration max) {

    RestatementBackoff {
        if (first.isNegative() || first.isZero() || max.compareTo(first) < 0) {
            throw new IllegalArgumentException("a restatement's backoff needs 0 < first <= max, not " + first + ", "
                    + max);
        }
    }

    /** The wait after the {@code attempts}-th try failed (1 for the first). */
    Duration after(int attempts) {
        int doublings = Math.max(0, attempts - 1);
        if (doublings >= Long.SIZE - 2 || first.toMillis() > max.toMillis() >> doublings) {
            return max;
        }
        return first.multipliedBy(1L << doublings);
    }
}
