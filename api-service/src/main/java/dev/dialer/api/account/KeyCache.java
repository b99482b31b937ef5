package dev.dialer.api.account;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Key hashes and what the database said of each, each trusted for a time-to-live: verified keys and their account,
 * or ({@link UnknownKeys}) hashes it does not know. Bounded: when full, expired entries go first and, if that is not
 * enough, everything (refilling costs one query per active key).
 *
 * @param <V> what is remembered of a key
 */
final class KeyCache<V> {

    private record Entry<V>(V value, Instant expiresAt) {
    }

    private final Map<String, Entry<V>> entries = new ConcurrentHashMap<>();
    private final Duration ttl;
    private final int maxSize;
    private final Clock clock;

    KeyCache(Duration ttl, int maxSize, Clock clock) {
        this.ttl = ttl;
        this.maxSize = maxSize;
        this.clock = clock;
    }

    /** What was put for the key less than the TTL ago, or null. */
    V get(String keyHash) {
        Entry<V> entry = entries.get(keyHash);
        if (entry == null) {
            return null;
        }
        if (!clock.instant().isBefore(entry.expiresAt())) {
            entries.remove(keyHash, entry);
            return null;
        }
        return entry.value();
    }

    void put(String keyHash, V value) {
        if (entries.size() >= maxSize) {
            Instant now = clock.instant();
            entries.values().removeIf(entry -> !now.isBefore(entry.expiresAt()));
            if (entries.size() >= maxSize) {
                entries.clear();
            }
        }
        entries.put(keyHash, new Entry<>(value, clock.instant().plus(ttl)));
    }

    void remove(String keyHash) {
        entries.remove(keyHash);
    }

    int size() {
        return entries.size();
    }
}
