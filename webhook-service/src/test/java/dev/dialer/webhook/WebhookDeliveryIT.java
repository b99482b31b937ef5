package dev.dialer.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.awaitility.Awaitility.await;

import com.standardwebhooks.Webhook;
import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.EventType;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import dev.dialer.common.trace.TraceParent;
import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.directory.WebhookDirectory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.env.Environment;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * The service against a real Kafka broker, a real PostgreSQL and a real HTTP receiver: events published on the topic
 * arrive signed at the webhook they name, or not at all when they must not.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=webhook-service")
@ActiveProfiles("it")
// Each class runs its service alone: a cached context would keep consuming, and retrying, behind the next class.
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class WebhookDeliveryIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static WebhookReceiver receiver;
    private static KafkaPublisher publisher;

    @LocalServerPort
    int port;
    @Autowired
    Environment environment;
    @Autowired
    WebhookDirectory directory;
    @Autowired
    DatabaseClient database;
    @Autowired
    MeterRegistry meters;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.Endpoints endpoints = Infrastructure.shared();
        endpoints.serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
    }

    @BeforeAll
    static void start() {
        receiver = WebhookReceiver.start();
        publisher = KafkaPublisher.create(KafkaSettings.of(Infrastructure.shared().kafkaBootstrapServers()),
                "webhook-it", Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        publisher.close();
        receiver.close();
    }

    @Test
    void runsWithItsOwnConfigurationFile() {
        assertThat(environment.getProperty("spring.application.name")).isEqualTo("webhook-service");
        assertThat(environment.getProperty("spring.flyway.default-schema")).isEqualTo("webhook");
        assertThat(environment.getProperty("dialer.webhook.delivery.total-timeout")).isEqualTo("15s");
        assertThat(environment.getProperty("dialer.webhook.retry.time-unit")).isEqualTo("100ms");
    }

    @Test
    void deliversACallsEventsInOrderSignedAndExactlyAsPublished() {
        String account = unique("acc");
        Hook hook = createWebhook(account);
        CallCommand command = command(account, hook.id(), Map.of("otp", "123456"));
        List<CallEvent> events = List.of(
                CallEvent.about(command).sequence(1).status(AttemptStatus.INITIATED).build(),
                CallEvent.about(command).sequence(2).status(AttemptStatus.RINGING).build(),
                CallEvent.about(command).sequence(3).type(EventType.FINAL).status(FinalStatus.ANSWERED).build());
        List<byte[]> published = events.stream().map(Contract::toBytes).toList();

        publish(command.requestId(), published);

        await().atMost(WAIT).until(() -> receiver.at(hook.path()).size() == 3);
        List<WebhookReceiver.Received> received = receiver.at(hook.path());
        assertThat(received).extracting(request -> json(request).get("sequence_number").asLong())
                .containsExactly(1L, 2L, 3L);
        for (int i = 0; i < 3; i++) {
            WebhookReceiver.Received request = received.get(i);
            assertThat(request.body()).isEqualTo(published.get(i));
            assertThat(request.header("webhook-id")).isEqualTo(events.get(i).eventId());
            assertThat(request.header("content-type")).isEqualTo("application/json");
            assertThat(json(request).has("variables")).isFalse();
            assertThat(request.bodyText()).doesNotContain("123456");
            assertSignedWith(hook.secret(), request);
        }
        await().atMost(WAIT).until(() -> attempts(events.get(2).eventId()).equals(List.of("1:200")));
    }

    @Test
    void retriesAFailedAttemptWithTheSameIdAndLogsEveryAttempt() {
        String account = unique("acc");
        Hook hook = createWebhook(account);
        receiver.answer(hook.path(), 500);
        CallCommand command = command(account, hook.id(), Map.of());
        CallEvent event = CallEvent.about(command).sequence(1).status(AttemptStatus.INITIATED).build();
        String trace = UUID.randomUUID().toString().replace("-", "");
        String traceparent = "00-" + trace + "-b7ad6b7169203331-01";

        publisher.publish(new OutboundRecord(Topics.CALL_EVENTS, command.requestId(), Contract.toBytes(event),
                Map.of(TraceParent.HEADER, traceparent))).block(Duration.ofSeconds(30));

        await().atMost(WAIT).until(() -> receiver.at(hook.path()).size() == 2);
        assertThat(receiver.at(hook.path())).allSatisfy(request -> {
            assertThat(request.header("webhook-id")).isEqualTo(event.eventId());
            assertSignedWith(hook.secret(), request);
            // The first try and the retry stored in PostgreSQL alike: a span of the event's trace.
            assertThat(request.header(TraceParent.HEADER)).matches("00-" + trace + "-[0-9a-f]{16}-01")
                    .isNotEqualTo(traceparent);
        });
        await().atMost(WAIT).until(() -> attempts(event.eventId()).equals(List.of("1:500", "2:200")));
    }

    @Test
    void anAnswerWithANulByteIsLoggedWithTheStartOfItsBody() {
        String account = unique("acc");
        Hook hook = createWebhook(account);
        receiver.answer(hook.path(), 500, "{\"error\":\"bad\0byte\"}".getBytes(StandardCharsets.UTF_8));
        CallCommand command = command(account, hook.id(), Map.of());
        CallEvent event = CallEvent.about(command).sequence(1).status(AttemptStatus.INITIATED).build();
        double unloggedBefore = counter("dialer.webhook.attempts.unlogged");

        publish(command.requestId(), List.of(Contract.toBytes(event)));

        await().atMost(WAIT).until(() -> attempts(event.eventId()).equals(List.of("1:500", "2:200")));
        assertThat(database.sql("SELECT response_body FROM webhook.delivery_attempts WHERE event_id = :eventId "
                        + "AND attempt_no = 1")
                .bind("eventId", event.eventId())
                .map(row -> row.get("response_body", String.class))
                .one()
                .block(Duration.ofSeconds(10))).isEqualTo("{\"error\":\"bad\uFFFDbyte\"}");
        assertThat(counter("dialer.webhook.attempts.unlogged")).isEqualTo(unloggedBefore);
    }

    @Test
    void doesNotDeliverToAnotherAccountsWebhookNorToAnUnknownOrDisabledOne() {
        String account = unique("acc");
        Hook hook = createWebhook(account);
        Hook disabledHook = createWebhook(account, false);
        String requestId = unique("req");
        CallEvent foreign = CallEvent.about(command(requestId, unique("other-acc"), hook.id())).sequence(1)
                .status(AttemptStatus.INITIATED).build();
        CallEvent unknown = CallEvent.about(command(requestId, account, unique("wh-missing"))).sequence(2)
                .status(AttemptStatus.RINGING).build();
        CallEvent disabled = CallEvent.about(command(requestId, account, disabledHook.id())).sequence(3)
                .status(AttemptStatus.IN_PROGRESS).build();
        CallEvent marker = CallEvent.about(command(requestId, account, hook.id())).sequence(4)
                .status(AttemptStatus.COMPLETED).build();
        double foreignBefore = skipped("foreign_account");
        double unknownBefore = skipped("unknown_webhook");
        double disabledBefore = skipped("disabled");

        // One key, so one partition: once the last event arrives the ones before it have been handled.
        publish(requestId, List.of(Contract.toBytes(foreign), Contract.toBytes(unknown), Contract.toBytes(disabled),
                Contract.toBytes(marker)));

        await().atMost(WAIT).until(() -> !receiver.at(hook.path()).isEmpty());
        assertThat(receiver.at(hook.path())).extracting(request -> request.header("webhook-id"))
                .containsExactly(marker.eventId());
        assertThat(receiver.all()).extracting(request -> request.header("webhook-id"))
                .doesNotContain(foreign.eventId(), unknown.eventId(), disabled.eventId());
        assertThat(receiver.at(disabledHook.path())).isEmpty();
        assertThat(skipped("foreign_account")).isGreaterThan(foreignBefore);
        assertThat(skipped("disabled")).isGreaterThan(disabledBefore);
        // A webhook never seen: its delivery waits in the retry table for the directory, and is dead-lettered, not
        // dropped, when the webhook is still unknown at its try.
        await().atMost(WAIT).until(() -> ItFixture.deadLetters(database, unknown.eventId())
                .equals(List.of("unknown_webhook")));
        assertThat(skipped("unknown_webhook")).isGreaterThan(unknownBefore);
        assertThat(receiver.all()).extracting(request -> request.header("webhook-id"))
                .doesNotContain(unknown.eventId());
    }

    @Test
    void anEventNamingAWebhookTheDirectoryLearnsOfOnlyAfterItsLookupWaitIsDeliveredOnceItDoes() {
        String account = unique("acc");
        String id = unique("wh-late");
        Hook hook = new Hook(id, "hooks/" + id, newSecret());
        String requestId = unique("req");
        CallEvent event = CallEvent.about(command(requestId, account, id)).sequence(1)
                .status(AttemptStatus.INITIATED).build();

        publish(requestId, List.of(Contract.toBytes(event)));
        // The lookup wait (2 s here) passes with the webhook unknown: the delivery is kept for later, not skipped.
        await().atMost(WAIT).until(() -> retryRows(event.eventId()) == 1);
        publishTo(Topics.WEBHOOK_CONFIG, id, Contract.toBytes(new WebhookConfig(id, account,
                receiver.url(hook.path()), "test", hook.secret(), true, Instant.now())));

        await().atMost(WAIT).until(() -> receiver.at(hook.path()).size() == 1);
        assertThat(receiver.at(hook.path())).singleElement().satisfies(request -> {
            assertThat(request.header("webhook-id")).isEqualTo(event.eventId());
            assertSignedWith(hook.secret(), request);
        });
        await().atMost(WAIT).until(() -> retryRows(event.eventId()) == 0);
        assertThat(ItFixture.deadLetters(database, event.eventId())).isEmpty();
    }

    /**
     * Two events of a call naming a webhook not known yet are both stored for later: the later one waits behind the
     * earlier (its hold), or it would be tried first whenever the earlier one's try failed and waits its next.
     */
    @Test
    void aLaterEventNamingAWebhookNotKnownYetIsStoredBehindTheEarlierOne() {
        String account = unique("acc");
        String id = unique("wh-late");
        String requestId = unique("req");
        CallCommand command = command(requestId, account, id);
        CallEvent first = CallEvent.about(command).sequence(1).status(AttemptStatus.INITIATED).build();
        CallEvent second = CallEvent.about(command).sequence(2).status(AttemptStatus.RINGING).build();

        publish(requestId, List.of(Contract.toBytes(first), Contract.toBytes(second)));

        await().atMost(WAIT).until(() -> retryRows(first.eventId()) == 1 && retryRows(second.eventId()) == 1);
        // Held past its due time (a null hold lets a row go whatever waits before it in its call).
        Boolean held = database.sql("SELECT coalesce(order_key IS NOT NULL AND hold_until > next_attempt_at, false) "
                        + "AS held FROM webhook.retries WHERE event_id = :id")
                .bind("id", second.eventId())
                .map(row -> row.get("held", Boolean.class))
                .one().block(Duration.ofSeconds(10));
        assertThat(held).as("the later event held behind the earlier").isTrue();
    }

    private long retryRows(String eventId) {
        return ItFixture.retryRows(database, eventId);
    }

    @Test
    void aDeletedWebhookGetsNoFurtherDeliveries() {
        String account = unique("acc");
        Hook deleted = createWebhook(account);
        Hook other = createWebhook(account);
        String requestId = unique("req");
        CallEvent first = CallEvent.about(command(requestId, account, deleted.id())).sequence(1)
                .status(AttemptStatus.INITIATED).build();
        publish(requestId, List.of(Contract.toBytes(first)));
        await().atMost(WAIT).until(() -> receiver.at(deleted.path()).size() == 1);

        publishTo(Topics.WEBHOOK_CONFIG, deleted.id(), null);
        await().atMost(WAIT).until(() -> directory.find(deleted.id(), Duration.ZERO).blockOptional().isEmpty());
        CallEvent second = CallEvent.about(command(requestId, account, deleted.id())).sequence(2)
                .status(AttemptStatus.RINGING).build();
        CallEvent marker = CallEvent.about(command(requestId, account, other.id())).sequence(3)
                .status(AttemptStatus.COMPLETED).build();
        publish(requestId, List.of(Contract.toBytes(second), Contract.toBytes(marker)));

        await().atMost(WAIT).until(() -> receiver.at(other.path()).size() == 1);
        assertThat(receiver.at(deleted.path())).extracting(request -> request.header("webhook-id"))
                .containsExactly(first.eventId());
    }

    @Test
    void anUnreadableRecordGoesToTheDlqAndTheEventsAfterItAreDelivered() {
        String account = unique("acc");
        Hook hook = createWebhook(account);
        String requestId = unique("req");
        CallEvent event = CallEvent.about(command(requestId, account, hook.id())).sequence(1)
                .status(AttemptStatus.INITIATED).build();
        double notJsonBefore = dlq("not_json");
        double schemaInvalidBefore = dlq("schema_invalid");

        publish(requestId, List.of("{not json".getBytes(StandardCharsets.UTF_8),
                "null".getBytes(StandardCharsets.UTF_8), Contract.toBytes(event)));

        await().atMost(WAIT).until(() -> receiver.at(hook.path()).size() == 1);
        assertThat(receiver.at(hook.path()).get(0).header("webhook-id")).isEqualTo(event.eventId());
        List<InboundRecord> published = ItFixture.records(Topics.CALL_EVENTS, requestId, 3);
        List<InboundRecord> copies = ItFixture.records(Topics.CALL_EVENTS_DLQ, requestId, 2);
        ItFixture.assertCopyOf(published.get(0), copies.get(0), "not_json");
        ItFixture.assertCopyOf(published.get(1), copies.get(1), "schema_invalid");
        assertThat(dlq("not_json")).isGreaterThanOrEqualTo(notJsonBefore + 1);
        assertThat(dlq("schema_invalid")).isGreaterThanOrEqualTo(schemaInvalidBefore + 1);
    }

    @Test
    void anEventPostgresqlRefusesToKeepGoesToTheDlqAndTheEventsAfterItAreDelivered() {
        String account = unique("acc");
        Hook hook = createWebhook(account);
        String requestId = unique("req");
        CallEvent refused = CallEvent.about(command(requestId, account, hook.id())).sequence(1)
                .status(AttemptStatus.INITIATED).build();
        CallEvent next = CallEvent.about(command(requestId, account, hook.id())).sequence(2)
                .status(AttemptStatus.RINGING).build();
        double processingErrorBefore = dlq("processing_error");
        execute("""
                CREATE OR REPLACE FUNCTION webhook.delivery_it_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'refused for its data' USING ERRCODE = 'check_violation'; END $$""");
        execute("CREATE TRIGGER delivery_it_refuse BEFORE INSERT ON webhook.events FOR EACH ROW"
                + " WHEN (NEW.event_id = '" + refused.eventId() + "') EXECUTE FUNCTION webhook.delivery_it_refuse()");
        try {
            publish(requestId, List.of(Contract.toBytes(refused), Contract.toBytes(next)));

            // One key: the next event is handled once the refused one is settled.
            await().atMost(WAIT).until(() -> !receiver.at(hook.path()).isEmpty());
        } finally {
            execute("DROP TRIGGER IF EXISTS delivery_it_refuse ON webhook.events");
        }
        assertThat(receiver.at(hook.path())).extracting(request -> request.header("webhook-id"))
                .containsExactly(next.eventId());
        InboundRecord copy = ItFixture.records(Topics.CALL_EVENTS_DLQ, requestId, 1).get(0);
        ItFixture.assertCopyOf(ItFixture.records(Topics.CALL_EVENTS, requestId, 1).get(0), copy, "processing_error");
        assertThat(copy.headers().get(Topics.HEADER_ERROR_MESSAGE)).contains("refused for its data");
        assertThat(dlq("processing_error")).isGreaterThanOrEqualTo(processingErrorBefore + 1);
    }

    @Test
    void reportsReadyAndExposesDeliveryMetrics() throws Exception {
        await().atMost(WAIT).untilAsserted(() -> {
            HttpResponse<String> readiness = get("/actuator/health/readiness");
            assertThat(readiness.statusCode()).isEqualTo(200);
            JsonNode health = Contract.mapper().readTree(readiness.body());
            assertThat(health.path("status").asString()).isEqualTo("UP");
            assertThat(health.path("components").path("webhookPipelines").path("status").asString()).isEqualTo("UP");
        });

        HttpResponse<String> prometheus = get("/actuator/prometheus");

        assertThat(prometheus.statusCode()).isEqualTo(200);
        assertThat(prometheus.body())
                .contains("dialer_webhook_deliveries_total{")
                .contains("dialer_webhook_events_consumed_total")
                .contains("dialer_webhook_retries_pending")
                .contains("dialer_webhook_dead_letters_total")
                .contains("dialer_webhook_dlq_total{")
                .contains("dialer_webhook_endpoints_disabled")
                .contains("dialer_webhook_delivery_latency_seconds");
    }

    private record Hook(String id, String path, String secret) {
    }

    /** Publishes a webhook and waits until the service knows it, so that tests do not race the directory. */
    private Hook createWebhook(String account) {
        return createWebhook(account, true);
    }

    private Hook createWebhook(String account, boolean enabled) {
        String id = unique("wh");
        Hook hook = new Hook(id, "hooks/" + id, newSecret());
        WebhookConfig config = new WebhookConfig(id, account, receiver.url(hook.path()), "test", hook.secret(),
                enabled, Instant.now());
        publishTo(Topics.WEBHOOK_CONFIG, id, Contract.toBytes(config));
        await().atMost(WAIT).until(() -> directory.find(id, Duration.ZERO).blockOptional().isPresent());
        return hook;
    }

    private static void assertSignedWith(String secret, WebhookReceiver.Received request) {
        assertThatCode(() -> new Webhook(secret).verify(request.bodyText(), request.headers()))
                .doesNotThrowAnyException();
    }

    private List<String> attempts(String eventId) {
        return database.sql("""
                        SELECT attempt_no, status_code FROM webhook.delivery_attempts
                        WHERE event_id = :eventId ORDER BY attempt_no""")
                .bind("eventId", eventId)
                .map(row -> row.get("attempt_no", Integer.class) + ":" + row.get("status_code", Integer.class))
                .all()
                .collectList()
                .block(Duration.ofSeconds(10));
    }

    private double skipped(String reason) {
        Counter counter = meters.find("dialer.webhook.deliveries").tag("outcome", "skipped").tag("reason", reason)
                .counter();
        return counter == null ? 0 : counter.count();
    }

    private double dlq(String code) {
        Counter counter = meters.find("dialer.webhook.dlq").tag("source", "events").tag("code", code).counter();
        return counter == null ? 0 : counter.count();
    }

    private void execute(String sql) {
        database.sql(sql).then().block(Duration.ofSeconds(10));
    }

    private double counter(String name) {
        Counter counter = meters.find(name).counter();
        return counter == null ? 0 : counter.count();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void publish(String requestId, List<byte[]> values) {
        publisher.publishAll(values.stream()
                        .map(value -> OutboundRecord.of(Topics.CALL_EVENTS, requestId, value))
                        .toList())
                .block(Duration.ofSeconds(30));
    }

    private static void publishTo(String topic, String key, byte[] value) {
        publisher.publish(OutboundRecord.of(topic, key, value)).block(Duration.ofSeconds(30));
    }

    private static JsonNode json(WebhookReceiver.Received request) {
        return Contract.mapper().readTree(request.body());
    }

    private static CallCommand command(String account, String webhookId, Map<String, String> variables) {
        return new CallCommand(CallCommand.VERSION, unique("req"), account, "+14155550100", "+919876543210", "23",
                null, "it", 0, 0, 1, webhookId, null, variables, null, null, null, null, null, Instant.now());
    }

    private static CallCommand command(String requestId, String account, String webhookId) {
        return new CallCommand(CallCommand.VERSION, requestId, account, "+14155550100", "+919876543210", "23",
                null, "it", 0, 0, 1, webhookId, null, Map.of(), null, null, null, null, null, Instant.now());
    }

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    private static String newSecret() {
        byte[] key = new byte[24];
        new SecureRandom().nextBytes(key);
        return "whsec_" + Base64.getEncoder().encodeToString(key);
    }
}
