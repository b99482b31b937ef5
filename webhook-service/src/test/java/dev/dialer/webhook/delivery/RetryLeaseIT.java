package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.WebhookApplication;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Two claims of one retry row, the first outliving its lease: the late holder's outcome changes nothing, the newer
 * holder's stands. The service's own poller claims once at start and then not for an hour, so that the test's claims
 * are the only ones.
 */
@SpringBootTest(classes = WebhookApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.config.name=webhook-service", "dialer.webhook.retry.poll-interval=1h"})
@ActiveProfiles("it")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class RetryLeaseIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final HeldTargets.Held NONE_HELD = HeldTargets.Held.none();
    private static final RetriesInFlight.Room ROOM = RetriesInFlight.Room.empty(16, 64);
    /** Before any other row's due time, so that a claim of one row takes this one. */
    private static final Instant LONG_DUE = Instant.parse("2001-01-01T00:00:00Z");

    @Autowired
    RetryStore store;
    @Autowired
    DatabaseClient database;
    @Autowired
    MeterRegistry registry;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
    }

    @Test
    void aTryThatOutlivedItsLeaseWritesNothingOverTheNewerClaim() {
        pollerDone();
        DeliveryTask stored = stored();
        DeliveryTask late = claimOne(Duration.ofMillis(200));
        assertThat(late.eventId()).isEqualTo(stored.eventId());
        await().atMost(WAIT).until(() -> leaseRanOut(late));
        DeliveryTask newer = claimOne(Duration.ofSeconds(80));
        assertThat(newer.id()).isEqualTo(late.id());
        double lostBefore = leasesLost();

        store.save(late, 1, Instant.now().plusSeconds(3600), null).block(WAIT);
        store.deadLetter(late, 1, Reason.HTTP_STATUS).block(WAIT);
        store.remove(late).block(WAIT);

        assertThat(row(newer)).isEqualTo("0:" + newer.lease());
        assertThat(deadLetters(newer)).isZero();
        assertThat(leasesLost() - lostBefore).isEqualTo(3);

        store.save(newer, 1, LONG_DUE, null).block(WAIT);
        assertThat(row(newer)).isEqualTo("1:null");
        // Due and unleased: gone, so that no other test's claim can take it for its own.
        database.sql("DELETE FROM webhook.retries WHERE id = :id").bind("id", newer.id()).then().block(WAIT);
    }

    /**
     * PostgreSQL sends the first rows of a large result before the statement's transaction commits. A try that wrote
     * its outcome on such a row at once (a refusal takes milliseconds) matched the row as it was before the claim:
     * "lease lost", the row left leased for the whole lease. Here the claim's commit is slowed by a deferred trigger
     * and its rows are large, and each claimed row is removed the moment it is handed on: every remove must find it.
     */
    @Test
    void aClaimHandsItsRowsOnOnlyOnceItsLeasesAreCommitted() {
        pollerDone();
        database.sql("""
                CREATE OR REPLACE FUNCTION webhook.lease_it_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_sleep(0.05); RETURN NULL; END $$""").then().block(WAIT);
        database.sql("""
                CREATE CONSTRAINT TRIGGER lease_it_slow_commit AFTER UPDATE ON webhook.retries
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook.lease_it_slow_commit()""")
                .then().block(WAIT);
        try {
            String account = "acc-" + UUID.randomUUID();
            List<DeliveryTask> stored = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                stored.add(stored(account, "{\"padding\":\"" + "x".repeat(6_000) + "\"}"));
            }
            double lostBefore = leasesLost();

            List<DeliveryTask> removed = store.claim(stored.size(), Duration.ofSeconds(80), NONE_HELD, ROOM)
                    .concatMap(task -> store.remove(task).thenReturn(task))
                    .collectList().block(WAIT);

            assertThat(removed).as("the claim took rows of its own").isNotEmpty()
                    .extracting(DeliveryTask::accountId).contains(account);
            assertThat(leasesLost() - lostBefore).as("every claimed row removed by its claim's lease").isZero();
            assertThat(removed).allSatisfy(task -> assertThat(row(task)).isNull());
        } finally {
            database.sql("DROP TRIGGER lease_it_slow_commit ON webhook.retries").then().block(WAIT);
            database.sql("DROP FUNCTION webhook.lease_it_slow_commit()").then().block(WAIT);
        }
    }

    /**
     * The service's poller claims once when it starts, then not for an hour: once that claim (of nothing: the table
     * holds no due row of this class yet) has ended, the rows stored here are the test's own to claim.
     */
    private void pollerDone() {
        ServicesOwnClaim.awaitEnded(registry);
    }

    @Test
    void theHolderOfTheLeaseRemovesOrDeadLettersItsRow() {
        pollerDone();
        stored();
        DeliveryTask delivered = claimOne(Duration.ofSeconds(80));
        store.remove(delivered).block(WAIT);
        assertThat(row(delivered)).isNull();

        stored();
        DeliveryTask dead = claimOne(Duration.ofSeconds(80));
        store.deadLetter(dead, 3, Reason.HTTP_STATUS).block(WAIT);
        assertThat(row(dead)).isNull();
        assertThat(deadLetters(dead)).isEqualTo(1);
    }

    /** A hook delivery stored due long ago, so that it is the first a claim takes. */
    private DeliveryTask stored() {
        return stored("acc-" + UUID.randomUUID(), "{}");
    }

    private DeliveryTask stored(String account, String payload) {
        DeliveryTask task = DeliveryTask.first(UUID.randomUUID().toString(), "call.status",
                new Target(Target.Kind.NOTIFY, Target.Kind.NOTIFY.tag(), "https://example.com/lease", "POST", null),
                null, account, payload.getBytes(StandardCharsets.UTF_8), null);
        store.save(task, 0, LONG_DUE, null).block(WAIT);
        return task;
    }

    private DeliveryTask claimOne(Duration lease) {
        List<DeliveryTask> claimed = store.claim(1, lease, NONE_HELD, ROOM).collectList().block(WAIT);
        assertThat(claimed).hasSize(1);
        return claimed.get(0);
    }

    private boolean leaseRanOut(DeliveryTask task) {
        return Boolean.TRUE.equals(database.sql("SELECT lease_until < now() AS out FROM webhook.retries WHERE id = :id")
                .bind("id", task.id())
                .map(row -> row.get("out", Boolean.class))
                .one().block(WAIT));
    }

    /** The row's tries and lease, or null once it is gone. */
    private String row(DeliveryTask task) {
        return database.sql("SELECT tries, lease_until FROM webhook.retries WHERE id = :id")
                .bind("id", task.id())
                .map(row -> row.get("tries", Integer.class) + ":" + row.get("lease_until", Instant.class))
                .one().block(WAIT);
    }

    private long deadLetters(DeliveryTask task) {
        return database.sql("SELECT count(*) AS n FROM webhook.dead_letters WHERE event_id = :eventId")
                .bind("eventId", task.eventId())
                .map(row -> row.get("n", Long.class))
                .one().block(WAIT);
    }

    private double leasesLost() {
        return registry.counter("dialer.webhook.retries.leases.lost").count();
    }
}
