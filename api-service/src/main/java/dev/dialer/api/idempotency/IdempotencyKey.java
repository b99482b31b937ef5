package dev.dialer.api.idempotency;

import dev.dialer.api.ids.TimeOrderedUuids;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/**
 * An {@code Idempotency-Key} as its claim holds it.
 *
 * @param value     the client's key
 * @param salt      drawn when the key was claimed (again when an expired key was claimed anew); null for a claim made
 *                  before salts existed. Claims drawn since decision 0086 hold a send id
 *                  ({@link TimeOrderedUuids#send}), earlier ones a random UUID
 * @param claimedAt when the key was claimed (again when an expired key was claimed anew), by the clock of the instance
 *                  that claimed it; null when not known
 */
public record IdempotencyKey(String value, String salt, Instant claimedAt) {

    public IdempotencyKey(String value, String salt) {
        this(value, salt, null);
    }

    /**
     * When the request under {@code key} was accepted, in microseconds (as PostgreSQL and the send API write it): when
     * its key was claimed, so that every try of it (a retry after an ambiguous 503 included) gives its calls the same
     * {@code created_at} as the first try's commands, which the dispatcher keeps; now without a key.
     */
    public static Instant acceptedAt(IdempotencyKey key) {
        Instant at = key == null || key.claimedAt() == null ? Instant.now() : key.claimedAt();
        return at.truncatedTo(ChronoUnit.MICROS);
    }

    /**
     * The send id the request's call ids are made from, when the claim's salt is one (claims drawn since decision
     * 0086); null for an earlier claim, whose ids stay name-based on key and salt ({@link RequestIds#of}) as they were
     * first given.
     */
    public UUID send() {
        UUID drawn = TimeOrderedUuids.parse(salt);
        return drawn != null && TimeOrderedUuids.indexOf(drawn) == 0 ? drawn : null;
    }

    /** The call id of the request's recipient at {@code recipientIndex} (0 for a single call). */
    public String callId(String accountId, int recipientIndex) {
        UUID send = send();
        return send != null ? TimeOrderedUuids.ofRecipient(send, recipientIndex).toString()
                : RequestIds.of(accountId, value, salt, recipientIndex);
    }
}
