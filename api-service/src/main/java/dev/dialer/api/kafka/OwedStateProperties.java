package dev.dialer.api.kafka;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The states api-service owes to Kafka ({@code api.owed_states}, decision 0129) and the sweeper every instance runs
 * to publish them.
 *
 * @param sweep       whether this instance sweeps; the rows are written and deleted by the changes all the same
 * @param sweepEvery  how often the instance looks for rows due
 * @param grace       how long after a change began its row is left to it: at least the longest a record handed to
 *                    the producer may still take to land ({@code max.block.ms} + {@code delivery.timeout.ms}, both
 *                    from {@code dialer.api.kafka.ack-timeout}: about twice it), so that a change whose process stops
 *                    just after its hand-off has its late record stored or given up before another instance
 *                    publishes the object's state. A change that rolls back after its hand-off writes a row of its
 *                    own, due that long after the rollback
 * @param lease       how long a row a sweeper took is left to it: longer than a restatement lasts (the object's lock,
 *                    then the producer storing or giving up its records, at most that same time), else another
 *                    instance publishes it too (harmless, a second copy of the same state)
 * @param firstRetry  the wait after a restatement failed, doubled after each further failure
 * @param maxRetry    the longest wait between two restatements of one row
 * @param batch       rows one sweep takes at most
 * @param concurrency restatements one instance runs at once; each holds a database connection and its object's
 *                    lock until Kafka acknowledged
 */
@Validated
@ConfigurationProperties("dialer.api.owed-states")
record OwedStateProperties(
        @DefaultValue("true") boolean sweep,
        @DefaultValue("PT5S") @NotNull Duration sweepEvery,
        @DefaultValue("PT30S") @NotNull Duration grace,
        @DefaultValue("PT2M") @NotNull Duration lease,
        @DefaultValue("PT5S") @NotNull Duration firstRetry,
        @DefaultValue("PT5M") @NotNull Duration maxRetry,
        @DefaultValue("50") @Min(1) @Max(1000) int batch,
        @DefaultValue("4") @Min(1) @Max(64) int concurrency) {

    OwedStateProperties {
        positive("sweep-every", sweepEvery);
        positive("grace", grace);
        positive("lease", lease);
        positive("first-retry", firstRetry);
        positive("max-retry", maxRetry);
        if (firstRetry != null && maxRetry != null && maxRetry.compareTo(firstRetry) < 0) {
            throw new IllegalArgumentException("dialer.api.owed-states.max-retry must not be less than first-retry");
        }
    }

    /**
     * Checks the times against the longest a record handed to the producer may take to land: see {@link #grace} and
     * {@link #lease}.
     */
    void requireAtLeast(Duration longestLanding) {
        if (grace.compareTo(longestLanding) < 0) {
            throw new IllegalArgumentException("dialer.api.owed-states.grace (" + grace + ") must be at least the "
                    + "longest a record handed to the producer may take to land (" + longestLanding + ", about twice "
                    + "dialer.api.kafka.ack-timeout)");
        }
        if (lease.compareTo(longestLanding) <= 0) {
            throw new IllegalArgumentException("dialer.api.owed-states.lease (" + lease + ") must be longer than the "
                    + "longest a record handed to the producer may take to land (" + longestLanding + ", about twice "
                    + "dialer.api.kafka.ack-timeout)");
        }
    }

    RestatementBackoff backoff() {
        return new RestatementBackoff(firstRetry, maxRetry);
    }

    private static void positive(String name, Duration value) {
        if (value != null && (value.isNegative() || value.isZero())) {
            throw new IllegalArgumentException("dialer.api.owed-states." + name + " must be positive");
        }
    }
}
