package dev.dialer.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.standardwebhooks.Webhook;
import com.standardwebhooks.exceptions.WebhookVerificationException;
import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.EventType;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.common.contract.Hook;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.hook.HookSecrets;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.KafkaSubscriber;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.directory.WebhookDirectory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
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
import tools.jackson.databind.JsonNode;

/**
 * Per-request hooks, refused targets and 410 Gone against a real Kafka broker, PostgreSQL and HTTP receiver. The
 * properties equal {@link WebhookDeliveryIT}'s so that both share one application context.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=webhook-service")
@ActiveProfiles("it")
// Each class runs its service alone: a cached context would keep consuming, and retrying, behind the next class.
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class HookTargetsIT {

    /** The key each account's hook secret is derived from: the "it" profile's (Standard Webhooks' example secret). */
    static final HookSecrets HOOK_SECRETS = HookSecrets.derivedFrom("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static WebhookReceiver receiver;
    private static KafkaPublisher publisher;

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
                "hook-targets-it", Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        publisher.close();
        receiver.close();
    }

    @Test
    void theNotifyUrlGetsEveryEventAndTheActionHookOnlyTheFinalOneSignedWithTheAccountsHookSecret() {
        String account = unique("acc");
        Endpoint webhook = createWebhook(account, null);
        String notifyPath = "notify/" + UUID.randomUUID();
        String actionPath = "action/" + UUID.randomUUID();
        CallCommand command = command(account, webhook.id(), new Hook(receiver.url(notifyPath), "POST"),
                new Hook(receiver.url(actionPath), null));
        List<CallEvent> events = List.of(
                CallEvent.about(command).sequence(1).status(AttemptStatus.RINGING).build(),
                CallEvent.about(command).sequence(2).type(EventType.DEFERRED).status("deferred").build(),
                CallEvent.about(command).sequence(3).type(EventType.FINAL).status(FinalStatus.ANSWERED).build());
        double notifyBefore = deliveries("notify", "delivered");
        double actionBefore = deliveries("action", "delivered");

        publish(command.requestId(), events);

        await().atMost(WAIT).until(() -> receiver.at(notifyPath).size() == 3 && receiver.at(actionPath).size() == 1
                && receiver.at(webhook.path()).size() == 3);
        // The final event is the last on its partition, so nothing else can still be on its way to the action hook.
        assertThat(receiver.at(notifyPath)).extracting(request -> request.header("webhook-id"))
                .containsExactly(events.get(0).eventId(), events.get(1).eventId(), events.get(2).eventId());
        assertThat(receiver.at(actionPath)).extracting(request -> request.header("webhook-id"))
                .containsExactly(events.get(2).eventId());
        assertThat(receiver.at(notifyPath)).allSatisfy(request -> assertSignedWith(HOOK_SECRETS.of(account), request));
        assertThat(receiver.at(actionPath)).allSatisfy(request -> assertSignedWith(HOOK_SECRETS.of(account), request));
        assertThat(receiver.at(webhook.path())).allSatisfy(request -> assertSignedWith(webhook.secret(), request));
        // Counted once each answer is read back, which may be just after the receiver recorded its request.
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(deliveries("notify", "delivered")).isEqualTo(notifyBefore + 3);
            assertThat(deliveries("action", "delivered")).isEqualTo(actionBefore + 1);
        });
        JsonNode published = publishedAttempt("action_hook:" + command.requestId());
        assertThat(published.path("event_id").asString()).isEqualTo(events.get(2).eventId());
        assertThat(published.path("target").asString()).isEqualTo("action_hook");
        assertThat(published.path("outcome").asString()).isEqualTo("delivered");
        assertThat(published.path("status_code").asInt()).isEqualTo(200);
    }

    @Test
    void theAmdHookGetsOnlyTheDetectionSignedWithTheAccountsHookSecretAndRetriedLikeTheOtherHooks() {
        String account = unique("acc");
        String notifyPath = "notify/" + UUID.randomUUID();
        String amdPath = "amd/" + UUID.randomUUID();
        receiver.answer(amdPath, 503);
        CallCommand command = new CallCommand(CallCommand.VERSION, unique("req"), account, "+14155550100",
                "+919876543210", "23", null, "it", 0, 0, 1, null, null, Map.of(), null, null,
                new Hook(receiver.url(notifyPath), null), null, new Hook(receiver.url(amdPath), null), null,
                Instant.now());
        // As the dispatcher publishes them (ADR 0034): the detection is a call.status whose status did not change;
        // the attempt's end and the request's final carry the stored result too.
        List<CallEvent> events = List.of(
                CallEvent.about(command).sequence(1).status(AttemptStatus.RINGING).build(),
                CallEvent.about(command).sequence(2).status(AttemptStatus.IN_PROGRESS).previousStatus("ringing")
                        .build(),
                CallEvent.about(command).sequence(3).status(AttemptStatus.IN_PROGRESS).previousStatus("in-progress")
                        .answeredBy("machine").build(),
                CallEvent.about(command).sequence(4).status(AttemptStatus.COMPLETED).previousStatus("in-progress")
                        .answeredBy("machine").build(),
                CallEvent.about(command).sequence(5).type(EventType.FINAL).status(FinalStatus.ANSWERED)
                        .answeredBy("machine").build());
        double amdBefore = deliveries("amd", "delivered");

        publish(command.requestId(), events);

        await().atMost(WAIT).until(() -> receiver.at(notifyPath).size() == 5 && receiver.at(amdPath).size() == 2);
        // The first try answered 503; the retry is the same event, signed again.
        assertThat(receiver.at(amdPath)).extracting(request -> request.header("webhook-id"))
                .containsExactly(events.get(2).eventId(), events.get(2).eventId());
        assertThat(receiver.at(amdPath)).allSatisfy(request -> assertSignedWith(HOOK_SECRETS.of(account), request));
        JsonNode body = Contract.mapper().readTree(receiver.at(amdPath).get(1).bodyText());
        assertThat(body.path("event_type").asString()).isEqualTo("call.status");
        assertThat(body.path("answered_by").asString()).isEqualTo("machine");
        assertThat(body.path("amd_hook").path("url").asString()).isEqualTo(receiver.url(amdPath));
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(attempts(events.get(2).eventId(), "amd_hook")).containsExactly("1:503", "2:200");
            assertThat(deliveries("amd", "delivered")).isEqualTo(amdBefore + 1);
        });
        // The final event is the last on its partition and went to the notify URL: nothing else is on its way.
        assertThat(receiver.at(amdPath)).hasSize(2);
        JsonNode published = publishedAttempt("amd_hook:" + command.requestId());
        assertThat(published.path("event_id").asString()).isEqualTo(events.get(2).eventId());
        assertThat(published.path("target").asString()).isEqualTo("amd_hook");
    }

    @Test
    void aGetNotifyUrlGetsTheEventAsQueryParametersSignedOverTheQuery() {
        String account = unique("acc");
        String notifyPath = "notify-get/" + UUID.randomUUID();
        CallCommand command = command(account, null, new Hook(receiver.url(notifyPath) + "?token=abc", "GET"), null);
        CallEvent event = CallEvent.about(command).sequence(1).status(AttemptStatus.RINGING).build();

        publish(command.requestId(), List.of(event));

        await().atMost(WAIT).until(() -> receiver.at(notifyPath).size() == 1);
        WebhookReceiver.Received request = receiver.at(notifyPath).get(0);
        assertThat(request.method()).isEqualTo("GET");
        assertThat(request.body()).isEmpty();
        Map<String, String> parameters = Arrays.stream(request.rawQuery().split("&"))
                .map(pair -> pair.split("=", 2))
                .collect(Collectors.toMap(pair -> URLDecoder.decode(pair[0], StandardCharsets.UTF_8),
                        pair -> URLDecoder.decode(pair[1], StandardCharsets.UTF_8)));
        assertThat(parameters).containsEntry("token", "abc")
                .containsEntry("request_id", command.requestId())
                .containsEntry("event_id", event.eventId())
                .containsEntry("event_type", "call.status")
                .containsEntry("status", AttemptStatus.RINGING.wire())
                .containsEntry("sequence_number", "1")
                .containsEntry("to", "+919876543210")
                .doesNotContainKey("variables");
        assertThatCode(() -> new Webhook(HOOK_SECRETS.of(account)).verify(request.rawQuery(), request.headers()))
                .doesNotThrowAnyException();
    }

    @Test
    void twoAccountsHooksVerifyOnlyWithTheirOwnAccountsSecret() {
        String first = unique("acc");
        String second = unique("acc");
        String firstPath = "notify/" + UUID.randomUUID();
        String secondPath = "notify/" + UUID.randomUUID();
        CallCommand firstCall = command(first, null, new Hook(receiver.url(firstPath), "POST"), null);
        CallCommand secondCall = command(second, null, new Hook(receiver.url(secondPath), "POST"), null);

        publish(firstCall.requestId(), List.of(
                CallEvent.about(firstCall).sequence(1).type(EventType.FINAL).status(FinalStatus.ANSWERED).build()));
        publish(secondCall.requestId(), List.of(
                CallEvent.about(secondCall).sequence(1).type(EventType.FINAL).status(FinalStatus.ANSWERED).build()));

        await().atMost(WAIT).until(() -> receiver.at(firstPath).size() == 1 && receiver.at(secondPath).size() == 1);
        WebhookReceiver.Received toFirst = receiver.at(firstPath).get(0);
        WebhookReceiver.Received toSecond = receiver.at(secondPath).get(0);
        assertSignedWith(HOOK_SECRETS.of(first), toFirst);
        assertSignedWith(HOOK_SECRETS.of(second), toSecond);
        // One account's secret cannot vouch for a delivery to another's hook, so neither can forge one for the other.
        assertNotSignedWith(HOOK_SECRETS.of(second), toFirst);
        assertNotSignedWith(HOOK_SECRETS.of(first), toSecond);
    }

    @Test
    void aNotifyUrlEqualToTheWebhooksUrlGetsEachEventOnce() {
        String account = unique("acc");
        Endpoint webhook = createWebhook(account, null);
        Endpoint other = createWebhook(account, null);
        String requestId = unique("req");
        CallEvent event = CallEvent.about(command(requestId, account, webhook.id(),
                new Hook(receiver.url(webhook.path()), "POST"))).sequence(1).status(AttemptStatus.RINGING).build();
        CallEvent marker = CallEvent.about(command(requestId, account, other.id(), null)).sequence(2)
                .status(AttemptStatus.COMPLETED).build();

        publish(requestId, List.of(event, marker));

        await().atMost(WAIT).until(() -> receiver.at(other.path()).size() == 1);
        assertThat(receiver.at(webhook.path())).singleElement()
                .satisfies(request -> assertSignedWith(webhook.secret(), request));
    }

    @Test
    void aWebhookOnAPrivateAddressNotOnTheAllowListGetsNoAttemptAndIsCounted() {
        String account = unique("acc");
        Endpoint internal = createWebhook(account, "https://10.255.255.1:8443/hooks?token=secret");
        Endpoint other = createWebhook(account, null);
        String requestId = unique("req");
        CallEvent refused = CallEvent.about(command(requestId, account, internal.id(), null)).sequence(1)
                .status(AttemptStatus.RINGING).build();
        CallEvent marker = CallEvent.about(command(requestId, account, other.id(), null)).sequence(2)
                .status(AttemptStatus.COMPLETED).build();
        double forbiddenBefore = skipped("webhook", "forbidden_target");
        double deadBefore = deadLettersCounted("forbidden_target");

        publish(requestId, List.of(refused, marker));

        await().atMost(WAIT).until(() -> receiver.at(other.path()).size() == 1);
        assertThat(skipped("webhook", "forbidden_target")).isEqualTo(forbiddenBefore + 1);
        // Refused, never sent: no try, but the log says why, and the event waits in the dead letters.
        await().atMost(WAIT).until(() -> attempts(refused.eventId()).equals(List.of("1:null")));
        assertThat(deadLetters(refused.eventId())).containsExactly("forbidden_target");
        assertThat(deadLettersCounted("forbidden_target")).as("counted as every dead letter is")
                .isEqualTo(deadBefore + 1);
    }

    @Test
    void aWebhookAnswering410GetsOneAttemptAndNoFurtherEventsAndIsDisabledDurably() {
        String account = unique("acc");
        Endpoint gone = createWebhook(account, null);
        Endpoint other = createWebhook(account, null);
        receiver.answer(gone.path(), 410);
        String requestId = unique("req");
        CallEvent first = CallEvent.about(command(requestId, account, gone.id(), null)).sequence(1)
                .status(AttemptStatus.RINGING).build();
        CallEvent second = CallEvent.about(command(requestId, account, gone.id(), null)).sequence(2)
                .status(AttemptStatus.IN_PROGRESS).build();
        CallEvent marker = CallEvent.about(command(requestId, account, other.id(), null)).sequence(3)
                .status(AttemptStatus.COMPLETED).build();
        double goneBefore = deliveries("webhook", "dead", "gone");
        double disabledBefore = skipped("webhook", "disabled");

        publish(requestId, List.of(first, second, marker));

        await().atMost(WAIT).until(() -> receiver.at(other.path()).size() == 1);
        assertThat(receiver.at(gone.path())).extracting(request -> request.header("webhook-id"))
                .containsExactly(first.eventId());
        await().atMost(WAIT).until(() -> attempts(first.eventId()).equals(List.of("1:410")));
        assertThat(deliveries("webhook", "dead", "gone")).isEqualTo(goneBefore + 1);
        assertThat(skipped("webhook", "disabled")).isEqualTo(disabledBefore + 1);
        assertThat(disabledReason(gone.id())).isEqualTo("gone");
        JsonNode published = publishedAttempt(gone.id());
        assertThat(published.path("outcome").asString()).isEqualTo("dead");
        assertThat(published.path("endpoint_disabled").asBoolean()).isTrue();
    }

    @Test
    void aHookUrlLongerThanTheApiTakesIsDeadLetteredAsInvalidWithoutATryAndTheOtherTargetsGetTheEventOnce() {
        String account = unique("acc");
        Endpoint webhook = createWebhook(account, null);
        Endpoint other = createWebhook(account, null);
        String hookPath = "notify-long/" + UUID.randomUUID();
        // Were it tried, it would fail, and its retry row would be too large for the retry table's indexes.
        receiver.answer(hookPath, 500, 500, 500);
        String requestId = unique("req");
        CallEvent event = CallEvent.about(command(requestId, account, webhook.id(),
                new Hook(receiver.url(hookPath) + "?pad=" + incompressible(3500), "POST"))).sequence(1)
                .status(AttemptStatus.RINGING).build();
        CallEvent marker = CallEvent.about(command(requestId, account, other.id(), null)).sequence(2)
                .status(AttemptStatus.COMPLETED).build();
        double invalidBefore = skipped("notify", "invalid_target");

        publish(requestId, List.of(event, marker));

        // The marker goes once the event has been handled: handled again and again, the webhook would have it twice.
        await().atMost(WAIT).until(() -> receiver.at(other.path()).size() == 1);
        assertThat(receiver.at(hookPath)).isEmpty();
        assertThat(receiver.at(webhook.path())).hasSize(1);
        assertThat(deadLetters(event.eventId())).containsExactly("invalid_target");
        assertThat(skipped("notify", "invalid_target")).isEqualTo(invalidBefore + 1);
        assertThat(attempts(event.eventId())).containsExactlyInAnyOrder("1:200", "1:null");
    }

    @Test
    void aGetHookUrlThatIsNotAsciiIsDeadLetteredAsInvalidSinceItsSignatureCouldNeverVerify() {
        String account = unique("acc");
        Endpoint other = createWebhook(account, null);
        String hookPath = "notify-get/" + UUID.randomUUID();
        String requestId = unique("req");
        CallEvent event = CallEvent.about(command(requestId, account, (String) null,
                new Hook(receiver.url(hookPath) + "?caf\u00e9=cr\u00e8me", "GET"))).sequence(1)
                .status(AttemptStatus.RINGING).build();
        CallEvent marker = CallEvent.about(command(requestId, account, other.id(), null)).sequence(2)
                .status(AttemptStatus.COMPLETED).build();

        publish(requestId, List.of(event, marker));

        await().atMost(WAIT).until(() -> receiver.at(other.path()).size() == 1);
        assertThat(receiver.at(hookPath)).isEmpty();
        assertThat(deadLetters(event.eventId())).containsExactly("invalid_target");
    }

    @Test
    void aDeliveryPostgresqlWillNotStoreForARetryIsDeadLetteredAndTheEventsOtherTargetsGetItOnce() {
        String account = unique("acc");
        Endpoint failing = createWebhook(account, null);
        Endpoint other = createWebhook(account, null);
        receiver.answer(failing.path(), 500, 500, 500);
        // A request id no API would issue, from a command written straight to Kafka: the retry row's order key holds
        // it, and is then too large for its index (SQLSTATE 54000).
        String requestId = "req-" + incompressible(3500);
        CallEvent event = CallEvent.about(command(requestId, account, failing.id(), null)).sequence(1)
                .status(AttemptStatus.RINGING).build();
        CallEvent marker = CallEvent.about(command(requestId, account, other.id(), null)).sequence(2)
                .status(AttemptStatus.COMPLETED).build();
        double unstorableBefore = deliveries("webhook", "dead", "unstorable");

        publish(requestId, List.of(event, marker));

        await().atMost(WAIT).until(() -> receiver.at(other.path()).size() == 1);
        assertThat(receiver.at(failing.path())).hasSize(1);
        assertThat(deadLetters(event.eventId())).containsExactly("unstorable");
        assertThat(deliveries("webhook", "dead", "unstorable")).isEqualTo(unstorableBefore + 1);
    }

    /** Text of about {@code length} characters that PostgreSQL cannot compress to fit an index row. */
    private static String incompressible(int length) {
        return IntStream.range(0, length / 36 + 1).mapToObj(i -> UUID.randomUUID().toString())
                .collect(Collectors.joining()).substring(0, length);
    }

    /** The first attempt published on dialer.webhook.deliveries under this key, read with a fresh group. */
    private static JsonNode publishedAttempt(String key) {
        InboundRecord record = KafkaSubscriber.receive(
                        KafkaSettings.of(Infrastructure.shared().kafkaBootstrapServers()), unique("it-attempts"),
                        List.of(Topics.WEBHOOK_DELIVERIES), 500)
                .filter(candidate -> key.equals(candidate.key()))
                .next()
                .block(WAIT);
        assertThat(record).isNotNull();
        return Contract.mapper().readTree(record.value());
    }

    private record Endpoint(String id, String path, String secret) {
    }

    /** Publishes a webhook (at the receiver unless a URL is given) and waits until the service knows it. */
    private Endpoint createWebhook(String account, String url) {
        String id = unique("wh");
        Endpoint endpoint = new Endpoint(id, "hooks/" + id, newSecret());
        WebhookConfig config = new WebhookConfig(id, account, url == null ? receiver.url(endpoint.path()) : url,
                "test", endpoint.secret(), true, Instant.now());
        publisher.publish(OutboundRecord.of(Topics.WEBHOOK_CONFIG, id, Contract.toBytes(config)))
                .block(Duration.ofSeconds(30));
        await().atMost(WAIT).until(() -> directory.find(id, Duration.ZERO).blockOptional().isPresent());
        return endpoint;
    }

    private static void assertSignedWith(String secret, WebhookReceiver.Received request) {
        assertThatCode(() -> new Webhook(secret).verify(request.bodyText(), request.headers()))
                .doesNotThrowAnyException();
    }

    private static void assertNotSignedWith(String secret, WebhookReceiver.Received request) {
        assertThatThrownBy(() -> new Webhook(secret).verify(request.bodyText(), request.headers()))
                .isInstanceOf(WebhookVerificationException.class);
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

    private List<String> attempts(String eventId, String target) {
        return database.sql("""
                        SELECT attempt_no, status_code FROM webhook.delivery_attempts
                        WHERE event_id = :eventId AND target = :target ORDER BY attempt_no""")
                .bind("eventId", eventId)
                .bind("target", target)
                .map(row -> row.get("attempt_no", Integer.class) + ":" + row.get("status_code", Integer.class))
                .all()
                .collectList()
                .block(Duration.ofSeconds(10));
    }

    private List<String> deadLetters(String eventId) {
        return ItFixture.deadLetters(database, eventId);
    }

    private String disabledReason(String webhookId) {
        return database.sql("SELECT disabled_reason FROM webhook.endpoint_state WHERE webhook_id = :id")
                .bind("id", webhookId)
                .map(row -> row.get("disabled_reason", String.class))
                .one()
                .block(Duration.ofSeconds(10));
    }

    private double deadLettersCounted(String reason) {
        Counter counter = meters.find("dialer.webhook.dead.letters").tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    private double skipped(String target, String reason) {
        return deliveries(target, "skipped", reason);
    }

    private double deliveries(String target, String outcome) {
        return deliveries(target, outcome, "ok");
    }

    private double deliveries(String target, String outcome, String reason) {
        Counter counter = meters.find("dialer.webhook.deliveries").tag("target", target).tag("outcome", outcome)
                .tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    private static void publish(String requestId, List<CallEvent> events) {
        publisher.publishAll(events.stream()
                        .map(event -> OutboundRecord.of(Topics.CALL_EVENTS, requestId, Contract.toBytes(event)))
                        .toList())
                .block(Duration.ofSeconds(30));
    }

    private static CallCommand command(String account, String webhookId, Hook notify, Hook action) {
        return new CallCommand(CallCommand.VERSION, unique("req"), account, "+14155550100", "+919876543210", "23",
                null, "it", 0, 0, 1, webhookId, null, Map.of(), null, null, notify, action, null, Instant.now());
    }

    private static CallCommand command(String requestId, String account, String webhookId, Hook notify) {
        return new CallCommand(CallCommand.VERSION, requestId, account, "+14155550100", "+919876543210", "23",
                null, "it", 0, 0, 1, webhookId, null, Map.of(), null, null, notify, null, null, Instant.now());
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
