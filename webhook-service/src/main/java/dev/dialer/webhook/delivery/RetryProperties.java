package dev.dialer.webhook.delivery;

import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import java.util.List;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The durable retry schedule ({@code webhook.retries}, see {@link RetryPoller}).
 *
 * @param schedule         when each try is due, counted from the failure before it: the first entry is the first try
 *                         (normally immediately); after the last try fails the delivery goes to the dead letters
 * @param timeUnit         how long one second of {@code schedule}, {@code throttled-minimum} and
 *                         {@code ordering-wait} lasts: {@code 1s} in production; tests compress every wait with
 *                         e.g. {@code 10ms}
 * @param jitter           up to this fraction of a wait is added at random (jitter only ever delays)
 * @param throttledMinimum the least wait after a 429 or a timeout (scaled by {@code time-unit})
 * @param maxRetryAfter    the most an endpoint's {@code Retry-After} may push a try (never scaled)
 * @param orderingWait     how long a later event of a call waits behind an earlier one that is still retrying to the
 *                         same target before it is sent anyway (scaled by {@code time-unit})
 * @param refusalDelay     when a try refused by the endpoint's concurrency limit is tried again, and the least wait
 *                         after a refusal by its open circuit (which waits until the circuit lets a trial through);
 *                         a refusal does not count as a try (never scaled), but a delivery refused after it has
 *                         waited longer than the schedule can last ({@link RetrySchedule#span()}) is dead-lettered
 * @param pollInterval     how often due retries are looked for
 * @param batchSize        retries claimed at once
 * @param concurrency      retries in flight at once on this instance (first tries have their own capacity)
 */
@Validated
@ConfigurationProperties(prefix = "dialer.webhook.retry")
record RetryProperties(
        @NotEmpty @DefaultValue({"0s", "5s", "5m", "30m", "2h", "5h", "10h"}) List<Duration> schedule,
        @NotNull @DurationMin(millis = 1) @DefaultValue("1s") Duration timeUnit,
        @DecimalMin("0.0") @DecimalMax("1.0") @DefaultValue("0.2") double jitter,
        @NotNull @DurationMin(millis = 0) @DefaultValue("60s") Duration throttledMinimum,
        @NotNull @DurationMin(millis = 0) @DefaultValue("24h") Duration maxRetryAfter,
        @NotNull @DurationMin(millis = 0) @DefaultValue("10m") Duration orderingWait,
        @NotNull @DurationMin(millis = 1) @DefaultValue("5s") Duration refusalDelay,
        @NotNull @DurationMin(millis = 10) @DefaultValue("1s") Duration pollInterval,
        @Min(1) @Max(10_000) @DefaultValue("100") int batchSize,
        @Min(1) @Max(10_000) @DefaultValue("64") int concurrency) {

    /** A wait written in schedule seconds, as it really lasts. */
    Duration scaled(Duration nominal) {
        return Duration.ofNanos(Math.round(nominal.toNanos() / 1e9 * timeUnit.toNanos()));
    }
}
