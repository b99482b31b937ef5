package dev.dialer.api.idempotency;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Keeping {@code api.idempotency_keys} to the keys' life (24 hours, part of the API's contract: not configurable).
 *
 * @param pruneEvery how often each instance deletes the keys claimed more than 24 hours ago
 * @param pruneBatch rows one delete statement removes at most; a pass deletes batch after batch until one comes back
 *                   short, so a backlog never holds a long transaction or a lock on many rows at once
 */
@Validated
@ConfigurationProperties("dialer.api.idempotency")
record IdempotencyProperties(@DefaultValue("PT10M") @NotNull Duration pruneEvery,
                             @DefaultValue("1000") @Min(1) @Max(100000) int pruneBatch) {

    IdempotencyProperties {
        if (pruneEvery != null && (pruneEvery.isNegative() || pruneEvery.isZero())) {
            throw new IllegalArgumentException("dialer.api.idempotency.prune-every must be positive");
        }
    }
}
