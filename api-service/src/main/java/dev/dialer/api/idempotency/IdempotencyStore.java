package dev.dialer.api.idempotency;

import dev.dialer.api.ids.TimeOrderedUuids;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * {@code Idempotency-Key} records in PostgreSQL, shared by every api-service instance and by every endpoint that
 * honours the header. A key is claimed before anything is produced; the stored answer is replayed for a repeat with
 * the same fingerprint (the endpoint and its body); another fingerprint under the same key is a conflict. Keys live
 * {@value #TTL_HOURS} hours; {@link ExpiredKeyPruner} then deletes them.
 *
 * <p>Each claim draws a salt, from which the call ids of the key's request are made ({@link IdempotencyKey#callId}:
 * since decision 0086 a send id, the calls' ids being it with each recipient's index; before, a random UUID that the
 * name-based ids of {@link RequestIds} include): a repeat within the key's life finds the salt and reproduces the
 * ids, while a key claimed again after it expired draws a new one. Without it the ids of a reused key would be those of its first life, which the dispatcher keeps for ever (the
 * first command per id wins), and the new calls would be dropped as duplicates behind a 2xx.
 */
@Component
public class IdempotencyStore {

    /** How many times a claim is tried when the row it met is released before it could be read. */
    private static final int CLAIM_TRIES = 3;

    static final int TTL_HOURS = 24;
    private static final Duration TTL = Duration.ofHours(TTL_HOURS);

    private final DatabaseClient db;
    private final boolean sendIdSalts;

    IdempotencyStore(DatabaseClient db, IdempotencyProperties properties) {
        this.db = db;
        this.sendIdSalts = properties.sendIdSalts();
    }

    /** What a request under a key should do. */
    public sealed interface Claim permits Proceed, Replay, Conflict {
    }

    /**
     * Produce (first use, a use whose first try never completed, or an expired key).
     *
     * @param salt  the claim's salt, for the call ids; null for a claim made before salts existed
     * @param fresh whether this claim made the row (a first use, or an expired key claimed anew), rather than
     *              finding the row of a try that never stored its answer (it failed, or is still running) and may
     *              have produced
     * @param claimedAt when the row was claimed (the first try's claim, for a try that found it), by the claiming
     *                  instance's clock
     */
    public record Proceed(String salt, boolean fresh, Instant claimedAt) implements Claim {

        public Proceed(String salt, boolean fresh) {
            this(salt, fresh, null);
        }
    }

    /** Answer with the stored response. */
    public record Replay(String response) implements Claim {
    }

    /** The key was used with another fingerprint. */
    public record Conflict() implements Claim {
    }

    /**
     * Claims {@code key} for a fingerprint. A first try that claimed the key but never stored its answer (it failed,
     * or is still running) lets the repeat proceed with the same salt: the request ids are made from it
     * ({@link IdempotencyKey#callId}), so producing again cannot create a second call.
     */
    public Mono<Claim> claim(String accountId, String key, String fingerprint) {
        return claim(accountId, key, fingerprint, CLAIM_TRIES);
    }

    /**
     * One try: insert the claim, else read the row that holds the key. A row that is gone by the time it is read was
     * a refused request's claim, released in between: the key is free again, so the claim is tried anew (a few times,
     * then it is an error: never an empty answer).
     */
    private Mono<Claim> claim(String accountId, String key, String fingerprint, int triesLeft) {
        // A new send id: the call ids of a claim's request are made from it (IdempotencyKey#send, decision 0086).
        String salt = sendIdSalts ? TimeOrderedUuids.send().toString() : UUID.randomUUID().toString();
        return db.sql("""
                        INSERT INTO api.idempotency_keys (account_id, key, body_sha256, salt, created_at)
                        VALUES (:account, :key, :hash, :salt, :claimedAt)
                        ON CONFLICT (account_id, key) DO UPDATE
                            SET body_sha256 = EXCLUDED.body_sha256, response = NULL, created_at = EXCLUDED.created_at,
                                salt = EXCLUDED.salt, joined = false
                            WHERE api.idempotency_keys.created_at < now() - make_interval(secs => :ttl)
                        RETURNING created_at""")
                .bind("account", accountId).bind("key", key).bind("hash", fingerprint).bind("salt", salt)
                // This instance's clock, as a request without a key takes its created_at from (not PostgreSQL's).
                .bind("claimedAt", OffsetDateTime.ofInstant(Instant.now().truncatedTo(ChronoUnit.MICROS),
                        ZoneOffset.UTC))
                .bind("ttl", (double) TTL.toSeconds())
                .map((row, meta) -> row.get("created_at", OffsetDateTime.class))
                .first()
                .<Claim>map(claimedAt -> new Proceed(salt, true, claimedAt.toInstant()))
                .switchIfEmpty(Mono.defer(() -> existing(accountId, key, fingerprint)))
                .switchIfEmpty(Mono.defer(() -> triesLeft > 1 ? claim(accountId, key, fingerprint, triesLeft - 1)
                        : Mono.error(new IllegalStateException("Idempotency-Key claimed and released again "
                                + CLAIM_TRIES + " times in a row"))));
    }

    private Mono<Claim> existing(String accountId, String key, String fingerprint) {
        return db.sql("""
                        SELECT body_sha256, response, salt, created_at FROM api.idempotency_keys
                        WHERE account_id = :account AND key = :key""")
                .bind("account", accountId).bind("key", key)
                .map((row, meta) -> {
                    String hash = row.get("body_sha256", String.class);
                    String response = row.get("response", String.class);
                    if (!fingerprint.equals(hash)) {
                        return (Claim) new Conflict();
                    }
                    return response == null ? (Claim) new Proceed(row.get("salt", String.class), false,
                            row.get("created_at", OffsetDateTime.class).toInstant()) : new Replay(response);
                })
                .one()
                .flatMap(claim -> claim instanceof Proceed proceed ? joined(accountId, key, proceed)
                        : Mono.just(claim));
    }

    /**
     * Marks the claim joined by another try, which goes on under its salt: from then on the try that made it cannot
     * give it up ({@link #release}). Empty when the claim was released or answered since it was read, so that the
     * claim is tried anew.
     */
    private Mono<Claim> joined(String accountId, String key, Proceed proceed) {
        DatabaseClient.GenericExecuteSpec spec = db.sql("""
                        UPDATE api.idempotency_keys SET joined = true
                        WHERE account_id = :account AND key = :key AND response IS NULL
                          AND salt IS NOT DISTINCT FROM :salt
                        RETURNING 1""")
                .bind("account", accountId).bind("key", key);
        spec = proceed.salt() == null ? spec.bindNull("salt", String.class) : spec.bind("salt", proceed.salt());
        return spec.fetch().first().map(updated -> proceed);
    }

    /**
     * Stores the answer to replay; only the first stored answer counts, and only on the claim whose salt the answer's
     * ids were derived with. The row is written again if it is gone: a request that found another try's claim and
     * produced under its salt must leave its answer even when that other try was refused and released the claim
     * meanwhile, or a retry would claim the key afresh, with new ids.
     */
    public Mono<Void> complete(String accountId, String key, String fingerprint, String salt, String response) {
        DatabaseClient.GenericExecuteSpec spec = db.sql("""
                        INSERT INTO api.idempotency_keys (account_id, key, body_sha256, salt, response)
                        VALUES (:account, :key, :hash, :salt, :response)
                        ON CONFLICT (account_id, key) DO UPDATE SET response = EXCLUDED.response
                            WHERE api.idempotency_keys.response IS NULL
                              AND api.idempotency_keys.salt IS NOT DISTINCT FROM EXCLUDED.salt""")
                .bind("response", response).bind("account", accountId).bind("key", key).bind("hash", fingerprint);
        // A key claimed before salts existed has none, and keeps its ids without one.
        spec = salt == null ? spec.bindNull("salt", String.class) : spec.bind("salt", salt);
        return spec.fetch().rowsUpdated().then();
    }

    /**
     * Deletes up to {@code batch} claims made more than {@value #TTL_HOURS} hours ago (oldest first, by the
     * {@code created_at} index); answers how many. Rows another instance is deleting are skipped, and a row claimed
     * anew meanwhile (its {@code created_at} is now) is kept.
     */
    Mono<Long> pruneExpired(int batch) {
        return db.sql("""
                        DELETE FROM api.idempotency_keys k
                        USING (SELECT account_id, key FROM api.idempotency_keys
                               WHERE created_at < now() - make_interval(secs => :ttl)
                               ORDER BY created_at LIMIT :batch
                               FOR UPDATE SKIP LOCKED) expired
                        WHERE k.account_id = expired.account_id AND k.key = expired.key
                          AND k.created_at < now() - make_interval(secs => :ttl)""")
                .bind("ttl", (double) TTL.toSeconds())
                .bind("batch", batch)
                .fetch().rowsUpdated();
    }

    /**
     * Gives up a claim this request made ({@link Proceed#fresh()}) when it was refused before anything was produced,
     * so the key can be used at once with a corrected body: a refusal is not an answer to replay. Only that claim is
     * removed: the row must still hold its salt and no answer, and no other try may have joined it (that try produces
     * under its salt, and may answer 503 without an answer stored: a claim given up then would let a third try queue
     * the recipients again under new ids). The same body refused by one try and accepted by another is rare (each
     * instance's account settings cached for a few seconds, a webhook created in between) but possible.
     */
    public Mono<Void> release(String accountId, String key, String salt) {
        return db.sql("""
                        DELETE FROM api.idempotency_keys
                        WHERE account_id = :account AND key = :key AND salt = :salt AND response IS NULL
                          AND NOT joined""")
                .bind("account", accountId).bind("key", key).bind("salt", salt)
                .fetch().rowsUpdated().then();
    }
}
