package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.api.webhook.WebhookDisabler;
import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DncEntry;
import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

/**
 * api-service whose Kafka acknowledges later than the API waits (the producer holds each record two seconds before it
 * sends it, the API waits half a second): every change is answered 503, while its record still reaches the topic.
 * What the API answered must still be what the topic says (decision 0127): a change answered 503 is followed on the
 * topic by the state the API shows, and a campaign cancel answered 503 stays.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=api-service",
        "dialer.api.kafka.ack-timeout=PT0.5S",
        "dialer.kafka.properties.linger.ms=2000",
        // A restatement sent at any moment would take a waiting record of a test with it, in time; what a sweeper does
        // is OwedStatesIT's (decision 0129).
        "dialer.api.owed-states.sweep=false",
        "dialer.api.bootstrap.account-id=" + SlowAcknowledgementIT.ACCOUNT,
        "dialer.api.bootstrap.api-key=" + SlowAcknowledgementIT.KEY})
class SlowAcknowledgementIT {

    static final String ACCOUNT = "it-slow-ack";
    static final String KEY = "dk_itSlowAck0123456789abcdefghijklmnopqrstuvwxyz";
    private static final Duration LANDED = Duration.ofSeconds(30);
    private static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    /**
     * Past the producer's linger (2 s) after the last answer, with room for the restatements a 503 hands the producer
     * after its answer, on a busy machine.
     */
    private static final Duration LINGERED = Duration.ofSeconds(5);
    private static volatile boolean warm;

    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;
    @Autowired
    MeterRegistry registry;
    @Autowired
    WebhookDisabler disabler;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
    }

    /**
     * The producer's first record to a topic waits for the topic's metadata, and a request cancelled meanwhile may
     * send nothing: a first change to each topic the tests read makes the producer know it. Each test leaves no record
     * unsent when it ends: the producer sends every batch for the broker once one is due, so a record produced while
     * another test's waits would be acknowledged in time.
     */
    @BeforeEach
    void producerKnowsTheTopics() throws Exception {
        if (warm) {
            return;
        }
        send("POST", "/api/v2/webhooks", "{\"url\":\"https://warm.example.com/hooks\"}");
        send("POST", "/api/v2/campaigns/" + insertCall("warm-" + UUID.randomUUID()).campaign() + "/pause", "");
        send("PUT", "/api/v2/account/settings", "{}", TestAccounts.another());
        send("PUT", "/api/v2/dnc/" + number(), "{}");
        Thread.sleep(LINGERED.toMillis());
        warm = true;
    }

    @Test
    void aSubscriptionWhoseCreateWasAnswered503IsRemovedFromTheTopicItReached() throws Exception {
        String webhookId = insertWebhook();

        HttpResponse<String> response = send("POST", "/api/v2/subscriptions",
                "{\"webhook_id\":\"" + webhookId + "\",\"event_types\":[\"call.final\"]}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(503);

        try (TopicProbe topic = RunningApiService.probe(Topics.WEBHOOK_CONFIG)) {
            await().atMost(LANDED).untilAsserted(() -> {
                List<ConsumerRecord<String, byte[]>> records = topic.readToEnd();
                Optional<ConsumerRecord<String, byte[]>> created = records.stream()
                        .filter(record -> SubscriptionConfig.isSubscriptionKey(record.key()) && record.value() != null
                                && new String(record.value(), StandardCharsets.UTF_8).contains(webhookId))
                        .findFirst();
                assertThat(created).as("the create's record reached the topic; seen %s", records.stream()
                        .map(r -> r.key() + "@" + r.offset()).toList()).isPresent();
                assertThat(records.stream().filter(record -> record.key().equals(created.get().key())
                                && record.offset() > created.get().offset()).toList())
                        .as("the record a 503 answered is followed by its tombstone, nobody being able to delete it; "
                                + "its key's records: %s", records.stream()
                                .filter(record -> record.key().equals(created.get().key()))
                                .map(record -> record.partition() + "@" + record.offset() + "="
                                        + (record.value() == null ? "null" : "value")).toList())
                        .singleElement().satisfies(record -> assertThat(record.value()).isNull());
            });
        }
        assertSaysUndone(response);
    }

    @Test
    void aWebhookWhoseCreateWasAnswered503IsFollowedByItsTombstone() throws Exception {
        String url = "https://created-" + UUID.randomUUID() + ".example.com/hooks";

        HttpResponse<String> response = send("POST", "/api/v2/webhooks", "{\"url\":\"" + url + "\"}");
        assertUnavailable(response);

        try (TopicProbe topic = RunningApiService.probe(Topics.WEBHOOK_CONFIG)) {
            await().atMost(LANDED).untilAsserted(() -> {
                List<ConsumerRecord<String, byte[]>> records = topic.readToEnd();
                Optional<ConsumerRecord<String, byte[]>> created = records.stream()
                        .filter(record -> record.value() != null
                                && new String(record.value(), StandardCharsets.UTF_8).contains(url))
                        .findFirst();
                assertThat(created).as("the create's record reached the topic").isPresent();
                List<ConsumerRecord<String, byte[]>> ofKey = records.stream()
                        .filter(record -> record.key().equals(created.get().key())).toList();
                assertThat(ofKey).as("the webhook nobody can reference is followed by its tombstone: %s",
                                ofKey.stream().map(record -> record.offset() + "="
                                        + (record.value() == null ? "tombstone" : "config")).toList())
                        .hasSize(2).last().satisfies(record -> assertThat(record.value()).isNull());
            });
        }
        assertSaysUndone(response);
    }

    @Test
    void dncChangesAnswered503AreFollowedByEachNumbersCommittedState() throws Exception {
        String held = number();
        String put = number();
        String imported = number();
        DncRows.insert(ACCOUNT, "kept", held);

        HttpResponse<String> putIt = send("PUT", "/api/v2/dnc/" + put, "{\"reason\":\"put\"}");
        assertUnavailable(putIt);
        awaitLateThenCommitted(Topics.DNC, DncEntry.key(ACCOUNT, put), value -> value != null, value -> value == null);
        assertSaysUndone(putIt);

        HttpResponse<String> delete = send("DELETE", "/api/v2/dnc/" + held, null);
        assertUnavailable(delete);
        awaitLateThenCommitted(Topics.DNC, DncEntry.key(ACCOUNT, held), value -> value == null,
                value -> value != null && "kept".equals(dnc(value).reason()));
        assertSaysUndone(delete);

        HttpResponse<String> imports = send("POST", "/api/v2/dnc", "[" + String.join(",", Stream.of(held, put, imported)
                .map(number -> "{\"number\":\"" + number + "\",\"reason\":\"imported\"}").toList()) + "]");
        assertUnavailable(imports);
        Predicate<byte[]> late = value -> value != null && "imported".equals(dnc(value).reason());
        awaitLateThenCommitted(Topics.DNC, DncEntry.key(ACCOUNT, held), late,
                value -> value != null && "kept".equals(dnc(value).reason()));
        awaitLateThenCommitted(Topics.DNC, DncEntry.key(ACCOUNT, put), late, value -> value == null);
        awaitLateThenCommitted(Topics.DNC, DncEntry.key(ACCOUNT, imported), late, value -> value == null);
        assertSaysUndone(imports);
        assertThat(send("GET", "/api/v2/dnc/" + held, null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/api/v2/dnc/" + imported, null).statusCode()).isEqualTo(404);
    }

    @Test
    void aCampaignCancelAnswered503StaysAndNothingIsPublishedAfterIt() throws Exception {
        String campaign = insertCall("cancel-" + UUID.randomUUID()).campaign();

        HttpResponse<String> cancel = send("POST", "/api/v2/campaigns/" + campaign + "/cancel", "");
        assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(503);
        assertThat(state(campaign)).as("the API's state after a cancel answered 503").isEqualTo("canceled");

        for (String action : List.of("resume", "pause")) {
            HttpResponse<String> refused = send("POST", "/api/v2/campaigns/" + campaign + "/" + action, "");
            assertThat(refused.statusCode()).as(action + " after the cancel: " + refused.body()).isEqualTo(409);
            assertThat(json(refused).get("type").asString())
                    .isEqualTo("https://dialer.dev/problems/campaign-canceled");
        }
        // Answered 202 if it went out with the first one's batch, 503 otherwise: published again either way.
        HttpResponse<String> repeated = send("POST", "/api/v2/campaigns/" + campaign + "/cancel", "");
        assertThat(repeated.statusCode()).as(repeated.body()).isIn(202, 503);

        String key = CallControl.campaignKey(ACCOUNT, campaign);
        try (TopicProbe topic = RunningApiService.probe(Topics.CALL_CONTROL)) {
            await().atMost(LANDED).untilAsserted(() -> assertThat(controls(topic, key))
                    .as("both cancels landed (and a sweeper's copy of one, once due), nothing else on the campaign's key")
                    .hasSizeGreaterThanOrEqualTo(2).allSatisfy(control -> assertThat(control.action())
                            .isEqualTo(CallControl.Action.CANCEL)));
        }
        assertThat(state(campaign)).isEqualTo("canceled");
        assertThat(detail(cancel)).contains("canceled all the same", "published again until Kafka has it")
                .doesNotContain(IDEMPOTENCY_KEY);
    }

    /**
     * This instance does not sweep (`sweep=false`), yet its gauges read the rows owed every tick: with no instance
     * sweeping, the alert on their age must still see them.
     */
    @Test
    void anInstanceThatDoesNotSweepStillShowsTheStatesOwed() throws Exception {
        String account = "it-slow-ack-owed-" + UUID.randomUUID();
        long row;
        try (Connection db = RunningApiService.database(); PreparedStatement insert = db.prepareStatement("""
                INSERT INTO api.owed_states (kind, account_id, object_id, due_at)
                VALUES ('settings', ?, ?, now() + interval '1 hour') RETURNING id""")) {
            insert.setString(1, account);
            insert.setString(2, account);
            try (ResultSet id = insert.executeQuery()) {
                assertThat(id.next()).isTrue();
                row = id.getLong(1);
            }
        }
        try {
            await().atMost(LANDED).untilAsserted(() -> assertThat(
                    registry.get("dialer.api.owed_states").gauge().value()).isGreaterThanOrEqualTo(1));
        } finally {
            try (Connection db = RunningApiService.database();
                 PreparedStatement delete = db.prepareStatement("DELETE FROM api.owed_states WHERE id = ?")) {
                delete.setLong(1, row);
                delete.executeUpdate();
            }
        }
    }

    @Test
    void aPauseOrResumeAnswered503IsFollowedByTheCampaignsCommittedState() throws Exception {
        String active = insertCall("pause-" + UUID.randomUUID()).campaign();
        String paused = insertCall("resume-" + UUID.randomUUID()).campaign();
        String pausedBy = UUID.randomUUID().toString();
        try (Connection db = RunningApiService.database(); PreparedStatement insert = db.prepareStatement("""
                INSERT INTO api.campaign_states (account_id, campaign, state, control_id, updated_at)
                VALUES (?, ?, 'paused', ?, now())""")) {
            insert.setString(1, ACCOUNT);
            insert.setString(2, paused);
            insert.setString(3, pausedBy);
            insert.executeUpdate();
        }

        HttpResponse<String> pause = send("POST", "/api/v2/campaigns/" + active + "/pause", "");
        HttpResponse<String> resume = send("POST", "/api/v2/campaigns/" + paused + "/resume", "");

        assertUnavailable(pause);
        assertUnavailable(resume);
        assertThat(state(active)).isEqualTo("active");
        assertThat(state(paused)).isEqualTo("paused");
        try (TopicProbe topic = RunningApiService.probe(Topics.CALL_CONTROL)) {
            await().atMost(LANDED).untilAsserted(() -> {
                assertThat(controls(topic, CallControl.campaignKey(ACCOUNT, active))).extracting(CallControl::action)
                        .as("the late pause, then the campaign's committed state: active")
                        .containsExactly(CallControl.Action.PAUSE, CallControl.Action.RESUME);
                List<CallControl> ofPaused = controls(topic, CallControl.campaignKey(ACCOUNT, paused));
                assertThat(ofPaused).extracting(CallControl::action)
                        .as("the late resume, then the campaign's committed state: paused")
                        .containsExactly(CallControl.Action.RESUME, CallControl.Action.PAUSE);
                assertThat(ofPaused.get(1).controlId()).isEqualTo(pausedBy);
            });
        }
        assertSaysUndone(pause);
        assertSaysUndone(resume);
    }

    @Test
    void aCallCancelAnswered503MayStillLandAndNothingPublishedUndoesIt() throws Exception {
        String callId = insertCall("calls-" + UUID.randomUUID()).id();

        HttpResponse<String> cancel = send("DELETE", "/api/v2/calls/" + callId, null);
        assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(503);
        // The call's state is the dialer's to tell, by its events: the API shows the call as it was.
        assertThat(json(send("GET", "/api/v2/calls/" + callId, null)).get("status").asString()).isEqualTo("queued");
        HttpResponse<String> repeated = send("DELETE", "/api/v2/calls/" + callId, null);
        assertThat(repeated.statusCode()).as("not refused: " + repeated.body()).isIn(202, 503);

        try (TopicProbe topic = RunningApiService.probe(Topics.CALL_CONTROL)) {
            await().atMost(LANDED).untilAsserted(() -> assertThat(controls(topic, CallControl.requestKey(callId)))
                    .as("only cancels are ever published under a request's key")
                    .hasSize(2).allSatisfy(control -> assertThat(control.action())
                            .isEqualTo(CallControl.Action.CANCEL)));
        }
        assertThat(detail(cancel)).contains("may still reach the dialer", "Repeat it")
                .doesNotContain(IDEMPOTENCY_KEY);
    }

    @Test
    void aWebhookChangeAnswered503IsFollowedByTheWebhooksCommittedConfig() throws Exception {
        String webhookId = insertWebhook();
        Stored committed = committedWebhook(webhookId);

        HttpResponse<String> patch = send("PATCH", "/api/v2/webhooks/" + webhookId,
                "{\"url\":\"https://changed.example.com/hooks\"}");
        assertUnavailable(patch);
        awaitLateThenCommitted(Topics.WEBHOOK_CONFIG, webhookId,
                value -> value != null && webhook(value).url().equals("https://changed.example.com/hooks"),
                value -> value != null && webhook(value).url().equals(committed.url()));
        assertSaysUndone(patch);

        HttpResponse<String> rotate = send("POST", "/api/v2/webhooks/" + webhookId + "/rotate-secret", "");
        assertUnavailable(rotate);
        awaitLateThenCommitted(Topics.WEBHOOK_CONFIG, webhookId,
                value -> value != null && !webhook(value).secret().equals(committed.secret()),
                value -> value != null && webhook(value).secret().equals(committed.secret())
                        && webhook(value).previousSecret() == null);
        assertThat(committedWebhook(webhookId).secret()).isEqualTo(committed.secret());
        assertSaysUndone(rotate);
    }

    /**
     * webhook-service found the endpoint gone; the disable's record lands after the API gave up on it. Left so, it
     * would stand after a customer's re-enable made meanwhile, and webhook-service would refuse an enabled webhook.
     */
    @Test
    void aDisableKafkaAcknowledgedTooLateIsFollowedByTheWebhooksCommittedConfig() throws Exception {
        String webhookId = insertWebhook();

        Optional<Throwable> failed = disabler.disable(ACCOUNT, webhookId, "gone", Instant.now())
                .map(disabled -> Optional.<Throwable>empty())
                .onErrorResume(error -> Mono.just(Optional.of(error)))
                .block(LANDED);

        assertThat(failed).as("Kafka acknowledged too late: not disabled").isPresent();
        awaitLateThenCommitted(Topics.WEBHOOK_CONFIG, webhookId,
                value -> value != null && !webhook(value).enabled() && "gone".equals(webhook(value).disabledReason()),
                value -> value != null && webhook(value).enabled());
        assertThat(enabled(webhookId)).as("the webhook as the API shows it").isTrue();
    }

    @Test
    void aWebhookDeleteAnswered503IsFollowedByTheWebhooksAndItsSubscriptionsCommittedConfigs() throws Exception {
        String webhookId = insertWebhook();
        String subscriptionId = insertSubscription(webhookId);

        HttpResponse<String> delete = send("DELETE", "/api/v2/webhooks/" + webhookId, null);
        assertUnavailable(delete);
        assertThat(send("GET", "/api/v2/webhooks/" + webhookId, null).statusCode()).isEqualTo(200);
        awaitLateThenCommitted(Topics.WEBHOOK_CONFIG, webhookId, value -> value == null,
                value -> value != null && webhook(value).id().equals(webhookId));
        awaitLateThenCommitted(Topics.WEBHOOK_CONFIG, SubscriptionConfig.key(subscriptionId), value -> value == null,
                value -> value != null
                        && Contract.read(value, SubscriptionConfig.class).webhookId().equals(webhookId));
        assertSaysUndone(delete);
    }

    @Test
    void aSubscriptionChangeAnswered503IsFollowedByItsCommittedConfig() throws Exception {
        String subscriptionId = insertSubscription(insertWebhook());

        HttpResponse<String> patch = send("PATCH", "/api/v2/subscriptions/" + subscriptionId,
                "{\"event_types\":[\"call.status\"]}");
        assertUnavailable(patch);
        awaitLateThenCommitted(Topics.WEBHOOK_CONFIG, SubscriptionConfig.key(subscriptionId),
                value -> value != null && Contract.read(value, SubscriptionConfig.class).eventTypes()
                        .equals(List.of("call.status")),
                value -> value != null && Contract.read(value, SubscriptionConfig.class).eventTypes()
                        .equals(List.of("call.final")));
        assertSaysUndone(patch);
    }

    @Test
    void aSettingsChangeAnswered503IsFollowedByTheAccountsCommittedSettings() throws Exception {
        AccountSettings stored = new AccountSettings(AccountSettings.VERSION, ACCOUNT, "IN", null, List.of(), null,
                List.of(), 3, Instant.now().truncatedTo(ChronoUnit.MICROS));
        try (Connection db = RunningApiService.database(); PreparedStatement upsert = db.prepareStatement("""
                INSERT INTO api.account_settings (account_id, settings, updated_at) VALUES (?, ?, now())
                ON CONFLICT (account_id) DO UPDATE SET settings = EXCLUDED.settings""")) {
            upsert.setString(1, ACCOUNT);
            upsert.setString(2, Contract.toJson(stored));
            upsert.executeUpdate();
        }

        HttpResponse<String> put = send("PUT", "/api/v2/account/settings", "{\"per_callee_daily_cap\":5}");
        assertUnavailable(put);
        awaitLateThenCommitted(Topics.ACCOUNT_CONFIG, ACCOUNT,
                value -> value != null && Integer.valueOf(5).equals(settings(value).perCalleeDailyCap()),
                value -> value != null && Integer.valueOf(3).equals(settings(value).perCalleeDailyCap()));
        assertSaysUndone(put);

        // An account that never wrote settings has none after a 503 either: its record is followed by a tombstone.
        String other = "it-slow-settings-" + UUID.randomUUID();
        String otherKey = TestAccounts.ensure(other);
        assertUnavailable(send("PUT", "/api/v2/account/settings", "{\"per_callee_daily_cap\":5}", otherKey));
        awaitLateThenCommitted(Topics.ACCOUNT_CONFIG, other, value -> value != null, value -> value == null);
    }

    @Test
    void a503OfARequestThatIsNoSendSaysWhatBecameOfItWithoutAnIdempotencyKey() throws Exception {
        String webhookId = insertWebhook();
        HttpResponse<String> dnc = send("PUT", "/api/v2/dnc/" + number(), "{\"reason\":\"asked\"}");
        HttpResponse<String> replay = send("POST", "/api/v2/webhooks/" + webhookId + "/replay",
                "{\"event_ids\":[\"evt_1\"]}");
        HttpResponse<String> create = send("POST", "/api/v2/webhooks", "{\"url\":\"https://new.example.com/hooks\"}");

        for (HttpResponse<String> response : List.of(dnc, replay, create)) {
            assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
            assertThat(detail(response)).startsWith("Kafka did not acknowledge the request within 500 ms.")
                    .doesNotContain(IDEMPOTENCY_KEY);
        }
        assertThat(detail(dnc)).contains("did not take effect");
        assertThat(detail(replay)).contains("may still take place");
        assertThat(detail(create)).contains("did not take effect");
        // Until the producer sent these records, a record of the next test would go out with them, in time.
        Thread.sleep(LINGERED.toMillis());
    }

    private static void assertUnavailable(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
        assertThat(response.headers().firstValue("Retry-After")).isPresent();
    }

    /** A 503 that says the change did not take effect, and nothing of an Idempotency-Key the endpoint does not take. */
    private static void assertSaysUndone(HttpResponse<String> response) {
        assertThat(detail(response)).startsWith("Kafka did not acknowledge the request within 500 ms.")
                .contains("did not take effect").doesNotContain(IDEMPOTENCY_KEY);
    }

    /**
     * Waits until the record of a change answered 503 ({@code late}) has landed under {@code key}, and the key's last
     * record after it is the committed state ({@code committed}).
     */
    private static void awaitLateThenCommitted(String topicName, String key, Predicate<byte[]> late,
                                               Predicate<byte[]> committed) {
        try (TopicProbe topic = RunningApiService.probe(topicName)) {
            await().atMost(LANDED).untilAsserted(() -> {
                List<ConsumerRecord<String, byte[]>> ofKey = topic.readToEnd().stream()
                        .filter(record -> key.equals(record.key())).toList();
                List<String> seen = ofKey.stream().map(record -> record.offset() + "="
                        + (record.value() == null ? "tombstone" : new String(record.value(), StandardCharsets.UTF_8)))
                        .toList();
                int landed = -1;
                for (int i = 0; i < ofKey.size(); i++) {
                    if (late.test(ofKey.get(i).value())) {
                        landed = i;
                    }
                }
                assertThat(landed).as("the record of the change answered 503 landed under %s: %s", key, seen)
                        .isNotNegative();
                assertThat(landed).as("it is followed by the committed state: %s", seen).isLessThan(ofKey.size() - 1);
                assertThat(committed.test(ofKey.get(ofKey.size() - 1).value()))
                        .as("the last record under %s is the committed state: %s", key, seen).isTrue();
            });
        }
    }

    /** The campaign's controls on the topic, oldest first. */
    private static List<CallControl> controls(TopicProbe topic, String key) {
        return topic.readToEnd().stream()
                .filter(record -> key.equals(record.key()) && record.value() != null)
                .map(record -> Contract.read(record.value(), CallControl.class))
                .toList();
    }

    private record Call(String id, String campaign) {
    }

    /** A queued call of the campaign, as the read model holds it. */
    private static Call insertCall(String campaign) throws Exception {
        String id = UUID.randomUUID().toString();
        try (Connection db = RunningApiService.database(); PreparedStatement insert = db.prepareStatement("""
                INSERT INTO api.calls (id, account_id, campaign, caller_id, callee, status, created_at, updated_at)
                VALUES (?, ?, ?, '+918068281234', '+919876543215', 'queued', now(), now())""")) {
            insert.setString(1, id);
            insert.setString(2, ACCOUNT);
            insert.setString(3, campaign);
            insert.executeUpdate();
        }
        return new Call(id, campaign);
    }

    private static String insertWebhook() throws Exception {
        String webhookId = "wh-" + UUID.randomUUID();
        try (Connection db = RunningApiService.database(); PreparedStatement insert = db.prepareStatement(
                "INSERT INTO api.webhooks (id, account_id, url, secret) VALUES (?, ?, ?, 'whsec_dGVzdA==')")) {
            insert.setString(1, webhookId);
            insert.setString(2, ACCOUNT);
            insert.setString(3, "https://hooks.example.com/" + webhookId);
            insert.executeUpdate();
        }
        return webhookId;
    }

    /** A subscription of the webhook to {@code call.final}. */
    private static String insertSubscription(String webhookId) throws Exception {
        String id = UUID.randomUUID().toString();
        try (Connection db = RunningApiService.database(); PreparedStatement insert = db.prepareStatement("""
                INSERT INTO api.subscriptions (id, account_id, webhook_id, event_types, enabled, created_at,
                    updated_at)
                VALUES (?, ?, ?, ARRAY['call.final'], true, now(), now())""")) {
            insert.setString(1, id);
            insert.setString(2, ACCOUNT);
            insert.setString(3, webhookId);
            insert.executeUpdate();
        }
        return id;
    }

    private record Stored(String url, String secret) {
    }

    private static boolean enabled(String webhookId) throws Exception {
        return committedWebhook(webhookId, "enabled", row -> row.getBoolean(1));
    }

    /** The webhook's url and secret as PostgreSQL holds them. */
    private static Stored committedWebhook(String webhookId) throws Exception {
        return committedWebhook(webhookId, "url, secret", row -> new Stored(row.getString(1), row.getString(2)));
    }

    /** What {@code read} takes from the webhook's row of {@code columns}, as PostgreSQL holds it. */
    private static <T> T committedWebhook(String webhookId, String columns, RowReader<T> read) throws Exception {
        try (Connection db = RunningApiService.database(); PreparedStatement query = db.prepareStatement(
                "SELECT " + columns + " FROM api.webhooks WHERE id = ?")) {
            query.setString(1, webhookId);
            try (ResultSet row = query.executeQuery()) {
                assertThat(row.next()).isTrue();
                return read.read(row);
            }
        }
    }

    private interface RowReader<T> {
        T read(ResultSet row) throws SQLException;
    }

    /** A mobile number of its own (E.164), so no earlier run's records are under its key. */
    private static String number() {
        long digits = Math.floorMod(UUID.randomUUID().getLeastSignificantBits(), 100_000_000L);
        return "+9198" + String.format("%08d", digits);
    }

    private static DncEntry dnc(byte[] value) {
        return Contract.read(value, DncEntry.class);
    }

    private static WebhookConfig webhook(byte[] value) {
        return Contract.read(value, WebhookConfig.class);
    }

    private static AccountSettings settings(byte[] value) {
        return Contract.read(value, AccountSettings.class);
    }

    private String state(String campaign) throws Exception {
        HttpResponse<String> progress = send("GET", "/api/v2/campaigns/" + campaign, null);
        assertThat(progress.statusCode()).as(progress.body()).isEqualTo(200);
        return json(progress).get("state").asString();
    }

    private static String detail(HttpResponse<String> response) {
        return json(response).get("detail").asString();
    }

    private static JsonNode json(HttpResponse<String> response) {
        return RunningApiService.JSON.readTree(response.body());
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        return send(method, path, body, KEY);
    }

    private HttpResponse<String> send(String method, String path, String body, String key) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json");
        request = body == null ? request.method(method, HttpRequest.BodyPublishers.noBody())
                : request.method(method, HttpRequest.BodyPublishers.ofString(body));
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
