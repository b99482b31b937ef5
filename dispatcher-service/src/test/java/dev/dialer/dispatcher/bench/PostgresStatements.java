package dev.dialer.dispatcher.bench;

import dev.dialer.infra.EmbeddedPostgresServer;
import dev.dialer.infra.Infrastructure;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * PostgreSQL's own account of the statements a benchmark ran ({@code pg_stat_statements}), per dial: which statements
 * the server spends its time on. Asked for with {@code -Dbench.statements=true}, which loads the extension into the
 * embedded server (so it must be asked before the server starts: {@link #requestBeforeStart()}).
 */
final class PostgresStatements {

    private static final boolean ENABLED = Boolean.getBoolean("bench.statements");

    private PostgresStatements() {
    }

    static void requestBeforeStart() {
        if (ENABLED) {
            System.setProperty(EmbeddedPostgresServer.SETTING_PREFIX + "shared_preload_libraries",
                    "pg_stat_statements");
        }
    }

    /** Forgets what was counted so far (the warm-up). */
    static void reset(Infrastructure.Endpoints infra) {
        if (ENABLED) {
            execute(infra, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()");
        }
    }

    /** The statements by total execution time since {@link #reset}, with their calls and time per dial. */
    static List<String> report(Infrastructure.Endpoints infra, long dials) {
        List<String> lines = new ArrayList<>();
        if (!ENABLED || dials <= 0) {
            return lines;
        }
        try (Connection connection = DriverManager.getConnection(infra.jdbcUrl(), infra.username(), infra.password());
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("""
                     SELECT calls, total_exec_time, rows, shared_blks_hit + shared_blks_read, wal_records,
                            sum(total_exec_time) OVER (), query
                       FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25""")) {
            while (rows.next()) {
                String query = rows.getString(7).replaceAll("\\s+", " ");
                lines.add(String.format("%5.2f calls/dial %7.1f µs/dial (%4.1f %%) %6.1f µs/call %5.1f rows/call "
                                + "%6.1f blocks/call %5.1f WAL records/call | %s",
                        rows.getLong(1) / (double) dials, rows.getDouble(2) * 1000 / dials,
                        100 * rows.getDouble(2) / rows.getDouble(6), rows.getDouble(2) * 1000 / rows.getLong(1),
                        rows.getLong(3) / (double) rows.getLong(1), rows.getLong(4) / (double) rows.getLong(1),
                        rows.getLong(5) / (double) rows.getLong(1),
                        query.length() > 220 ? query.substring(0, 220) + "…" : query));
            }
            tables(connection, lines);
        } catch (SQLException e) {
            lines.add("statements unavailable: " + e.getMessage());
        }
        return lines;
    }

    /**
     * The dispatcher's tables as the server counts them: rows written, how many updates stayed on their page (heap
     * only: no index entry written), dead rows waiting for vacuum, and vacuums run. Counted since the server started.
     */
    private static void tables(Connection connection, List<String> lines) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("""
                     SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del, n_live_tup, n_dead_tup,
                            autovacuum_count
                       FROM pg_stat_user_tables WHERE schemaname = 'dispatch' AND n_tup_ins > 0
                      ORDER BY n_tup_upd + n_tup_ins DESC""")) {
            while (rows.next()) {
                lines.add(String.format("table %s: %d inserted, %d updated (%d %% on their page), %d deleted; %d live, "
                                + "%d dead, %d autovacuums", rows.getString(1), rows.getLong(2), rows.getLong(3),
                        rows.getLong(3) == 0 ? 0 : 100 * rows.getLong(4) / rows.getLong(3), rows.getLong(5),
                        rows.getLong(6), rows.getLong(7), rows.getLong(8)));
            }
        }
    }

    private static void execute(Infrastructure.Endpoints infra, String sql) {
        try (Connection connection = DriverManager.getConnection(infra.jdbcUrl(), infra.username(), infra.password());
             Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot reset pg_stat_statements", e);
        }
    }
}
