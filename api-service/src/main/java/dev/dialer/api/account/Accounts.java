package dev.dialer.api.account;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/** Accounts and their keys in the {@code api} schema, with a small cache in front of the per-request key check. */
@Component
public class Accounts {

    private static final Duration CACHE_TTL = Duration.ofSeconds(60);
    private static final int CACHE_MAX = 10_000;

    private final DatabaseClient db;
    private final Map<String, Cached> byKeyHash = new ConcurrentHashMap<>();

    Accounts(DatabaseClient db) {
        this.db = db;
    }

    private record Cached(Account account, long expiresAt) {
    }

    /** The account owning {@code key}, or empty. */
    public Mono<Account> authenticate(String key) {
        String hash = ApiKeys.hash(key);
        Cached cached = byKeyHash.get(hash);
        if (cached != null && cached.expiresAt() > System.nanoTime()) {
            return Mono.just(cached.account());
        }
        return db.sql("""
                        SELECT a.id, a.default_region FROM api.api_keys k JOIN api.accounts a ON a.id = k.account_id
                        WHERE k.key_hash = :hash""")
                .bind("hash", hash)
                .map((row, meta) -> new Account(row.get("id", String.class), row.get("default_region", String.class)))
                .one()
                .doOnNext(account -> remember(hash, account));
    }

    private void remember(String hash, Account account) {
        if (byKeyHash.size() >= CACHE_MAX) {
            byKeyHash.clear(); // crude but bounded: a full cache starts over rather than grow
        }
        byKeyHash.put(hash, new Cached(account, System.nanoTime() + CACHE_TTL.toNanos()));
    }

    /** Creates the account if it is new and adds the key (idempotent). */
    public Mono<Void> ensure(String accountId, String defaultRegion, String key) {
        Mono<Long> account = db.sql("""
                        INSERT INTO api.accounts (id, name, default_region) VALUES (:id, :id, :region)
                        ON CONFLICT (id) DO UPDATE SET default_region = EXCLUDED.default_region""")
                .bind("id", accountId).bind("region", defaultRegion)
                .fetch().rowsUpdated();
        Mono<Long> apiKey = db.sql("""
                        INSERT INTO api.api_keys (key_hash, account_id, label) VALUES (:hash, :id, 'bootstrap')
                        ON CONFLICT (key_hash) DO NOTHING""")
                .bind("hash", ApiKeys.hash(key)).bind("id", accountId)
                .fetch().rowsUpdated();
        return account.then(apiKey).then();
    }
}
