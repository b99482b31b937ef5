package dev.dialer.webhook;

import static dev.dialer.webhook.ItFixture.command;
import static dev.dialer.webhook.ItFixture.newSecret;
import static dev.dialer.webhook.ItFixture.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Hook;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.directory.WebhookDirectory;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
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
 * PostgreSQL refusing one target's outcome for a while (a full disk, 53100): that target's store step is tried again
 * until it is written, without a second request, and the event's other targets are neither cancelled nor sent the
 * event again; a retry's outcome likewise, within its claim's lease.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=webhook-service",
        // The failed target's retry is due long after the test: its row is still there at the end.
        "dialer.webhook.retry.schedule=0s,1h"})
@ActiveProfiles("it")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class StoreFailureIT {

    /** Store failures before the failed target's retry row is written. */
    private static final int FAILURES = 3;

    private static ItFixture fixture;
    private static WebhookReceiver receiver;

    @Autowired
    DatabaseClient database;
    @Autowired
    WebhookDirectory directory;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
    }

    @BeforeAll
    static void start() {
        fixture = new ItFixture("store-failure-it");
        receiver = WebhookReceiver.start();
    }

    @AfterAll
    static void stop() {
        fixture.close();
        receiver.close();
    }

    @Test
    void aTargetsOutcomeNotStoredIsStoredLaterWithoutSendingTheEventAgainToItsOtherTargets() {
        String account = unique("acc");
        String webhookId = unique("wh");
        String webhookPath = "hooks/" + webhookId;
        String notifyPath = "notify/" + webhookId;
        fixture.publishWebhook(new WebhookConfig(webhookId, account, receiver.url(webhookPath), "test", newSecret(),
                true, Instant.now()));
        await().atMost(ItFixture.WAIT).until(() -> directory.find(webhookId, Duration.ZERO).blockOptional()
                .isPresent());
        // Failing however often it is tried: a try made again would not end in a retry row either.
        receiver.answer(notifyPath, 500, 500, 500, 500, 500, 500, 500, 500);
        String requestId = unique("req");
        CallEvent event = CallEvent.about(command(requestId, account, webhookId,
                new Hook(receiver.url(notifyPath), "POST"))).sequence(1).status(AttemptStatus.RINGING).build();
        String trigger = "store_failure_" + Long.toHexString(System.nanoTime());
        failRetryRows(trigger, event.eventId());
        try {
            fixture.publishEvents(requestId, List.of(event));

            await().atMost(ItFixture.WAIT).until(() -> retryRows(event.eventId()) == 1);
            assertThat(failures(trigger)).isGreaterThan(FAILURES);
            // Each handling of the record again would have sent the event again (its backoff starts at 200 ms).
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5))
                    .until(() -> receiver.at(webhookPath).size() == 1);
            assertThat(receiver.at(notifyPath)).hasSize(1);
        } finally {
            dropFailures(trigger);
        }
    }

    @Test
    void aRetrysOutcomeNotStoredIsStoredLaterWithoutTryingTheRetryAgain() {
        String account = unique("acc");
        String notifyPath = "notify/" + unique("retried");
        // The first try fails; the retry, and any try after it, is answered 200.
        receiver.answer(notifyPath, 500);
        String requestId = unique("req");
        CallEvent event = CallEvent.about(command(requestId, account, null, new Hook(receiver.url(notifyPath), "POST")))
                .sequence(1).status(AttemptStatus.RINGING).build();
        fixture.publishEvents(requestId, List.of(event));
        await().atMost(ItFixture.WAIT).until(() -> retryRows(event.eventId()) == 1);
        String trigger = "store_failure_" + Long.toHexString(System.nanoTime());
        failRetryRows(trigger, event.eventId(), "DELETE", "OLD");
        try {
            execute("UPDATE webhook.retries SET next_attempt_at = now() WHERE event_id = '" + event.eventId() + "'");

            // Stored within the claim's lease (81 s): claimed again only after it, the retry would still be there.
            await().atMost(Duration.ofSeconds(30)).until(() -> retryRows(event.eventId()) == 0);
            assertThat(failures(trigger)).isGreaterThan(FAILURES);
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5))
                    .until(() -> receiver.at(notifyPath).size() == 2);
        } finally {
            dropFailures(trigger);
        }
    }

    /** The event's retry rows fail as on a full disk, the first {@value #FAILURES} times; counted in a sequence. */
    private void failRetryRows(String name, String eventId) {
        failRetryRows(name, eventId, "INSERT", "NEW");
    }

    /**
     * The {@code operation} ({@code INSERT}, {@code DELETE}) of the event's retry rows fails as on a full disk, the first
     * {@value #FAILURES} times; counted in a sequence. {@code row} is the trigger's row: {@code NEW} or {@code OLD}.
     */
    private void failRetryRows(String name, String eventId, String operation, String row) {
        execute("CREATE SEQUENCE webhook." + name);
        execute("CREATE FUNCTION webhook." + name + "() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                + "BEGIN\n"
                + "  IF " + row + ".event_id = '" + eventId + "' AND nextval('webhook." + name + "') <= " + FAILURES
                + " THEN\n"
                + "    RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100';\n"
                + "  END IF;\n"
                + "  RETURN " + row + ";\n"
                + "END $$");
        execute("CREATE TRIGGER " + name + " BEFORE " + operation + " ON webhook.retries FOR EACH ROW EXECUTE FUNCTION "
                + "webhook." + name + "()");
    }

    private void dropFailures(String trigger) {
        execute("DROP TRIGGER IF EXISTS " + trigger + " ON webhook.retries");
        execute("DROP FUNCTION IF EXISTS webhook." + trigger + "()");
        execute("DROP SEQUENCE IF EXISTS webhook." + trigger);
    }

    private long failures(String name) {
        return database.sql("SELECT last_value AS n FROM webhook." + name)
                .map(row -> row.get("n", Long.class))
                .one()
                .block(Duration.ofSeconds(10));
    }

    private long retryRows(String eventId) {
        return database.sql("SELECT count(*) AS n FROM webhook.retries WHERE event_id = :eventId "
                        + "AND target_kind = 'NOTIFY'")
                .bind("eventId", eventId)
                .map(row -> row.get("n", Long.class))
                .one()
                .block(Duration.ofSeconds(10));
    }

    private void execute(String sql) {
        database.sql(sql).fetch().rowsUpdated().block(Duration.ofSeconds(10));
    }
}
