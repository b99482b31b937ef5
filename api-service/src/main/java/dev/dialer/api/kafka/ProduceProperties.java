package dev.dialer.api.kafka;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * How the API waits for Kafka before it answers.
 *
 * @param ackTimeout longest wait for the broker to acknowledge (acks=all) every record of one request; past it the
 *                   request is answered 503. Also the producer's own delivery timeout, so that it stops trying
 *                   about when the client was told it failed.
 * @param retryAfter what the 503's {@code Retry-After} header advises, in whole seconds
 * @param maxBytesInFlight the records' bytes the service holds, across requests, while they wait for Kafka's
 *                   acknowledgement; a request that would take more is answered 503 at once, nothing of it published
 *                   ({@link AcknowledgedPublisher})
 * @param accountShare the percentage of {@code maxBytesInFlight} one account's sends may hold at once: past it, that
 *                   account's next send is answered 503 at once while the others' still go through
 */
@Validated
@ConfigurationProperties("dialer.api.kafka")
record ProduceProperties(
        @DefaultValue("PT10S") @NotNull Duration ackTimeout,
        @DefaultValue("PT5S") @NotNull Duration retryAfter,
        @DefaultValue("64MB") @NotNull DataSize maxBytesInFlight,
        @DefaultValue("50") @Min(1) @Max(100) int accountShare) {

    /** What one account's sends may hold at once: {@code accountShare} percent of {@code maxBytesInFlight}. */
    long maxBytesPerAccount() {
        return Math.max(1, maxBytesInFlight.toBytes() / 100 * accountShare);
    }

    ProduceProperties {
        if (ackTimeout != null && (ackTimeout.isNegative() || ackTimeout.toMillis() < 100)) {
            throw new IllegalArgumentException("dialer.api.kafka.ack-timeout must be at least 100 ms");
        }
        if (retryAfter != null && retryAfter.isNegative()) {
            throw new IllegalArgumentException("dialer.api.kafka.retry-after must not be negative");
        }
        if (maxBytesInFlight != null && maxBytesInFlight.toBytes() < 1) {
            throw new IllegalArgumentException("dialer.api.kafka.max-bytes-in-flight must be at least 1 byte");
        }
        if (accountShare < 1 || accountShare > 100) {
            throw new IllegalArgumentException("dialer.api.kafka.account-share must be a percentage from 1 to 100");
        }
    }
}
