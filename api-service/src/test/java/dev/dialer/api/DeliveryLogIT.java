package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.api.delivery.DeliveryLogPruner;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DeliveryAttempt;
import dev.dialer.common.contract.ReplayRequest;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import reactor.test.StepVerifier;
import tools.jackson.databind.JsonNode;

class DeliveryLogIT extends RunningApiService {

    private static final String WEBHOOKS = "/api/v2/webhooks/";
    private static final Duration READ_MODEL = Duration.ofSeconds(60);

    @Autowired
    DeliveryLogPruner pruner;

    @Test
    void keepsEachAttemptOnceNewestFirstAndFiltersByEventAndOutcome() throws Exception {
        String webhook = webhook(KEY);
        Instant t0 = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(60);
        DeliveryAttempt first = attempt(webhook, ACCOUNT, "evt-a", 1, DeliveryAttempt.Outcome.RETRYING, 500, t0, false);
        DeliveryAttempt second = attempt(webhook, ACCOUNT, "evt-a", 2, DeliveryAttempt.Outcome.DELIVERED, 200,
                t0.plusSeconds(10), false);
        DeliveryAttempt other = attempt(webhook, ACCOUNT, "evt-b", 1, DeliveryAttempt.Outcome.DELIVERED, 204,
                t0.plusSeconds(20), false);

        produce(first, second, other, first);

        String log = WEBHOOKS + webhook + "/deliveries";
        await().atMost(READ_MODEL).untilAsserted(() ->
                assertThat(json(get(log, KEY)).get("data").findValuesAsString("attempt_id")).containsExactly(
                        other.attemptId(), second.attemptId(), first.attemptId()));
        JsonNode newest = json(get(log, KEY)).get("data").get(0);
        assertThat(newest.get("event_id").asString()).isEqualTo("evt-b");
        assertThat(newest.get("status_code").asInt()).isEqualTo(204);
        assertThat(newest.get("outcome").asString()).isEqualTo("delivered");
        assertThat(json(get(log + "?event_id=evt-a", KEY)).get("data").findValuesAsString("attempt_id"))
                .containsExactly(second.attemptId(), first.attemptId());
        assertThat(json(get(log + "?outcome=retrying", KEY)).get("data").findValuesAsString("attempt_id"))
                .containsExactly(first.attemptId());

        JsonNode page1 = json(get(log + "?limit=2", KEY));
        assertThat(page1.get("data").findValuesAsString("attempt_id"))
                .containsExactly(other.attemptId(), second.attemptId());
        JsonNode page2 = json(get(log + "?limit=2&cursor=" + page1.get("next_cursor").asString(), KEY));
        assertThat(page2.get("data").findValuesAsString("attempt_id")).containsExactly(first.attemptId());
        assertThat(page2.get("next_cursor").isNull()).isTrue();

        HttpResponse<String> badOutcome = get(log + "?outcome=lost&limit=0", KEY);
        assertThat(badOutcome.statusCode()).isEqualTo(400);
        assertThat(json(badOutcome).get("errors").findValuesAsString("field"))
                .containsExactlyInAnyOrder("outcome", "limit");
    }

    @Test
    void aPageIsReadNewestFirstFromAnIndexWithoutASortAndAnOutcomeFilterFromOneThatLeadsWithIt() throws Exception {
        // A rare outcome (a few dead attempts among many delivered ones) is read from its own rows, not found among
        // the webhook's. Ten webhooks' logs, so that one is a part of the table as in any deployment.
        String webhooks = "it-plan-" + UUID.randomUUID();
        String page = "SELECT * FROM api.webhook_deliveries WHERE webhook_id = '" + webhooks + "-0'"
                + " AND account_id = 'a'%s AND (attempted_at, attempt_id) < (now(), 'z')"
                + " ORDER BY attempted_at DESC, attempt_id DESC LIMIT 51";
        try (Connection db = database(); Statement statement = db.createStatement()) {
            statement.execute("""
                    INSERT INTO api.webhook_deliveries (attempt_id, account_id, webhook_id, event_id, target,
                        attempt_no, outcome, latency_ms, attempted_at)
                    SELECT gen_random_uuid()::text, 'a', '%s-' || w, gen_random_uuid()::text, 'webhook', 1,
                           CASE WHEN i %% 1000 = 0 THEN 'dead' ELSE 'delivered' END, 42,
                           now() - i * interval '1 second'
                      FROM generate_series(0, 9) AS w, generate_series(1, 3000) AS i""".formatted(webhooks));
            statement.execute("ANALYZE api.webhook_deliveries");
            statement.execute("SET enable_seqscan = off");
            assertThat(plan(statement, page.formatted("")))
                    .contains("using webhook_deliveries_page_idx").doesNotContain("Sort");
            assertThat(plan(statement, page.formatted(" AND outcome = 'dead'")))
                    .contains("Index Scan Backward using webhook_deliveries_outcome_idx").doesNotContain("Sort");
        }
    }

    @Test
    void prunesAttemptsOlderThanTheRetentionAndKeepsTheOthers() throws Exception {
        String webhook = webhook(KEY);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        DeliveryAttempt old = attempt(webhook, ACCOUNT, "evt-old", 1, DeliveryAttempt.Outcome.DELIVERED, 200,
                now.minus(Duration.ofDays(31)), false);
        DeliveryAttempt fresh = attempt(webhook, ACCOUNT, "evt-fresh", 1, DeliveryAttempt.Outcome.DELIVERED, 200, now,
                false);
        produce(old, fresh);
        String log = WEBHOOKS + webhook + "/deliveries";
        await().atMost(READ_MODEL).untilAsserted(() -> assertThat(json(get(log, KEY)).get("data")
                .findValuesAsString("attempt_id")).containsExactly(fresh.attemptId(), old.attemptId()));

        pruner.prune().as(StepVerifier::create)
                .assertNext(deleted -> assertThat(deleted).isPositive())
                .expectComplete()
                .verify(Duration.ofSeconds(30));

        assertThat(json(get(log, KEY)).get("data").findValuesAsString("attempt_id"))
                .containsExactly(fresh.attemptId());
        assertThat(scrape()).containsPattern("dialer_api_delivery_log_pruned_total(\\{[^}]*})? [1-9]");
    }

    @Test
    void aDeletedWebhooksLogCannotBeReadAndGoesWithTheRetentionNotWithTheDelete() throws Exception {
        String webhook = webhook(KEY);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        DeliveryAttempt old = attempt(webhook, ACCOUNT, "evt-deleted-old", 1, DeliveryAttempt.Outcome.DELIVERED, 200,
                now.minus(Duration.ofDays(31)), false);
        DeliveryAttempt fresh = attempt(webhook, ACCOUNT, "evt-deleted", 1, DeliveryAttempt.Outcome.DELIVERED, 200,
                now, false);
        produce(old, fresh);
        await().atMost(READ_MODEL).until(() -> loggedAttempts(webhook) == 2);

        assertThat(delete("/api/v2/webhooks/" + webhook, KEY).statusCode()).isEqualTo(204);

        // The delete's transaction does not grow with the log: the rows stay, out of reach, for the pruner.
        assertThat(get(WEBHOOKS + webhook + "/deliveries", KEY).statusCode()).isEqualTo(404);
        assertThat(loggedAttempts(webhook)).isEqualTo(2);
        pruner.prune().as(StepVerifier::create)
                .assertNext(deleted -> assertThat(deleted).isPositive())
                .expectComplete()
                .verify(Duration.ofSeconds(30));
        assertThat(loggedAttempts(webhook)).isEqualTo(1);
    }

    @Test
    void anAttemptThatDisabledTheEndpointDisablesTheWebhookAndRepublishesIt() throws Exception {
        String webhook = webhook(KEY);
        DeliveryAttempt gone = attempt(webhook, ACCOUNT, "evt-gone", 1, DeliveryAttempt.Outcome.DEAD, 410,
                Instant.now().plusSeconds(1), true);

        produce(gone);

        await().atMost(READ_MODEL).untilAsserted(() ->
                assertThat(json(get("/api/v2/webhooks/" + webhook, KEY)).get("enabled").asBoolean()).isFalse());
        assertThat(json(get("/api/v2/webhooks/" + webhook, KEY)).get("disabled_reason").asString())
                .isEqualTo("gone");
        WebhookConfig config = WebhookChangesIT.latestConfig(webhook);
        assertThat(config.enabled()).isFalse();
        assertThat(config.disabledReason()).isEqualTo("gone");

        HttpResponse<String> reenabled = patch("/api/v2/webhooks/" + webhook, KEY, "{\"enabled\":true}");
        assertThat(json(reenabled).get("disabled_reason").isNull()).isTrue();
        assertThat(WebhookChangesIT.latestConfig(webhook).enabled()).isTrue();
    }

    @Test
    void anAttemptOlderThanTheCustomersLastChangeDoesNotDisableTheWebhookAgain() throws Exception {
        String webhook = webhook(KEY);
        Instant beforeReEnabling = Instant.now().minusSeconds(60);
        patch("/api/v2/webhooks/" + webhook, KEY, "{\"enabled\":false}");
        patch("/api/v2/webhooks/" + webhook, KEY, "{\"enabled\":true}");
        DeliveryAttempt stale = attempt(webhook, ACCOUNT, "evt-stale", 5, DeliveryAttempt.Outcome.DEAD, 503,
                beforeReEnabling, true);

        produce(stale);

        await().atMost(READ_MODEL).untilAsserted(() ->
                assertThat(json(get(WEBHOOKS + webhook + "/deliveries", KEY)).get("data")
                        .findValuesAsString("attempt_id")).containsExactly(stale.attemptId()));
        assertThat(json(get("/api/v2/webhooks/" + webhook, KEY)).get("enabled").asBoolean()).isTrue();
        assertThat(WebhookChangesIT.latestConfig(webhook).enabled()).isTrue();
    }

    @Test
    void anEditOfTheDescriptionAfterTheFailureWasObservedDoesNotKeepTheWebhookEnabled() throws Exception {
        // webhook-service disabled the endpoint a moment ago; the customer renamed it before api-service heard.
        String webhook = webhook(KEY);
        Thread.sleep(5);
        Instant observed = Instant.now();
        Thread.sleep(5);
        patch("/api/v2/webhooks/" + webhook, KEY, "{\"description\":\"renamed\"}");
        DeliveryAttempt failing = attempt(webhook, ACCOUNT, "evt-failing", 8, DeliveryAttempt.Outcome.DEAD, 503,
                observed, true);

        produce(failing);

        await().atMost(READ_MODEL).untilAsserted(() ->
                assertThat(json(get("/api/v2/webhooks/" + webhook, KEY)).get("enabled").asBoolean()).isFalse());
        WebhookConfig config = WebhookChangesIT.latestConfig(webhook);
        assertThat(config.enabled()).isFalse();
        assertThat(config.description()).isEqualTo("renamed");
        assertThat(config.enabledAt()).as("enabled since it was created").isBefore(observed);
    }

    @Test
    void skipsHookAttemptsAndUnreadableValuesAndKeepsConsuming() throws Exception {
        String webhook = webhook(KEY);
        DeliveryAttempt hook = new DeliveryAttempt(DeliveryAttempt.VERSION, UUID.randomUUID().toString(), "evt-hook",
                "call.final", null, "notify_url", "r1", ACCOUNT, 1, DeliveryAttempt.Outcome.DELIVERED, 200, null, null,
                3, null, false, false, Instant.now());
        DeliveryAttempt after = attempt(webhook, ACCOUNT, "evt-after", 1, DeliveryAttempt.Outcome.DELIVERED, 200,
                Instant.now(), false);

        try (KafkaProducer<String, byte[]> producer = producer()) {
            producer.send(new ProducerRecord<>(Topics.WEBHOOK_DELIVERIES, webhook, "not json".getBytes())).get();
            producer.send(new ProducerRecord<>(Topics.WEBHOOK_DELIVERIES, webhook, Contract.toBytes(hook))).get();
        }
        produce(after);

        await().atMost(READ_MODEL).untilAsserted(() ->
                assertThat(json(get(WEBHOOKS + webhook + "/deliveries", KEY)).get("data")
                        .findValuesAsString("attempt_id")).containsExactly(after.attemptId()));
        String metrics = scrape();
        assertThat(metrics).containsPattern("dialer_api_delivery_log_records_total\\{[^}]*outcome=\"skipped_hook\"");
        assertThat(metrics)
                .containsPattern("dialer_api_delivery_log_records_total\\{[^}]*outcome=\"skipped_unreadable\"");
    }

    @Test
    void anAttemptTheDatabaseRefusesIsSkippedAndTheAttemptsBehindItAreRecorded() throws Exception {
        String webhook = webhook(KEY);
        Instant now = Instant.now();
        // An attempt id longer than an index entry may be (the contract sets no bound): PostgreSQL refuses its row
        // (54000) every time. Random, so that compressing it does not bring it under the bound.
        String tooLong = String.join("", java.util.stream.Stream.generate(() -> UUID.randomUUID().toString())
                .limit(250).toList());
        DeliveryAttempt refused = new DeliveryAttempt(DeliveryAttempt.VERSION, tooLong, "evt-refused", "call.final",
                webhook, "webhook", "r-refused", ACCOUNT, 1, DeliveryAttempt.Outcome.DELIVERED, 200, null, "ok", 42,
                null, false, false, now);
        DeliveryAttempt after = attempt(webhook, ACCOUNT, "evt-after-refused", 1, DeliveryAttempt.Outcome.DELIVERED,
                200, now.plusSeconds(1), false);

        produce(refused, after);

        await().atMost(READ_MODEL).untilAsserted(() ->
                assertThat(json(get(WEBHOOKS + webhook + "/deliveries", KEY)).get("data")
                        .findValuesAsString("attempt_id")).containsExactly(after.attemptId()));
        assertThat(scrape())
                .containsPattern("dialer_api_delivery_log_records_total\\{[^}]*outcome=\"refused\"[^}]*} 1\\.0");
    }

    @Test
    void anEndpointAnswerWithNulCharactersIsKeptAndTheLogGoesOn() throws Exception {
        String webhook = webhook(KEY);
        Instant now = Instant.now();
        DeliveryAttempt binary = new DeliveryAttempt(DeliveryAttempt.VERSION, UUID.randomUUID().toString(), "evt-nul",
                "call.final", webhook, "webhook", "r-nul", ACCOUNT, 1, DeliveryAttempt.Outcome.RETRYING, 500,
                "HTTP 500\u0000", "\u001f\u008b\u0000gzip", 5, now.plusSeconds(60), false, false, now);
        DeliveryAttempt after = attempt(webhook, ACCOUNT, "evt-after-nul", 1, DeliveryAttempt.Outcome.DELIVERED, 200,
                now.plusSeconds(1), false);

        try (KafkaProducer<String, byte[]> producer = producer()) {
            // NUL on the wire, as a webhook-service that does not replace it publishes the attempt.
            String withNul = Contract.toJson(binary).replace("\uFFFD", "\\u0000");
            assertThat(withNul).contains("\"error\":\"HTTP 500\\u0000\"");
            producer.send(new ProducerRecord<>(Topics.WEBHOOK_DELIVERIES, webhook,
                    withNul.getBytes(StandardCharsets.UTF_8))).get();
        }
        produce(after);

        await().atMost(READ_MODEL).untilAsserted(() ->
                assertThat(json(get(WEBHOOKS + webhook + "/deliveries", KEY)).get("data")
                        .findValuesAsString("attempt_id")).containsExactly(after.attemptId(), binary.attemptId()));
        JsonNode kept = json(get(WEBHOOKS + webhook + "/deliveries?event_id=evt-nul", KEY)).get("data").get(0);
        assertThat(kept.get("response_body").asString()).isEqualTo("\u001f\u008b\uFFFDgzip");
        assertThat(kept.get("error").asString()).isEqualTo("HTTP 500\uFFFD");
    }

    @Test
    void anotherAccountSeesNeitherTheLogNorCanReplay() throws Exception {
        String otherKey = TestAccounts.another();
        String foreign = webhook(otherKey);

        assertThat(get(WEBHOOKS + foreign + "/deliveries", KEY).statusCode()).isEqualTo(404);
        assertThat(post(WEBHOOKS + foreign + "/replay", JSON_TYPE, KEY, "{\"event_ids\":[\"evt-1\"]}").statusCode())
                .isEqualTo(404);
        assertThat(get(WEBHOOKS + foreign + "/deliveries", otherKey).statusCode()).isEqualTo(200);
    }

    @Test
    void replayPublishesAReplayRequestAndAnswersItsId() throws Exception {
        String webhook = webhook(KEY);

        HttpResponse<String> byEvents = post(WEBHOOKS + webhook + "/replay", JSON_TYPE, KEY,
                "{\"event_ids\":[\"evt-1\",\"evt-2\"]}");
        HttpResponse<String> byRange = post(WEBHOOKS + webhook + "/replay", JSON_TYPE, KEY,
                "{\"from\":\"2026-01-01T00:00:00Z\",\"to\":\"2026-01-01T06:00:00+00:00\"}");

        assertThat(byEvents.statusCode()).as(byEvents.body()).isEqualTo(202);
        assertThat(byRange.statusCode()).as(byRange.body()).isEqualTo(202);
        String eventsReplay = json(byEvents).get("replay_id").asString();
        String rangeReplay = json(byRange).get("replay_id").asString();
        try (TopicProbe control = probe(Topics.WEBHOOK_CONTROL)) {
            Map<String, ReplayRequest> published = control.readToEnd().stream()
                    .filter(record -> webhook.equals(record.key()))
                    .map(ConsumerRecord::value)
                    .map(value -> Contract.read(value, ReplayRequest.class))
                    .collect(java.util.stream.Collectors.toMap(ReplayRequest::replayId, request -> request));
            assertThat(published.get(eventsReplay).eventIds()).containsExactly("evt-1", "evt-2");
            assertThat(published.get(eventsReplay).accountId()).isEqualTo(ACCOUNT);
            assertThat(published.get(rangeReplay).from()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
            assertThat(published.get(rangeReplay).to()).isEqualTo(Instant.parse("2026-01-01T06:00:00Z"));
            assertThat(published.get(rangeReplay).eventIds()).isEmpty();
        }
    }

    @Test
    void replayNamesTheFieldThatIsWrong() throws Exception {
        String replay = WEBHOOKS + webhook(KEY) + "/replay";

        assertThat(field(post(replay, JSON_TYPE, KEY, "{\"from\":\"2026-01-01T00:00:00Z\","
                + "\"to\":\"2026-03-01T00:00:00Z\"}"))).isEqualTo("to");
        assertThat(field(post(replay, JSON_TYPE, KEY, "{\"from\":\"yesterday\",\"to\":\"2026-01-01T00:00:00Z\"}")))
                .isEqualTo("from");
        assertThat(field(post(replay, JSON_TYPE, KEY, "{\"event_ids\":[],\"from\":\"2026-01-01T00:00:00Z\"}")))
                .isEqualTo("event_ids");
        assertThat(field(post(replay, JSON_TYPE, KEY, "{\"event_ids\":[\"ok\", 7]}"))).isEqualTo("event_ids[1]");
    }

    private String field(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        return json(response).get("errors").get(0).get("field").asString();
    }

    private String webhook(String key) throws Exception {
        HttpResponse<String> created = post("/api/v2/webhooks", JSON_TYPE, key,
                "{\"url\":\"https://log.example.com/" + UUID.randomUUID() + "\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return json(created).get("id").asString();
    }

    private static DeliveryAttempt attempt(String webhook, String account, String eventId, int attemptNo,
                                           DeliveryAttempt.Outcome outcome, int status, Instant at,
                                           boolean disabled) {
        return new DeliveryAttempt(DeliveryAttempt.VERSION, UUID.randomUUID().toString(), eventId, "call.final",
                webhook, "webhook", UUID.randomUUID().toString(), account, attemptNo, outcome, status, null, "ok",
                42, outcome == DeliveryAttempt.Outcome.RETRYING ? at.plusSeconds(60) : null, disabled, false, at);
    }

    private static int loggedAttempts(String webhook) throws Exception {
        try (Connection db = database();
             PreparedStatement count = db.prepareStatement(
                     "SELECT count(*) FROM api.webhook_deliveries WHERE webhook_id = ?")) {
            count.setString(1, webhook);
            try (ResultSet rows = count.executeQuery()) {
                rows.next();
                return rows.getInt(1);
            }
        }
    }

    private static KafkaProducer<String, byte[]> producer() {
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Infrastructure.shared().kafkaBootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
    }

    private static void produce(DeliveryAttempt... attempts) throws Exception {
        try (KafkaProducer<String, byte[]> producer = producer()) {
            for (DeliveryAttempt attempt : List.of(attempts)) {
                producer.send(new ProducerRecord<>(Topics.WEBHOOK_DELIVERIES, attempt.webhookId(),
                        Contract.toBytes(attempt))).get();
            }
        }
    }
}
