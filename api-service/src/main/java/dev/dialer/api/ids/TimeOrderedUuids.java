package dev.dialer.api.ids;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.UUID;

/**
 * Time-ordered UUIDs (RFC 9562 version 7): 48 bits of Unix milliseconds, then 74 random bits. Ids made later sort
 * after earlier ones (as text too: the hex digits of a fixed-width big-endian time), so rows keyed by them are
 * appended at the end of a B-tree instead of at a random leaf. A send gets one, and its calls ids made from it (below):
 * without an {@code Idempotency-Key} drawn for the request, with one drawn when the key is claimed, so that a retry
 * reproduces it (a key claimed before decision 0086 keeps its name-based ids, {@code NameBasedUuids}).
 * A call id grants nothing (every read checks the account), but its random bits come from a {@link SecureRandom}
 * all the same: ids seen must not tell the next ones, which a callback forged with a carrier's secret would need.
 *
 * <p>The calls of one send share a <em>send id</em>, a version 7 UUID whose last {@value #INDEX_BITS} bits are
 * zero, and each call's id is the send id with its recipient's index in those bits ({@link #ofRecipient}). A call's
 * id therefore names the send it came in and its place there ({@link #sendOf}, {@link #indexOf}): the API records a
 * send once, not each of its calls (decision 0086). 58 random bits per millisecond and send remain.
 */
public final class TimeOrderedUuids {

    private TimeOrderedUuids() {
    }

    /** Bits at the end of a call's id that hold its recipient's index in its send. */
    public static final int INDEX_BITS = 16;
    /** Recipients one send's ids can number. */
    public static final int MAX_RECIPIENTS = 1 << INDEX_BITS;
    private static final long INDEX_MASK = MAX_RECIPIENTS - 1;
    private static final SecureRandom RANDOM = new SecureRandom();

    public static UUID v7() {
        return v7(Clock.systemUTC().millis());
    }

    /** A new send id: time-ordered, its last {@value #INDEX_BITS} bits zero. */
    public static UUID send() {
        return sendOf(v7());
    }

    /** The id of the call of {@code send} (a send id) for the recipient at {@code index} (from 0). */
    public static UUID ofRecipient(UUID send, int index) {
        if (index < 0 || index >= MAX_RECIPIENTS) {
            throw new IllegalArgumentException("a send numbers at most " + MAX_RECIPIENTS + " recipients: " + index);
        }
        return new UUID(send.getMostSignificantBits(), (send.getLeastSignificantBits() & ~INDEX_MASK) | index);
    }

    /** The send id that {@code id} was made from by {@link #ofRecipient}, if it was. */
    public static UUID sendOf(UUID id) {
        return new UUID(id.getMostSignificantBits(), id.getLeastSignificantBits() & ~INDEX_MASK);
    }

    /** The recipient index that {@code id} carries, if it was made by {@link #ofRecipient}. */
    public static int indexOf(UUID id) {
        return (int) (id.getLeastSignificantBits() & INDEX_MASK);
    }

    /** Whether {@code id} is a version 7 UUID (of RFC 9562's variant), as every send's and its calls' ids are. */
    public static boolean isTimeOrdered(UUID id) {
        return id.version() == 7 && id.variant() == 2;
    }

    /** {@code text} as a time-ordered id, written as this class writes them (lower case, dashes); else null. */
    public static UUID parse(String text) {
        if (text == null) {
            return null;
        }
        UUID id;
        try {
            id = UUID.fromString(text);
        } catch (IllegalArgumentException notAUuid) {
            return null;
        }
        return isTimeOrdered(id) && id.toString().equals(text) ? id : null;
    }

    static UUID v7(long unixMillis) {
        long high = (unixMillis << 16) | 0x7000L | RANDOM.nextInt(1 << 12);
        long low = (RANDOM.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
        return new UUID(high, low);
    }
}
