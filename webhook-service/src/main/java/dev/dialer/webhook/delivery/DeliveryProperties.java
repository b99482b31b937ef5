package dev.dialer.webhook.delivery;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.time.Duration;
import java.util.List;
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
 * @param hookSecret     {@code whsec_} secret that signs deliveries to per-request hooks ({@code notify_url},
 *                       {@code action_hook}), which have no secret of their own; unset or empty sends them unsigned
 *                       (with a warning at start-up)
 * @param allowedHosts   host names, IP literals and CIDR blocks that may be called although they resolve to a
 *                       loopback, private, link-local or unspecified address; the shipped default allows the local
 *                       machine for the standalone stack, and production should set it empty
 */
@Validated
@ConfigurationProperties(prefix = "dialer.webhook.delivery")
record DeliveryProperties(
        @NotNull @DurationMin(millis = 1) @DefaultValue("5s") Duration connectTimeout,
        @NotNull @DurationMin(millis = 1) @DefaultValue("15s") Duration totalTimeout,
        @Min(1) @Max(10) @DefaultValue("3") int attempts,
        @NotNull @DurationMin(millis = 0) @DurationMax(minutes = 5) @DefaultValue("1s") Duration firstBackoff,
        @NotNull @DurationMin(millis = 0) @DurationMax(minutes = 5) @DefaultValue("10s") Duration lookupWait,
        @Pattern(regexp = "(whsec_[A-Za-z0-9+/=]+)?") String hookSecret,
        @NotNull @DefaultValue List<String> allowedHosts) {

    /** The wait before attempt {@code number + 1}: the first backoff, doubled for each attempt after the first. */
    Duration backoffAfter(int number) {
        return firstBackoff.multipliedBy(1L << Math.min(number - 1, 20));
    }
}
