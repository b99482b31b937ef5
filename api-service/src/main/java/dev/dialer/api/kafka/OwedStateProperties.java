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
 * @param grace       how long after a change began its row is left to it: the change, and the restatement its own
 *                    process makes at once, each wait at most {@code dialer.api.kafka.ack-timeout} for Kafka. At
 *                    least that time-out, so the producer that has a late record stored or gave it up before another
 *                    instance publishes the object's state
 * @param lease       how long a row a sweeper took is left to it: longer than a restatement lasts (the object's lock,
 *                    then at most {@code ack-timeout} for Kafka), else another instance publishes it too (harmless,
 *                    a second copy of the same state)
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

    /** Checks the times against {@code dialer.api.kafka.ack-timeout}: see {@link #grace} and {@link #lease}. */
    void requireAtLeast(Duration ackTimeout) {
        if (grace.compareTo(ackTimeout) < 0) {
            throw new IllegalArgumentException("dialer.api.owed-states.grace (" + grace + ") must be at least "
                    + "dialer.api.kafka.ack-timeout (" + ackTimeout + ")");
        }
        if (lease.compareTo(ackTimeout) <= 0) {
            throw new IllegalArgumentException("dialer.api.owed-states.lease (" + lease + ") must be longer than "
                    + "dialer.api.kafka.ack-timeout (" + ackTimeout + ")");
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
