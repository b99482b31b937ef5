package dev.dialer.api.account;

import java.time.Clock;
import java.time.Duration;

/**
 * Key hashes the database just said it does not know, each remembered for a short time-to-live so that a client
 * repeating a wrong key (or a flood of one) is answered from memory instead of by one query per request. The price:
 * a key written to the database by another process works only once the entry ends (at most the TTL after the key
 * was last tried); a key registered by this process is forgotten here at once. Kept in a {@link KeyCache}, bounded
 * as it is.
 */
final class UnknownKeys {

    private final KeyCache<Boolean> hashes;

    UnknownKeys(Duration ttl, int maxSize, Clock clock) {
        this.hashes = new KeyCache<>(ttl, maxSize, clock);
    }

    /** Whether the database said less than the TTL ago that it does not know this hash. */
    boolean contains(String keyHash) {
        return hashes.get(keyHash) != null;
    }

    void add(String keyHash) {
        hashes.put(keyHash, Boolean.TRUE);
    }

    void forget(String keyHash) {
        hashes.remove(keyHash);
    }

    int size() {
        return hashes.size();
    }
}
