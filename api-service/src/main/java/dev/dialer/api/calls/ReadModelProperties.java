package dev.dialer.api.calls;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The calls read model.
 *
 * @param enabled        whether this instance consumes {@code dialer.call.events} (every instance may: the group
 *                       shares the partitions out)
 * @param consumerGroup  the consumer group; its own, so the read model never competes with webhook delivery
 * @param maxPollRecords records fetched per poll
 * @param keepApplied    how long applied event ids are remembered for de-duplication; longer than the events
 *                       topic's retention
 * @param acceptedWriters statements writing accept-time {@code queued} rows in flight at most; the rows of the
 *                       requests accepted meanwhile wait and go together in the next statement
 * @param acceptedRowsPerStatement about how many accept-time rows one statement writes at most
 * @param staleAfter     health turns DOWN when one event has been in hand (retried) for longer than this
 * @param sendsPruneEvery how often recorded sends whose calls all have a row of their own are deleted
 * @param sendsPruneBatch sends deleted per statement
 * @param retention      how long an ended call is kept after its end (and a recorded send after it was accepted);
 *                       zero keeps them for ever. Longer than the dispatcher's {@code ledger.retention} (30 days by
 *                       default), or a send repeating a forgotten {@code foreign_id} would find the dispatcher still
 *                       holding its request and never be dialled (decision 0105): at least 31 days
 * @param purgeEvery     how often calls past their retention are deleted
 * @param purgeBatch     calls deleted per statement
 */
@Validated
@ConfigurationProperties("dialer.api.read-model")
record ReadModelProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("dialer-api-read-model") @NotBlank String consumerGroup,
        @DefaultValue("200") @Min(1) @Max(5000) int maxPollRecords,
        @DefaultValue("P8D") @NotNull Duration keepApplied,
        @DefaultValue("2") @Min(1) @Max(64) int acceptedWriters,
        @DefaultValue("5000") @Min(1) @Max(100000) int acceptedRowsPerStatement,
        @DefaultValue("PT2M") @NotNull Duration staleAfter,
        @DefaultValue("PT5S") @NotNull Duration sendsPruneEvery,
        @DefaultValue("500") @Min(1) @Max(100000) int sendsPruneBatch,
        @DefaultValue("P90D") @NotNull Duration retention,
        @DefaultValue("PT1M") @NotNull Duration purgeEvery,
        @DefaultValue("1000") @Min(1) @Max(100000) int purgeBatch) {

    /** The shortest retention other than zero: longer than the dispatcher's default ledger retention, 30 days. */
    static final Duration MIN_RETENTION = Duration.ofDays(31);

    ReadModelProperties {
        if (staleAfter != null && staleAfter.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("dialer.api.read-model.stale-after must be at least 1 s");
        }
        if (sendsPruneEvery != null && sendsPruneEvery.compareTo(Duration.ofMillis(100)) < 0) {
            throw new IllegalArgumentException("dialer.api.read-model.sends-prune-every must be at least 100 ms");
        }
        if (retention != null && !retention.isZero() && retention.compareTo(MIN_RETENTION) < 0) {
            throw new IllegalArgumentException("dialer.api.read-model.retention must be zero (keep every call) or at "
                    + "least " + MIN_RETENTION.toDays() + " days, longer than the dispatcher keeps a request "
                    + "(dialer.dispatcher.ledger.retention, 30 days by default); it is " + retention);
        }
        if (purgeEvery != null && purgeEvery.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("dialer.api.read-model.purge-every must be at least 1 s");
        }
    }
}
