package dev.dialer.api.idempotency;

import dev.dialer.common.id.NameBasedUuids;
import java.util.UUID;

/**
 * Call ids that a repeated request must reproduce. A recipient with a {@code foreign_id} gets one name-based (RFC 4122
 * version 5) on account, {@code foreign_id} and number, with or without an {@code Idempotency-Key}; any other
 * recipient of a request under a key claimed before decision 0086 gets one name-based on account, key, the salt drawn
 * when the key was claimed, and recipient index (later claims make their ids from the send id they draw:
 * {@link IdempotencyKey#callId}). A client that repeats a request after an ambiguous answer (a 503, a timeout) therefore produces
 * the very same request ids (for a {@code foreign_id}, whatever key the repeat carries), and the dispatcher's attempt
 * ledger (the first command per id wins) dials each of them once.
 *
 * <p>The names never coincide: their last line is the salt (a UUID, with dashes) for a keyed id, the recipient index
 * (digits) for a keyed id claimed before salts existed, and the number in E.164 (a '+') for a {@code foreign_id}'s.
 * A key is a header value, which holds no line break.
 */
public final class RequestIds {

    /** The namespace of the dialer's name-based ids (a fixed random UUID). */
    static final UUID NAMESPACE = UUID.fromString("6f1c7c1e-3d0a-4a8e-9b51-2f6a4c3e8d17");

    private RequestIds() {
    }

    /**
     * The id of a keyed request's recipient.
     *
     * @param salt the salt the key's claim holds; null for a claim made before salts, whose ids are derived without
     *             one, as they were when it was made
     */
    public static String of(String accountId, String idempotencyKey, String salt, int recipientIndex) {
        String name = accountId + "\n" + idempotencyKey + "\n" + recipientIndex;
        return NameBasedUuids.v5(NAMESPACE, salt == null ? name : name + "\n" + salt).toString();
    }

    /**
     * The id of the one call an account places for a {@code foreign_id} and number ({@code foreign_id}
     * de-duplication keeps one request per pair).
     */
    public static String ofForeignId(String accountId, String foreignId, String calleeE164) {
        return NameBasedUuids.v5(NAMESPACE, accountId + "\n" + foreignId + "\n" + calleeE164).toString();
    }
}
