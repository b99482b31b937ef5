package dev.dialer.api;

import dev.dialer.api.account.ApiKeys;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.UUID;

/** Extra accounts for tenant-isolation tests, written straight into the api schema (idempotently). */
final class TestAccounts {

    private TestAccounts() {
    }

    /** Ensures the account exists with the key; answers the key. Call after the context started (Flyway ran). */
    static String ensure(String accountId) throws Exception {
        String key = "dk_" + accountId + "_key_0123456789abcdefghijklmnopqrstuv";
        try (Connection db = RunningApiService.database()) {
            try (PreparedStatement account = db.prepareStatement(
                    "INSERT INTO api.accounts (id, name, default_region) VALUES (?, ?, 'IN') ON CONFLICT DO NOTHING")) {
                account.setString(1, accountId);
                account.setString(2, accountId);
                account.executeUpdate();
            }
            try (PreparedStatement apiKey = db.prepareStatement(
                    "INSERT INTO api.api_keys (key_hash, account_id, label) VALUES (?, ?, 'test') ON CONFLICT DO NOTHING")) {
                apiKey.setString(1, ApiKeys.hash(key));
                apiKey.setString(2, accountId);
                apiKey.executeUpdate();
            }
        }
        return key;
    }

    /** Creates a fresh account and answers its API key. */
    static String another() throws Exception {
        return ensure("other-" + UUID.randomUUID());
    }
}
