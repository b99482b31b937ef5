package dev.dialer.api.send;

import java.time.Duration;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * {@code Idempotency-Key} records in PostgreSQL, shared by every api-service instance. A key is claimed before
 * anything is produced; the stored answer is replayed for a repeat with the same body; another body under the same key
 * is a conflict. Keys live {@value #TTL_HOURS} hours.
 */
@Component
class IdempotencyStore {

    static final int TTL_HOURS = 24;
    private static final Duration TTL = Duration.ofHours(TTL_HOURS);

    private final DatabaseClient db;

    IdempotencyStore(DatabaseClient db) {
        this.db = db;
    }

    /** What a request under a key should do. */
    sealed interface Claim permits Proceed, Replay, Conflict {
    }

    /** Produce (first use, a use whose first try never completed, or an expired key). */
    record Proceed() implements Claim {
    }

    /** Answer with the stored response. */
    record Replay(String response) implements Claim {
    }

    /** The key was used with another body. */
    record Conflict() implements Claim {
    }

    /**
     * Claims {@code key} for a body. A first try that claimed the key but never stored its answer (it failed, or is
     * still running) lets the repeat proceed: the request ids are name-based on the key, so producing again cannot
     * create a second call.
     */
    Mono<Claim> claim(String accountId, String key, String bodySha256) {
        return db.sql("""
                        INSERT INTO api.idempotency_keys (account_id, key, body_sha256) VALUES (:account, :key, :hash)
                        ON CONFLICT (account_id, key) DO UPDATE
                            SET body_sha256 = EXCLUDED.body_sha256, response = NULL, created_at = now()
                            WHERE api.idempotency_keys.created_at < now() - make_interval(secs => :ttl)
                        RETURNING 1""")
                .bind("account", accountId).bind("key", key).bind("hash", bodySha256)
                .bind("ttl", (double) TTL.toSeconds())
                .fetch().first()
                .<Claim>map(inserted -> new Proceed())
                .switchIfEmpty(Mono.defer(() -> existing(accountId, key, bodySha256)));
    }

    private Mono<Claim> existing(String accountId, String key, String bodySha256) {
        return db.sql("SELECT body_sha256, response FROM api.idempotency_keys WHERE account_id = :account AND key = :key")
                .bind("account", accountId).bind("key", key)
                .map((row, meta) -> {
                    String hash = row.get("body_sha256", String.class);
                    String response = row.get("response", String.class);
                    if (!bodySha256.equals(hash)) {
                        return (Claim) new Conflict();
                    }
                    return response == null ? (Claim) new Proceed() : new Replay(response);
                })
                .one();
    }

    /** Stores the answer to replay; only the first stored answer counts. */
    Mono<Void> complete(String accountId, String key, String response) {
        return db.sql("""
                        UPDATE api.idempotency_keys SET response = :response
                        WHERE account_id = :account AND key = :key AND response IS NULL""")
                .bind("response", response).bind("account", accountId).bind("key", key)
                .fetch().rowsUpdated().then();
    }
}
