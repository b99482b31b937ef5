package dev.dialer.dispatcher.retry;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The durable retry ladder. Bad values stop the service at start-up.
 *
 * @param minuteLength how long one minute of a request's {@code interval_minutes} is: one minute in production,
 *                     a fraction of a second in demos and tests so a 5-minute interval runs in seconds
 * @param pollInterval how often due retries are looked for; also bounds how late a due retry fires
 * @param lease        how long a claimed row belongs to the dispatcher that claimed it; once it lapses (the
 *                     claimer crashed or is stuck) another dispatcher fires the row again. A tick that has run
 *                     this long is given up
 * @param staleAfter   the {@code retryScheduler} health component ({@code /actuator/health}, not readiness: decision
 *                     0128) goes DOWN when no tick has completed for this long (each one given up or failed): no wait
 *                     ends on this dispatcher then. Longer than {@code lease} plus two {@code poll-interval}s, so that
 *                     one tick given up does not report it DOWN; unset, twice that, and at least two minutes
 * @param batchSize    rows claimed at a time: bounds the work of one claim (a tick claims again while its claims
 *                     come back full)
 * @param carrierUnavailableDelay   how long an attempt no carrier could take (no connection, a 5xx, an open breaker,
 *                                  a full bulkhead: the call was not placed) waits at least before it is dialled again,
 *                                  under the same attempt number; the wait grows with how long it has waited already
 *                                  ({@link #carrierUnavailableWait})
 * @param carrierUnavailableMaxDelay the longest such single wait
 * @param carrierUnavailableMaxWait how long after an attempt was first queued such waits go on; after that it ends
 *                                  {@code failed} with {@code error.code=carrier_error}. Requeues after a carrier's
 *                                  capacity rejections go on as long; after that the request ends {@code exhausted}
 *                                  with {@code error.code=capacity}
 */
@Validated
@ConfigurationProperties("dialer.dispatcher.retry")
public record RetryProperties(
        @DefaultValue("PT1M") @NotNull @DurationMin(millis = 1) Duration minuteLength,
        @DefaultValue("PT1S") @NotNull @DurationMin(millis = 1) Duration pollInterval,
        @DefaultValue("PT30S") @NotNull @DurationMin(seconds = 1) Duration lease,
        Duration staleAfter,
        @DefaultValue("100") @Min(1) @Max(10_000) int batchSize,
        @DefaultValue("PT15S") @NotNull @DurationMin(millis = 1) Duration carrierUnavailableDelay,
        @DefaultValue("PT30M") @NotNull Duration carrierUnavailableMaxWait,
        @DefaultValue("PT5M") @NotNull @DurationMin(millis = 1) Duration carrierUnavailableMaxDelay) {

    public RetryProperties {
        // Derived when unset, so that a longer lease alone never makes the service refuse to start.
        if (staleAfter == null && lease != null && pollInterval != null) {
            Duration twiceATick = lease.plus(pollInterval.multipliedBy(2)).multipliedBy(2);
            staleAfter = twiceATick.compareTo(Duration.ofMinutes(2)) > 0 ? twiceATick : Duration.ofMinutes(2);
        }
        // A tick given up after its lease is followed by the next within a poll interval or two: not yet stale.
        if (staleAfter != null && lease != null && pollInterval != null
                && staleAfter.compareTo(lease.plus(pollInterval.multipliedBy(2))) <= 0) {
            throw new IllegalArgumentException("dialer.dispatcher.retry.stale-after must be longer than lease (" + lease
                    + ") plus two poll-intervals (" + pollInterval + "), was " + staleAfter);
        }
    }

    /**
     * How long an attempt no carrier could take waits this time, having waited {@code waitedSoFar} since it was first
     * queued: as long again (so the waits about double: 15 s, 15 s, 30 s, 60 s, …), but at least
     * {@code carrier-unavailable-delay} and at most {@code carrier-unavailable-max-delay}. A long outage then costs
     * each waiting call a few dials and {@code call.deferred} events, not one every 15 s.
     */
    public Duration carrierUnavailableWait(Duration waitedSoFar) {
        Duration wait = waitedSoFar.compareTo(carrierUnavailableDelay) < 0 ? carrierUnavailableDelay : waitedSoFar;
        return wait.compareTo(carrierUnavailableMaxDelay) > 0 ? carrierUnavailableMaxDelay : wait;
    }
}
