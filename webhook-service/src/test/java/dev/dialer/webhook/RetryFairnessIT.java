package dev.dialer.webhook;

import static dev.dialer.webhook.ItFixture.WAIT;
import static dev.dialer.webhook.ItFixture.newSecret;
import static dev.dialer.webhook.ItFixture.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.directory.WebhookDirectory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Two accounts' backlogs of due retries to a slow endpoint, each due before a third account's single retry to a fast
 * one, all real: the third account's retry is delivered while the slow endpoint still holds every try it was sent,
 * and the backlogs are delivered once it answers. The poller has eight slots, and each account four per endpoint.
 *
 * <p>The service runs on a database of its own on the shared server. The poller under test claims every due row of its
 * table, whatever its account, so due rows other test classes left in the shared one would take slots of their own
 * here (a hook's try to an address that never answers, for up to the 60 s the slow endpoint needs); scoping the
 * poller's claims to this test's accounts would no longer test the poller, and emptying the shared table would
 * destroy other classes' rows.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=webhook-service",
        "dialer.webhook.retry.concurrency=8",
        // The slow endpoint answers only when the test lets it: its tries must not time out before.
        "dialer.webhook.delivery.total-timeout=60s",
        "dialer.webhook.health.disable-after-failures=100000"})
@ActiveProfiles("it")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class RetryFairnessIT {

    private static final int BACKLOG = 40;
    /** The retries in flight to one endpoint: three quarters of its limit of 4 (the rest kept for first tries). */
    private static final int RETRIES_PER_ENDPOINT = 3;
    private static final byte[] PAYLOAD = "{\"event_type\":\"call.status\"}".getBytes(StandardCharsets.UTF_8);
    private static final String DATABASE = ownDatabase();

    private static HangingEndpoint slow;
    private static WebhookReceiver fast;
    private static ItFixture fixture;

    @Autowired
    WebhookDirectory directory;
    @Autowired
    DatabaseClient database;
    @Autowired
    MeterRegistry meters;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.Endpoints shared = Infrastructure.shared();
        shared.serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
        registry.add("spring.r2dbc.url", () -> inDatabase(shared.r2dbcUrl(), DATABASE));
        registry.add("spring.flyway.url", () -> inDatabase(shared.jdbcUrl(), DATABASE));
    }

    /** Creates a database of the class's own on the shared server; Flyway migrates it as the service starts. */
    private static String ownDatabase() {
        Infrastructure.Endpoints shared = Infrastructure.shared();
        String name = "retry_fairness_" + UUID.randomUUID().toString().replace("-", "");
        try (Connection connection = DriverManager.getConnection(shared.jdbcUrl(), shared.username(),
                shared.password()); Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("could not create database " + name, e);
        }
        return name;
    }

    /** The URL with its database (the path after host and port) replaced; a query string is kept. */
    private static String inDatabase(String url, String database) {
        return url.replaceFirst("^([a-z0-9:]+//[^/]+/)[^?]*", "$1" + database);
    }

    @BeforeAll
    static void start() {
        slow = new HangingEndpoint();
        fast = WebhookReceiver.start();
        fixture = new ItFixture("retry-fairness-it");
    }

    @AfterAll
    static void stop() {
        fixture.close();
        slow.close();
        fast.close();
    }

    @Test
    void anotherAccountsRetryIsDeliveredWhileTwoAccountsBacklogsToASlowEndpointHoldTheirTries() {
        String first = unique("acc");
        String second = unique("acc");
        String other = unique("acc");
        String firstWebhook = webhook(first, slow.url("first"));
        String secondWebhook = webhook(second, slow.url("second"));
        String otherWebhook = webhook(other, fast.url("fast"));
        double refusedBefore = deferred("endpoint_busy");

        // In one statement, so that one claim finds them all: the backlogs' rows come first by due time, in turns.
        database.sql("""
                        INSERT INTO webhook.retries (event_id, event_type, target_kind, target_id, account_id, payload,
                            tries, next_attempt_at)
                        SELECT :first || '-' || g, 'call.status', 'WEBHOOK', :firstWebhook, :first, :payload, 1,
                               now() - interval '1 hour' + g * interval '2 seconds'
                          FROM generate_series(1, :rows) g
                        UNION ALL
                        SELECT :second || '-' || g, 'call.status', 'WEBHOOK', :secondWebhook, :second, :payload, 1,
                               now() - interval '1 hour' + g * interval '2 seconds' + interval '1 second'
                          FROM generate_series(1, :rows) g
                        UNION ALL
                        SELECT :other, 'call.status', 'WEBHOOK', :otherWebhook, :other, :payload, 1,
                               now() - interval '1 minute'""")
                .bind("first", first).bind("firstWebhook", firstWebhook)
                .bind("second", second).bind("secondWebhook", secondWebhook)
                .bind("other", other).bind("otherWebhook", otherWebhook)
                .bind("payload", PAYLOAD).bind("rows", BACKLOG)
                .then().block(Duration.ofSeconds(30));

        await().atMost(WAIT).until(() -> fast.at("fast").size() == 1);
        assertThat(slow.givenUp()).as("served while the slow endpoint's retries hang").isZero();
        await().atMost(WAIT).until(() -> slow.received() == 2 * RETRIES_PER_ENDPOINT);
        assertThat(rowsOf(first) + rowsOf(second)).isEqualTo(2L * BACKLOG);

        slow.release();

        await().atMost(WAIT).until(() -> rowsOf(first) + rowsOf(second) == 0);
        assertThat(slow.answered()).isEqualTo(2 * BACKLOG);
        // No claim took a row its endpoint had no room for.
        assertThat(deferred("endpoint_busy")).isEqualTo(refusedBefore);
    }

    @Test
    void webhooksOfOneAccountOnOneHostShareTheRetriesInFlightTheirEndpointAllows() {
        try (HangingEndpoint shared = new HangingEndpoint()) {
            String account = unique("acc");
            String zap = webhook(account, shared.url("zap"));
            String zip = webhook(account, shared.url("zip"));
            // Their endpoint as webhook-service stores it with a webhook's row: the URL's scheme, host and port.
            URI host = URI.create(shared.url(""));
            String endpoint = host.getScheme() + "://" + host.getHost() + ":" + host.getPort();
            double refusedBefore = deferred("endpoint_busy");

            database.sql("""
                            INSERT INTO webhook.retries (event_id, event_type, target_kind, target_id, endpoint,
                                account_id, payload, tries, next_attempt_at)
                            SELECT :account || '-' || w.id || '-' || g, 'call.status', 'WEBHOOK', w.id, :endpoint,
                                   :account, :payload, 1, now() - interval '1 hour' + g * interval '1 second'
                              FROM generate_series(1, :rows) g CROSS JOIN unnest(CAST(:webhooks AS text[])) AS w(id)""")
                    .bind("account", account).bind("endpoint", endpoint).bind("webhooks", new String[] {zap, zip})
                    .bind("payload", PAYLOAD).bind("rows", 10)
                    .then().block(Duration.ofSeconds(30));

            // Three quarters of the endpoint's 4 for both webhooks together, not three for each (six, of which two
            // would be refused as endpoint_busy and the fourth slot kept for first tries taken).
            await().atMost(WAIT).until(() -> shared.received() == RETRIES_PER_ENDPOINT);
            await().during(Duration.ofSeconds(2)).atMost(WAIT)
                    .until(() -> shared.received() == RETRIES_PER_ENDPOINT);
            assertThat(deferred("endpoint_busy")).isEqualTo(refusedBefore);

            shared.release();
            await().atMost(WAIT).until(() -> rowsOf(account) == 0);
            assertThat(shared.answered()).isEqualTo(20);
            assertThat(deferred("endpoint_busy")).isEqualTo(refusedBefore);
        }
    }

    private long rowsOf(String account) {
        return database.sql("SELECT count(*) AS n FROM webhook.retries WHERE account_id = :account")
                .bind("account", account)
                .map(row -> row.get("n", Long.class))
                .one()
                .block(Duration.ofSeconds(10));
    }

    private double deferred(String reason) {
        Counter counter = meters.find("dialer.webhook.deliveries").tag("outcome", "deferred").tag("target", "webhook")
                .tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    private String webhook(String account, String url) {
        String id = unique("wh");
        fixture.publishWebhook(new WebhookConfig(id, account, url, "fairness", newSecret(), true, Instant.now()));
        await().atMost(WAIT).until(() -> directory.current(id) != null);
        return id;
    }
}
