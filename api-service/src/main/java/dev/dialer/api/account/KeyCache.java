package dev.dialer.api.account;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Verified key hashes and their account, each trusted for a time-to-live. Only verified keys enter, so its size
 * follows the number of active keys; still bounded: when full, expired entries go first and, if that is not
 * enough, everything (refilling costs one query per active key).
 */
final class KeyCache {

    private record Entry(Account account, Instant expiresAt) {
    }

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final Duration ttl;
    private final int maxSize;
    private final Clock clock;

    KeyCache(Duration ttl, int maxSize, Clock clock) {
        this.ttl = ttl;
        this.maxSize = maxSize;
        this.clock = clock;
    }

    /** The account of a key verified less than the TTL ago, or null. */
    Account get(String keyHash) {
        Entry entry = entries.get(keyHash);
        if (entry == null) {
            return null;
        }
        if (!clock.instant().isBefore(entry.expiresAt())) {
            entries.remove(keyHash, entry);
            return null;
        }
        return entry.account();
    }

    void put(String keyHash, Account account) {
        if (entries.size() >= maxSize) {
            Instant now = clock.instant();
            entries.values().removeIf(entry -> !now.isBefore(entry.expiresAt()));
            if (entries.size() >= maxSize) {
                entries.clear();
            }
        }
        entries.put(keyHash, new Entry(account, clock.instant().plus(ttl)));
    }

    void remove(String keyHash) {
        entries.remove(keyHash);
    }

    int size() {
        return entries.size();
    }
}
