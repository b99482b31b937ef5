package dev.dialer.api;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * DNC entries written straight into the api schema as a change writes them: with the account's count in
 * {@code api.dnc_counts} moved by the rows inserted (decision 0155), which the DNC limit reads. An entry written
 * without it would leave the count short, and a later delete would take it below the list.
 */
final class DncRows {

    private DncRows() {
    }

    /**
     * Inserts the numbers (E.164) with the reason and moves the account's count by them, in one statement of
     * {@code db}'s transaction.
     */
    static void insert(Connection db, String account, String reason, String... numbers) throws SQLException {
        try (PreparedStatement insert = db.prepareStatement("""
                WITH added AS (
                    INSERT INTO api.dnc (account_id, number, reason)
                    SELECT ?, u.number, ? FROM unnest(?::text[]) AS u(number)
                    RETURNING account_id)
                INSERT INTO api.dnc_counts (account_id, entries)
                SELECT account_id, count(*) FROM added GROUP BY account_id
                ON CONFLICT (account_id) DO UPDATE SET entries = api.dnc_counts.entries + EXCLUDED.entries""")) {
            insert.setString(1, account);
            insert.setString(2, reason);
            insert.setArray(3, db.createArrayOf("text", numbers));
            insert.executeUpdate();
        }
    }

    /** {@link #insert(Connection, String, String, String...)} on a connection of its own, committed. */
    static void insert(String account, String reason, String... numbers) throws SQLException {
        try (Connection db = RunningApiService.database()) {
            insert(db, account, reason, numbers);
        }
    }

    /** The account's count of entries as the limit check reads it: 0 without a row. */
    static long counted(String account) throws SQLException {
        return single("SELECT coalesce((SELECT entries FROM api.dnc_counts WHERE account_id = ?), 0)", account);
    }

    /** The account's entries, counted. */
    static long rows(String account) throws SQLException {
        return single("SELECT count(*) FROM api.dnc WHERE account_id = ?", account);
    }

    private static long single(String query, String account) throws SQLException {
        try (Connection db = RunningApiService.database(); PreparedStatement statement = db.prepareStatement(query)) {
            statement.setString(1, account);
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                return rows.getLong(1);
            }
        }
    }
}
