package dev.dialer.api.send;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
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
        return nameBased(NAMESPACE, accountId + "\n" + idempotencyKey + "\n" + recipientIndex).toString();
    }

    static UUID nameBased(UUID namespace, String name) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(ByteBuffer.allocate(16).putLong(namespace.getMostSignificantBits())
                    .putLong(namespace.getLeastSignificantBits()).array());
            byte[] hash = sha1.digest(name.getBytes(StandardCharsets.UTF_8));
            hash[6] = (byte) ((hash[6] & 0x0f) | 0x50);
            hash[8] = (byte) ((hash[8] & 0x3f) | 0x80);
            ByteBuffer bits = ByteBuffer.wrap(hash, 0, 16);
            return new UUID(bits.getLong(), bits.getLong());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is part of every JDK", e);
        }
    }
}
