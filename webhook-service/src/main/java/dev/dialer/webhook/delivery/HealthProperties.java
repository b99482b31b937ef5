package dev.dialer.webhook.delivery;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * When a failing webhook is disabled (410 Gone disables at once), and how long delivery records are kept.
 *
 * @param disableAfterFailures   consecutive failed tries (any event) that disable a webhook...
 * @param disableAfter           ...once the first of them is at least this old
 * @param attemptRetention       how long the delivery log keeps a try
 * @param eventRetention         how long received events are kept for replay
 * @param deadLetterRetention    how long dead letters are kept
 * @param purgeInterval          how often expired rows are deleted
 */
@Validated
@ConfigurationProperties(prefix = "dialer.webhook.health")
record HealthProperties(
        @Min(1) @Max(1_000_000) @DefaultValue("100") int disableAfterFailures,
        @NotNull @DurationMin(millis = 0) @DefaultValue("3d") Duration disableAfter,
        @NotNull @DurationMin(hours = 1) @DefaultValue("30d") Duration attemptRetention,
        @NotNull @DurationMin(hours = 1) @DefaultValue("7d") Duration eventRetention,
        @NotNull @DurationMin(hours = 1) @DefaultValue("30d") Duration deadLetterRetention,
        @NotNull @DurationMin(seconds = 1) @DefaultValue("15m") Duration purgeInterval) {
}
