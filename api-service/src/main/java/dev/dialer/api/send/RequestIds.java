package dev.dialer.api.send;

import dev.dialer.common.id.NameBasedUuids;
import java.util.UUID;

/**
 * Call ids. With an {@code Idempotency-Key} they are name-based (RFC 4122 version 5) on account, key and recipient
 * index, so a client that repeats a request after an ambiguous answer (a 503, a timeout) produces the very same
 * request ids, and the dispatcher's attempt ledger dials each of them once.
 */
final class RequestIds {

    /** The namespace of the dialer's name-based ids (a fixed random UUID). */
    static final UUID NAMESPACE = UUID.fromString("6f1c7c1e-3d0a-4a8e-9b51-2f6a4c3e8d17");

    private RequestIds() {
    }

    static String of(String accountId, String idempotencyKey, int recipientIndex) {
        return NameBasedUuids.v5(NAMESPACE, accountId + "\n" + idempotencyKey + "\n" + recipientIndex).toString();
    }
}
