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
 * @param sendIdSalts whether a claim draws a send id as its salt, so the request's calls get ids made from it and a
 *                   keyed send is recorded once (decision 0086); every instance reads both kinds of salt. Off while
 *                   instances from before decision 0086 still serve requests (see the decision): those would derive
 *                   other ids from such a salt on a retry
 */
@Validated
@ConfigurationProperties("dialer.api.idempotency")
record IdempotencyProperties(@DefaultValue("PT10M") @NotNull Duration pruneEvery,
                             @DefaultValue("1000") @Min(1) @Max(100000) int pruneBatch,
                             @DefaultValue("true") boolean sendIdSalts) {

    IdempotencyProperties {
        if (pruneEvery != null && (pruneEvery.isNegative() || pruneEvery.isZero())) {
            throw new IllegalArgumentException("dialer.api.idempotency.prune-every must be positive");
        }
    }
}
