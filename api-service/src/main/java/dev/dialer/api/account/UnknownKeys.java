package dev.dialer.api.account;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Key hashes the database just said it does not know, each remembered for a short time-to-live so that a client
 * repeating a wrong key (or a flood of one) is answered from memory instead of by one query per request. The price:
 * a key written to the database by another process works only once the entry ends (at most the TTL after the key
 * was last tried); a key registered by this process is forgotten here at once. Bounded like {@link KeyCache}: when
 * full, expired entries go first and, if that is not enough, everything.
 */
final class UnknownKeys {

    private final Map<String, Instant> expiries = new ConcurrentHashMap<>();
    private final Duration ttl;
    private final int maxSize;
    private final Clock clock;

    UnknownKeys(Duration ttl, int maxSize, Clock clock) {
        this.ttl = ttl;
        this.maxSize = maxSize;
        this.clock = clock;
    }

    /** Whether the database said less than the TTL ago that it does not know this hash. */
    boolean contains(String keyHash) {
        Instant expiresAt = expiries.get(keyHash);
        if (expiresAt == null) {
            return false;
        }
        if (!clock.instant().isBefore(expiresAt)) {
            expiries.remove(keyHash, expiresAt);
            return false;
        }
        return true;
    }

    void add(String keyHash) {
        if (expiries.size() >= maxSize) {
            Instant now = clock.instant();
            expiries.values().removeIf(expiresAt -> !now.isBefore(expiresAt));
            if (expiries.size() >= maxSize) {
                expiries.clear();
            }
        }
        expiries.put(keyHash, clock.instant().plus(ttl));
    }

    void forget(String keyHash) {
        expiries.remove(keyHash);
    }

    int size() {
        return expiries.size();
    }
}
