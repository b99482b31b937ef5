package dev.dialer.api.account;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Accounts and API key hashes in {@code api.accounts} / {@code api.api_keys}. */
@Repository
class AccountRepository {

    private final DatabaseClient db;

    AccountRepository(DatabaseClient db) {
        this.db = db;
    }

    Mono<Account> findByKeyHash(String keyHash) {
        return db.sql("""
                        SELECT a.id, a.name, a.default_region
                        FROM api.api_keys k JOIN api.accounts a ON a.id = k.account_id
                        WHERE k.key_hash = :hash""")
                .bind("hash", keyHash)
                .map((row, meta) -> new Account(row.get("id", String.class), row.get("name", String.class),
                        row.get("default_region", String.class)))
                .one();
    }

    /** Creates the account, or brings its region and name in line with the configuration. */
    Mono<Long> upsert(Account account) {
        return db.sql("""
                        INSERT INTO api.accounts (id, name, default_region) VALUES (:id, :name, :region)
                        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, default_region = EXCLUDED.default_region""")
                .bind("id", account.id())
                .bind("name", account.name())
                .bind("region", account.defaultRegion())
                .fetch().rowsUpdated();
    }

    /**
     * Deletes the account's keys with this label except {@code keptHash}; answers the deleted hashes. Keys with
     * another label (made otherwise than by this bootstrap) are kept.
     */
    Flux<String> removeOtherKeys(String accountId, String label, String keptHash) {
        return db.sql("""
                        DELETE FROM api.api_keys
                        WHERE account_id = :account AND label = :label AND key_hash <> :kept
                        RETURNING key_hash""")
                .bind("account", accountId)
                .bind("label", label)
                .bind("kept", keptHash)
                .map((row, meta) -> row.get("key_hash", String.class))
                .all();
    }

    /** Adds the key hash if absent; answers the account that owns the hash afterwards. */
    Mono<String> addKey(String accountId, String keyHash, String label) {
        return db.sql("""
                        INSERT INTO api.api_keys (key_hash, account_id, label) VALUES (:hash, :account, :label)
                        ON CONFLICT (key_hash) DO NOTHING""")
                .bind("hash", keyHash)
                .bind("account", accountId)
                .bind("label", label)
                .fetch().rowsUpdated()
                .then(db.sql("SELECT account_id FROM api.api_keys WHERE key_hash = :hash")
                        .bind("hash", keyHash)
                        .map((row, meta) -> row.get("account_id", String.class))
                        .one());
    }
}
