package dev.dialer.simulator;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Random identifiers in UUID form. Not {@link UUID#randomUUID()}: its {@code SecureRandom} may read from
 * {@code /dev/urandom} on an event-loop thread, and simulated call ids need no cryptographic strength.
 */
final class CallIds {

    private CallIds() {
    }

    /** A version-4 (random) UUID string, like jambonz's {@code call_sid}. */
    static String uuid() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long high = (random.nextLong() & ~0xF000L) | 0x4000L;
        long low = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(high, low).toString();
    }

    /** 32 hex digits, the shape of an OpenTelemetry trace id. */
    static String traceId() {
        return uuid().replace("-", "");
    }
}
