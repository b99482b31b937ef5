package dev.dialer.api;

import dev.dialer.api.account.ApiKeys;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.UUID;

/** Another account with its own key, written straight into the database, for tenant isolation tests. */
final class TestAccounts {

    private TestAccounts() {
    }

    /** Creates a fresh account and answers its API key. */
    static String another() throws Exception {
        String id = "other-" + UUID.randomUUID();
        String key = ApiKeys.generate();
        try (Connection db = RunningApiService.database();
             PreparedStatement account = db.prepareStatement("INSERT INTO api.accounts (id, name) VALUES (?, ?)");
             PreparedStatement apiKey = db.prepareStatement(
                     "INSERT INTO api.api_keys (key_hash, account_id, label) VALUES (?, ?, 'test')")) {
            account.setString(1, id);
            account.setString(2, id);
            account.executeUpdate();
            apiKey.setString(1, ApiKeys.hash(key));
            apiKey.setString(2, id);
            apiKey.executeUpdate();
        }
        return key;
    }
}
