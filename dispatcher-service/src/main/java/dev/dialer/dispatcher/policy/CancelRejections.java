package dev.dialer.dispatcher.policy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/**
 * Ids of {@code call.cancel_rejected} events: name-based (RFC 4122 version 5) on the control's id and the request's,
 * so acting on one control again for one request yields the same id, which the outbox stores once.
 */
final class CancelRejections {

    /** The namespace of these ids (a fixed random UUID). */
    static final UUID NAMESPACE = UUID.fromString("3b9a1f52-8c4e-4d0b-a6e7-91c2d54f0e38");

    private CancelRejections() {
    }

    static String eventId(String controlId, String requestId) {
        return nameBased(controlId + "\n" + requestId).toString();
    }

    private static UUID nameBased(String name) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(ByteBuffer.allocate(16).putLong(NAMESPACE.getMostSignificantBits())
                    .putLong(NAMESPACE.getLeastSignificantBits()).array());
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
