package dev.dialer.dispatcher.attempt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.infra.Infrastructure;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * The upgrade to the live column (migrations V61–V63, decision 0143) on a ledger that holds attempts already, on the
 * real PostgreSQL: in a database of its own, migrated to V60 first, as a dispatcher of the version before left it.
 */
class LiveAttemptsUpgradeIT {

    private final Infrastructure.Endpoints infra = Infrastructure.shared();

    @Test
    void existingAttemptsAreLiveByTheirStatusAndTheRebuiltIndexesKeepOneLiveAttemptARequest() throws SQLException {
        String database = "upgrade_" + UUID.randomUUID().toString().replace("-", "");
        execute(infra.jdbcUrl(), "CREATE DATABASE " + database);
        String url = infra.jdbcUrl().replaceFirst("/[^/?]+(\\?|$)", "/" + database + "$1");
        try {
            flyway(url, "60").migrate();
            execute(url, """
                    INSERT INTO dispatch.requests (request_id, account_id, caller_id, command)
                    VALUES ('ringing', 'acc', '+4930555005', '{}'), ('ended', 'acc', '+4930555005', '{}'),
                           ('queued', 'acc', '+4930555005', '{}');
                    INSERT INTO dispatch.attempts (request_id, attempt_no, status, carrier_asked_at, updated_at)
                    VALUES ('ringing', 1, 'ringing', now() - interval '3 hours', now() - interval '3 hours'),
                           ('ended', 1, 'completed', now() - interval '3 hours', now() - interval '3 hours'),
                           ('queued', 1, 'queued', NULL, now())""");

            flyway(url, "latest").migrate();

            assertThat(query(url, "SELECT request_id || '=' || live FROM dispatch.attempts ORDER BY request_id"))
                    .containsExactly("ended=false", "queued=true", "ringing=true");
            assertThat(query(url, """
                    SELECT c.relname || '/' || i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                     WHERE i.indrelid = 'dispatch.attempts'::regclass ORDER BY c.relname"""))
                    .containsExactly("attempts_by_call/true", "attempts_live_a_request/true",
                            "attempts_live_by_ask/true", "attempts_pkey/true");
            assertThatThrownBy(() -> execute(url, """
                    INSERT INTO dispatch.attempts (request_id, attempt_no, status) VALUES ('ringing', 2, 'queued')"""))
                    .as("a second live attempt of a request").hasMessageContaining("attempts_live_a_request");
            execute(url, """
                    INSERT INTO dispatch.attempts (request_id, attempt_no, status) VALUES ('ended', 2, 'queued')""");
            assertThat(query(url, """
                    SELECT request_id FROM dispatch.attempts
                     WHERE live AND carrier_asked_at IS NOT NULL AND carrier_asked_at < now() - interval '2 hours'
                       AND updated_at < now() - interval '2 hours'"""))
                    .as("what the watchdog would claim").containsExactly("ringing");
        } finally {
            execute(infra.jdbcUrl(), "DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        }
    }

    private Flyway flyway(String url, String target) {
        return Flyway.configure()
                .dataSource(url, infra.username(), infra.password())
                .locations("classpath:db/migration/dispatch")
                .schemas("dispatch")
                .defaultSchema("dispatch")
                .target(target)
                // As the service runs it (dispatcher-service.yml): V62 and V63 build and drop indexes CONCURRENTLY.
                .configuration(Map.of("flyway.postgresql.transactional.lock", "false"))
                .load();
    }

    private void execute(String url, String sql) throws SQLException {
        try (Connection connection = DriverManager.getConnection(url, infra.username(), infra.password());
             Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    private List<String> query(String url, String sql) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection connection = DriverManager.getConnection(url, infra.username(), infra.password());
             Statement statement = connection.createStatement();
             ResultSet result = statement.executeQuery(sql)) {
            while (result.next()) {
                rows.add(result.getString(1));
            }
        }
        return rows;
    }
}
