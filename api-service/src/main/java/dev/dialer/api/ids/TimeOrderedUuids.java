package dev.dialer.api.ids;

import java.time.Clock;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Time-ordered UUIDs (RFC 9562 version 7): 48 bits of Unix milliseconds, then 74 random bits. Ids made later sort
 * after earlier ones (as text too: the hex digits of a fixed-width big-endian time), so rows keyed by them are
 * appended at the end of a B-tree instead of at a random leaf. A call accepted without an {@code Idempotency-Key}
 * gets one; a keyed call keeps its name-based id ({@code NameBasedUuids}), which must come out equal on a retry.
 * The random bits are not secret: a call id grants nothing (every read checks the account).
 */
public final class TimeOrderedUuids {

    private TimeOrderedUuids() {
    }

    public static UUID v7() {
        return v7(Clock.systemUTC().millis());
    }

    static UUID v7(long unixMillis) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long high = (unixMillis << 16) | 0x7000L | random.nextInt(1 << 12);
        long low = (random.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
        return new UUID(high, low);
    }
}
