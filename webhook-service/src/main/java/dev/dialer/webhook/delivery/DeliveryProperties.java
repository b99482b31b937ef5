package dev.dialer.webhook.delivery;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.hibernate.validator.constraints.time.DurationMax;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * How events are delivered to webhook endpoints.
 *
 * @param connectTimeout how long opening a connection to an endpoint may take
 * @param totalTimeout   how long one attempt may take in all: connect, send, answer and draining the answer's body
 * @param attempts       HTTP attempts per event before it is given up (1 means no retry)
 * @param firstBackoff   wait before the second attempt; each further wait doubles
 * @param lookupWait     how long an event waits for its webhook to appear in the directory (a webhook created just
 *                       before a call may still be on its way) before it is skipped as unknown
 */
@Validated
@ConfigurationProperties(prefix = "dialer.webhook.delivery")
record DeliveryProperties(
        @NotNull @DurationMin(millis = 1) @DefaultValue("5s") Duration connectTimeout,
        @NotNull @DurationMin(millis = 1) @DefaultValue("15s") Duration totalTimeout,
        @Min(1) @Max(10) @DefaultValue("3") int attempts,
        @NotNull @DurationMin(millis = 0) @DurationMax(minutes = 5) @DefaultValue("1s") Duration firstBackoff,
        @NotNull @DurationMin(millis = 0) @DurationMax(minutes = 5) @DefaultValue("10s") Duration lookupWait) {

    /** The wait before attempt {@code number + 1}: the first backoff, doubled for each attempt after the first. */
    Duration backoffAfter(int number) {
        return firstBackoff.multipliedBy(1L << Math.min(number - 1, 20));
    }
}
