package dev.dialer.dispatcher.event;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The outbox relay.
 *
 * @param pollInterval   how often the relay looks for unsent events besides being woken by new ones (the events of
 *                       other dispatchers, and those left by a crash, are found this way)
 * @param batchSize      most events published in one round
 * @param publishTimeout how long one round's publish may take before it counts as failed (and is repeated)
 * @param roundTimeout   how long one round (its lock, read, publish, marks and commit) may take before it is given up
 *                       and the next round takes its events again: a database connection that hangs without failing
 *                       would otherwise stop the relay for ever. Longer than {@code publish-timeout}; unset, twice
 *                       {@code publish-timeout} (one minute by default)
 * @param staleAfter     the {@code outboxRelay} health component ({@code /actuator/health}, not readiness: decision
 *                       0128) goes DOWN when events are waiting and the outbox has not moved for this long: no round
 *                       of this relay completed, and no other relay was seen to send any. Longer than
 *                       {@code round-timeout}, so one round given up does not report it DOWN; unset, twice
 *                       {@code round-timeout} (two minutes by default)
 * @param retention      how long published events are kept before they are deleted; zero (the default): deleted by
 *                       the statement that records their publication, so an event's row is written once and removed
 *                       once. A positive retention keeps them for inspection, marked sent, and purges them in batches
 *                       that keep up with the rate they are written at
 * @param publishPatience how long a round waits for Kafka to acknowledge each of its events: those it has not by then
 *                       are left unsent (published again later; one may land meanwhile, a copy consumers drop), and
 *                       their partitions of {@code dialer.call.events} are taken as stalled for {@code stalled-hold},
 *                       their events left meanwhile so that the others go on; shorter than {@code publish-timeout};
 *                       unset, five seconds, or half of {@code publish-timeout} when that is shorter
 * @param stalledHold    how long the events of a partition that took none within the patience are left before a round
 *                       tries them again
 */
@Validated
@ConfigurationProperties("dialer.dispatcher.outbox")
record OutboxProperties(
        @DefaultValue("PT0.5S") @NotNull Duration pollInterval,
        @DefaultValue("500") @Min(1) @Max(10_000) int batchSize,
        @DefaultValue("PT30S") @NotNull Duration publishTimeout,
        Duration roundTimeout,
        Duration staleAfter,
        @DefaultValue("PT0S") @NotNull Duration retention,
        Duration publishPatience,
        Duration stalledHold) {

    /** {@code publish-patience} when unset, unless half of {@code publish-timeout} is shorter. */
    static final Duration DEFAULT_PUBLISH_PATIENCE = Duration.ofSeconds(5);
    /** {@code stalled-hold} when unset. */
    static final Duration DEFAULT_STALLED_HOLD = Duration.ofSeconds(30);

    OutboxProperties {
        // Derived when unset, so that a longer publish-timeout alone never makes the service refuse to start.
        if (roundTimeout == null && publishTimeout != null) {
            roundTimeout = publishTimeout.multipliedBy(2);
        }
        if (staleAfter == null && roundTimeout != null) {
            staleAfter = roundTimeout.multipliedBy(2);
        }
        if (publishPatience == null && publishTimeout != null) {
            Duration half = publishTimeout.dividedBy(2);
            publishPatience = half.compareTo(DEFAULT_PUBLISH_PATIENCE) < 0 ? half : DEFAULT_PUBLISH_PATIENCE;
        }
        if (stalledHold == null) {
            stalledHold = DEFAULT_STALLED_HOLD;
        }
        requirePositive("publish-patience", publishPatience);
        requirePositive("stalled-hold", stalledHold);
        requirePositive("poll-interval", pollInterval);
        requirePositive("publish-timeout", publishTimeout);
        if (retention != null && retention.isNegative()) {
            throw new IllegalArgumentException("dialer.dispatcher.outbox.retention must not be negative, was "
                    + retention);
        }
        requireLonger("round-timeout", roundTimeout, "publish-timeout", publishTimeout);
        requireLonger("stale-after", staleAfter, "round-timeout", roundTimeout);
        requireLonger("publish-timeout", publishTimeout, "publish-patience", publishPatience);
    }

    /** Whether published events are kept (marked sent, purged after {@code retention}) rather than deleted. */
    boolean keepsSent() {
        return !retention.isZero();
    }

    private static void requirePositive(String name, Duration value) {
        if (value != null && (value.isNegative() || value.isZero())) {
            throw new IllegalArgumentException("dialer.dispatcher.outbox." + name + " must be positive, was " + value);
        }
    }

    private static void requireLonger(String name, Duration value, String thanName, Duration than) {
        if (value != null && than != null && value.compareTo(than) <= 0) {
            throw new IllegalArgumentException("dialer.dispatcher.outbox." + name + " must be longer than " + thanName
                    + " (" + than + "), was " + value);
        }
    }
}
