package dev.dialer.api.idempotency;

/**
 * An {@code Idempotency-Key} as its claim holds it.
 *
 * @param value the client's key
 * @param salt  drawn when the key was claimed (again when an expired key was claimed anew); null for a claim made
 *              before salts existed
 */
public record IdempotencyKey(String value, String salt) {

    /** The call id of the request's recipient at {@code recipientIndex} (0 for a single call). */
    public String callId(String accountId, int recipientIndex) {
        return RequestIds.of(accountId, value, salt, recipientIndex);
    }
}
