package dev.dialer.api.delivery;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The delivery log (read from {@code dialer.webhook.deliveries}) and replays.
 *
 * @param consume          whether this instance keeps the delivery log; off only where no broker is reachable
 * @param groupId          the consumer group: the api-service instances share the work
 * @param maxPollRecords   records fetched per poll
 * @param maxReplayRange   longest {@code from}..{@code to} a replay may cover (webhook-service keeps events about a
 *                         week)
 * @param maxReplayEvents  most {@code event_ids} in one replay
 * @param replayClockSkew  how far past this instance's clock a replay's {@code from} or {@code to} may lie (a
 *                         client's clock may run ahead); a later one is refused, never stored for webhook-service
 * @param retention        how long the log keeps an attempt (by when it was made); older ones are pruned
 * @param pruneEvery       how often an instance prunes the log
 * @param pruneBatch       attempts deleted per statement, so that no pass holds many locks or a long transaction
 * @param staleAfter       health turns DOWN when one attempt has been in hand (retried) for longer than this
 */
@Validated
@ConfigurationProperties("dialer.api.deliveries")
record DeliveryProperties(
        @DefaultValue("true") boolean consume,
        @DefaultValue("api-service-delivery-log") @NotBlank String groupId,
        @DefaultValue("500") @Min(1) @Max(10_000) int maxPollRecords,
        @DefaultValue("P7D") @NotNull Duration maxReplayRange,
        @DefaultValue("1000") @Min(1) @Max(100_000) int maxReplayEvents,
        @DefaultValue("PT5M") @NotNull Duration replayClockSkew,
        @DefaultValue("P30D") @NotNull Duration retention,
        @DefaultValue("PT10M") @NotNull Duration pruneEvery,
        @DefaultValue("1000") @Min(1) @Max(100_000) int pruneBatch,
        @DefaultValue("PT2M") @NotNull Duration staleAfter) {

    DeliveryProperties {
        if (maxReplayRange != null && (maxReplayRange.isNegative() || maxReplayRange.isZero())) {
            throw new IllegalArgumentException("dialer.api.deliveries.max-replay-range must be positive");
        }
        if (replayClockSkew != null
                && (replayClockSkew.isNegative() || replayClockSkew.compareTo(Duration.ofDays(1)) > 0)) {
            throw new IllegalArgumentException("dialer.api.deliveries.replay-clock-skew must be from 0 to 1 day");
        }
        if (retention != null && retention.compareTo(Duration.ofHours(1)) < 0) {
            throw new IllegalArgumentException("dialer.api.deliveries.retention must be at least 1 hour");
        }
        if (pruneEvery != null && pruneEvery.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("dialer.api.deliveries.prune-every must be at least 1 s");
        }
        if (staleAfter != null && staleAfter.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("dialer.api.deliveries.stale-after must be at least 1 s");
        }
    }
}
