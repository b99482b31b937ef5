package dev.dialer.webhook;

import static dev.dialer.webhook.ItFixture.WAIT;
import static dev.dialer.webhook.ItFixture.assertSignedWith;
import static dev.dialer.webhook.ItFixture.attempts;
import static dev.dialer.webhook.ItFixture.command;
import static dev.dialer.webhook.ItFixture.newSecret;
import static dev.dialer.webhook.ItFixture.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Hook;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.directory.WebhookDirectory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.kafka.common.utils.Utils;
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
 * One dead endpoint (a closed port), one that hangs until the test releases it, and ten healthy ones, all real: the
 * healthy ones get every event while the bad two are stuck, and the hanging one gets its events once released. Events
 * naming a deleted webhook hold nothing back either.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=webhook-service",
        // Here the bad endpoints must stay enabled: this test is about isolation, not about disabling.
        "dialer.webhook.health.disable-after-failures=100000",
        "dialer.webhook.delivery.total-timeout=10s",
        // Long enough that an event waiting it out cannot go unnoticed; no test here names a webhook not created yet.
        "dialer.webhook.delivery.lookup-wait=60s"})
@ActiveProfiles("it")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class IsolationIT {

    private static final int HEALTHY = 10;
    private static final int EVENTS_EACH = 5;
    private static final Duration LOOKUP_WAIT = Duration.ofSeconds(60);
    /** Records of one partition the call event consumer has in flight at once. */
    private static final int IN_FLIGHT_PER_PARTITION = 128;

    private static final List<WebhookReceiver> healthy = new ArrayList<>();
    private static HangingEndpoint hanging;
    private static ItFixture fixture;

    @Autowired
    WebhookDirectory directory;
    @Autowired
    DatabaseClient database;
    @Autowired
    MeterRegistry meters;
    @Autowired
    KafkaProperties kafka;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
    }

    @BeforeAll
    static void start() {
        IntStream.range(0, HEALTHY).forEach(i -> healthy.add(WebhookReceiver.start()));
        hanging = new HangingEndpoint();
        fixture = new ItFixture("isolation-it");
    }

    @AfterAll
    static void stop() {
        fixture.close();
        hanging.close();
        healthy.forEach(WebhookReceiver::close);
    }

    @Test
    void itsPostgresqlSessionsEndWhenItsHostDiesOrATransactionIsLeftOpen() {
        // Read through the service's own pool: the parameters are set on every connection it opens.
        java.util.Map<String, String> settings = database
                .sql("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)")
                .bind("names", dev.dialer.common.db.PostgresSessions.PARAMETERS.keySet().toArray(String[]::new))
                .map((row, meta) -> java.util.Map.entry(row.get("name", String.class), row.get("setting", String.class)))
                .all()
                .collectMap(java.util.Map.Entry::getKey, java.util.Map.Entry::getValue)
                .block(java.time.Duration.ofSeconds(10));
        assertThat(settings).isEqualTo(dev.dialer.common.db.PostgresSessions.PARAMETERS);
    }

    @Test
    void everyHealthyDeliveryCompletesWhileADeadAndAHangingEndpointAreStuck() throws IOException {
        String account = unique("acc");
        String dead = webhook(account, "http://127.0.0.1:" + closedPort() + "/dead", newSecret());
        String stuck = webhook(account, hanging.url("hang"), newSecret());
        List<String> secrets = new ArrayList<>();
        List<String> healthyIds = new ArrayList<>();
        for (WebhookReceiver receiver : healthy) {
            String secret = newSecret();
            secrets.add(secret);
            healthyIds.add(webhook(account, receiver.url("ok"), secret));
        }
        List<String> deadEvents = new ArrayList<>();
        List<String> stuckEvents = new ArrayList<>();

        // The bad endpoints' events go first in every round, each call on its own key (so across partitions).
        for (int round = 0; round < EVENTS_EACH; round++) {
            deadEvents.add(publish(account, dead));
            stuckEvents.add(publish(account, stuck));
            for (String id : healthyIds) {
                publish(account, id);
            }
        }

        await().atMost(WAIT).until(() -> healthy.stream().allMatch(r -> r.at("ok").size() >= EVENTS_EACH));
        // The bad endpoints' tries are written as they end, on their own partitions' time.
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(hanging.received()).isPositive();
            assertThat(deadEvents).anySatisfy(event -> assertThat(attempts(database, event)).isNotEmpty());
        });
        assertThat(hanging.givenUp()).as("the healthy endpoints were served while the hanging one's tries hung")
                .isZero();
        assertThat(deadEvents).allSatisfy(event -> assertThat(attempts(database, event))
                .noneMatch(attempt -> attempt.endsWith(":delivered")));
        for (int i = 0; i < HEALTHY; i++) {
            String secret = secrets.get(i);
            assertThat(healthy.get(i).at("ok")).hasSize(EVENTS_EACH)
                    .allSatisfy(request -> assertSignedWith(secret, request));
        }

        hanging.release();

        await().atMost(WAIT).until(() -> stuckEvents.stream().allMatch(event ->
                attempts(database, event).stream().anyMatch(attempt -> attempt.endsWith(":delivered"))));
    }

    @Test
    void eventsNamingADeletedWebhookDoNotHoldBackTheEventsBehindThemOnTheirPartition() {
        String account = unique("acc");
        WebhookReceiver receiver = healthy.get(0);
        String deleted = webhook(account, receiver.url("deleted"), newSecret());
        String live = webhook(account, receiver.url("live"), newSecret());
        fixture.publish(Topics.WEBHOOK_CONFIG, deleted, null);
        await().atMost(WAIT).until(() -> directory.current(deleted) == null);
        String liveRequest = unique("req");
        int partition = partitionOf(liveRequest);
        double waitsBefore = counter("dialer.webhook.directory.waits");

        // More than a partition has in flight, every one a call of its own on the live event's partition: had each
        // to wait out the lookup wait, the live event could not start before a whole lookup wait had passed.
        int published = 0;
        while (published <= IN_FLIGHT_PER_PARTITION) {
            String requestId = unique("req");
            if (partitionOf(requestId) == partition) {
                publish(requestId, account, deleted);
                published++;
            }
        }
        long liveAt = System.nanoTime();
        publish(liveRequest, account, live);

        await().atMost(WAIT).until(() -> receiver.at("live").size() == 1);
        assertThat(Duration.ofNanos(System.nanoTime() - liveAt)).isLessThan(LOOKUP_WAIT.dividedBy(2));
        assertThat(receiver.at("deleted")).isEmpty();
        assertThat(counter("dialer.webhook.directory.waits")).isEqualTo(waitsBefore);
    }

    @Test
    void laterEventsOfCallsWhoseFirstHangsHoldNoneOfThePartitionsPlacesFromOtherAccounts() {
        try (HangingEndpoint slow = new HangingEndpoint()) {
            String account = unique("acc");
            String stuck = webhook(account, slow.url("slow"), newSecret());
            String other = unique("acc");
            WebhookReceiver receiver = healthy.get(2);
            String live = webhook(other, receiver.url("other"), newSecret());
            String liveRequest = unique("req");
            int partition = partitionOf(liveRequest);

            // As many calls as the endpoint takes tries at once, on the live event's partition, each with more events
            // than the partition handles at once: their first events hang, and the others wait behind them.
            int calls = 0;
            while (calls < 4) {
                String requestId = unique("req");
                if (partitionOf(requestId) == partition) {
                    List<CallEvent> events = new ArrayList<>();
                    for (int sequence = 1; sequence <= IN_FLIGHT_PER_PARTITION / 2; sequence++) {
                        events.add(CallEvent.about(command(requestId, account, stuck)).sequence(sequence)
                                .status(AttemptStatus.RINGING).build());
                    }
                    fixture.publishEvents(requestId, events);
                    calls++;
                }
            }
            await().atMost(WAIT).until(() -> slow.received() == 4);
            publish(liveRequest, other, live);

            await().atMost(WAIT).until(() -> receiver.at("other").size() == 1);
            // Held behind them, it would have gone out only once the hanging tries had timed out (10 s).
            assertThat(slow.givenUp()).as("delivered while the first events still hang").isZero();
        }
    }

    @Test
    void retriesOfAnEndpointWhoseCircuitIsOpenLeaveThePollersCapacityToOtherEndpoints() throws IOException {
        String account = unique("acc");
        String down = webhook(account, "http://127.0.0.1:" + closedPort() + "/down", newSecret());
        WebhookReceiver receiver = healthy.get(1);
        String up = webhook(account, receiver.url("retried"), newSecret());
        double refusedBefore = deferred("webhook", "circuit_open");
        // Nothing listens there: the first tries fail at once and open its circuit, which then refuses the rest.
        for (int i = 0; i < 8; i++) {
            publish(unique("req"), account, down);
        }
        await().atMost(WAIT).until(() -> deferred("webhook", "circuit_open") > refusedBefore);

        // Many rows of the open endpoint, all due before the healthy one: claimed in due order, they would come first.
        int downRows = 2000;
        byte[] payload = "{\"event_type\":\"call.status\"}".getBytes(StandardCharsets.UTF_8);
        database.sql("""
                        INSERT INTO webhook.retries (event_id, event_type, target_kind, target_id, account_id, payload,
                            tries, next_attempt_at)
                        SELECT 'ev-' || :down || '-' || g, 'call.status', 'WEBHOOK', :down, :account, :payload, 1,
                               now() - interval '1 hour'
                          FROM generate_series(1, :rows) g""")
                .bind("down", down).bind("account", account).bind("payload", payload).bind("rows", downRows)
                .then().block(Duration.ofSeconds(30));
        database.sql("""
                        INSERT INTO webhook.retries (event_id, event_type, target_kind, target_id, account_id, payload,
                            tries, next_attempt_at)
                        VALUES (:eventId, 'call.status', 'WEBHOOK', :up, :account, :payload, 1, now())""")
                .bind("eventId", unique("ev")).bind("up", up).bind("account", account).bind("payload", payload)
                .then().block(Duration.ofSeconds(30));

        try {
            await().atMost(WAIT).until(() -> receiver.at("retried").size() == 1);
            // Every row the poller claimed before the healthy one was refused and moved; most were never claimed.
            assertThat(untouchedRowsOf(down)).isGreaterThan(downRows / 2);
        } finally {
            database.sql("DELETE FROM webhook.retries WHERE target_id = :down").bind("down", down).then()
                    .block(Duration.ofSeconds(30));
        }
    }

    @Test
    void retriesOfAHookEndpointWhoseCircuitIsOpenLeaveThePollersCapacityToOtherEndpointsWhateverTheirUrls()
            throws IOException {
        String account = unique("acc");
        // As the service names an endpoint: scheme, host and port.
        String down = "http://127.0.0.1:" + closedPort();
        WebhookReceiver receiver = healthy.get(2);
        String up = receiver.url("hook-retried");
        double refusedBefore = deferred("notify", "circuit_open");
        // Each call its own URL on one endpoint nothing listens on: the first tries fail at once and open its circuit.
        for (int i = 0; i < 8; i++) {
            String requestId = unique("req");
            fixture.publishEvents(requestId, List.of(CallEvent.about(command(requestId, account, null,
                    new Hook(down + "/status?call=" + requestId, "POST"))).sequence(1)
                    .status(AttemptStatus.RINGING).build()));
        }
        await().atMost(WAIT).until(() -> deferred("notify", "circuit_open") > refusedBefore);

        // Many rows of the open endpoint, no two with the same URL, all due before another endpoint's hook row.
        int downRows = 2000;
        byte[] payload = "{\"event_type\":\"call.status\"}".getBytes(StandardCharsets.UTF_8);
        database.sql("""
                        INSERT INTO webhook.retries (event_id, event_type, target_kind, target_id, url, endpoint,
                            method, account_id, payload, tries, next_attempt_at)
                        SELECT 'ev-' || :account || '-' || g, 'call.status', 'NOTIFY', 'notify',
                               :down || '/status?call=' || g, :down, 'POST', :account, :payload, 1,
                               now() - interval '1 hour'
                          FROM generate_series(1, :rows) g""")
                .bind("down", down).bind("account", account).bind("payload", payload).bind("rows", downRows)
                .then().block(Duration.ofSeconds(30));
        database.sql("""
                        INSERT INTO webhook.retries (event_id, event_type, target_kind, target_id, url, endpoint,
                            method, account_id, payload, tries, next_attempt_at)
                        VALUES (:eventId, 'call.status', 'NOTIFY', 'notify', :up, :endpoint, 'POST', :account,
                                :payload, 1, now())""")
                .bind("eventId", unique("ev")).bind("up", up).bind("endpoint", up.substring(0, up.lastIndexOf('/')))
                .bind("account", account).bind("payload", payload)
                .then().block(Duration.ofSeconds(30));
        // Another account's hook row to the same endpoint: its circuit there is its own, still closed.
        String other = unique("acc");
        database.sql("""
                        INSERT INTO webhook.retries (event_id, event_type, target_kind, target_id, url, endpoint,
                            method, account_id, payload, tries, next_attempt_at)
                        VALUES (:eventId, 'call.status', 'NOTIFY', 'notify', :url, :down, 'POST', :account, :payload,
                                1, now() - interval '1 hour')""")
                .bind("eventId", unique("ev")).bind("url", down + "/status").bind("down", down)
                .bind("account", other).bind("payload", payload)
                .then().block(Duration.ofSeconds(30));

        try {
            await().atMost(WAIT).until(() -> receiver.at("hook-retried").size() == 1);
            // Held by endpoint, not by URL: most of the open endpoint's rows were never claimed.
            assertThat(untouchedHookRowsOf(account)).isGreaterThan(downRows / 2);
            // Held by account too: the other account's row was claimed and tried (and failed: nothing listens).
            await().atMost(WAIT).until(() -> untouchedHookRowsOf(other) == 0);
        } finally {
            database.sql("DELETE FROM webhook.retries WHERE account_id IN (:account, :other)")
                    .bind("account", account).bind("other", other).then()
                    .block(Duration.ofSeconds(30));
        }
    }

    private long untouchedHookRowsOf(String account) {
        return database.sql("""
                        SELECT count(*) AS n FROM webhook.retries
                        WHERE account_id = :account AND target_kind = 'NOTIFY'
                          AND next_attempt_at < now() - interval '30 minutes'""")
                .bind("account", account)
                .map(row -> row.get("n", Long.class))
                .one()
                .block(Duration.ofSeconds(10));
    }

    private long untouchedRowsOf(String webhookId) {
        return database.sql("""
                        SELECT count(*) AS n FROM webhook.retries
                        WHERE target_id = :id AND next_attempt_at < now() - interval '30 minutes'""")
                .bind("id", webhookId)
                .map(row -> row.get("n", Long.class))
                .one()
                .block(Duration.ofSeconds(10));
    }

    /** Tries of the target kind refused by an endpoint's isolation (one series per kind: the kind must be named). */
    private double deferred(String target, String reason) {
        Counter counter = meters.find("dialer.webhook.deliveries").tag("outcome", "deferred").tag("target", target)
                .tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    private int partitionOf(String key) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % kafka.partitions();
    }

    private double counter(String name) {
        Counter counter = meters.find(name).counter();
        return counter == null ? 0 : counter.count();
    }

    private static void publish(String requestId, String account, String webhookId) {
        fixture.publishEvents(requestId, List.of(CallEvent.about(command(requestId, account, webhookId)).sequence(1)
                .status(AttemptStatus.RINGING).build()));
    }

    private String publish(String account, String webhookId) {
        String requestId = unique("req");
        CallEvent event = CallEvent.about(command(requestId, account, webhookId)).sequence(1)
                .status(AttemptStatus.RINGING).build();
        fixture.publishEvents(requestId, List.of(event));
        return event.eventId();
    }

    private String webhook(String account, String url, String secret) {
        String id = unique("wh");
        fixture.publishWebhook(new WebhookConfig(id, account, url, "isolation", secret, true, Instant.now()));
        await().atMost(WAIT).until(() -> directory.current(id) != null);
        return id;
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
