package dev.dialer.api.idempotency;

import dev.dialer.api.ids.TimeOrderedUuids;
import java.util.UUID;

/**
 * An {@code Idempotency-Key} as its claim holds it.
 *
 * @param value the client's key
 * @param salt  drawn when the key was claimed (again when an expired key was claimed anew); null for a claim made
 *              before salts existed. Claims drawn since decision 0086 hold a send id ({@link TimeOrderedUuids#send}),
 *              earlier ones a random UUID
 */
public record IdempotencyKey(String value, String salt) {

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
