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
 * @param retention      how long sent events are kept before they are deleted
 */
@Validated
@ConfigurationProperties("dialer.dispatcher.outbox")
record OutboxProperties(
        @DefaultValue("PT0.5S") @NotNull Duration pollInterval,
        @DefaultValue("500") @Min(1) @Max(10_000) int batchSize,
        @DefaultValue("PT30S") @NotNull Duration publishTimeout,
        @DefaultValue("PT1H") @NotNull Duration retention) {

    OutboxProperties {
        requirePositive("poll-interval", pollInterval);
        requirePositive("publish-timeout", publishTimeout);
        requirePositive("retention", retention);
    }

    private static void requirePositive(String name, Duration value) {
        if (value != null && (value.isNegative() || value.isZero())) {
            throw new IllegalArgumentException("dialer.dispatcher.outbox." + name + " must be positive, was " + value);
        }
    }
}
