package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.EventType;
import dev.dialer.common.kafka.Topics;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

/** Cancel, pause and resume published as CallControl records that a plain consumer reads back. */
class ControlIT extends RunningApiService {

    private static final String OTHER = "it-control-other";
    private static TopicProbe controls;
    @RegisterExtension
    static final CallEventsProducer events = new CallEventsProducer();
    private String otherKey;

    @AfterAll
    static void close() {
        if (controls != null) {
            controls.close();
        }
    }

    /** After the context started: it creates the topics the probe reads. */
    @BeforeEach
    void otherAccountAndProbe() throws Exception {
        otherKey = TestAccounts.ensure(OTHER);
        if (controls == null) {
            controls = probe(Topics.CALL_CONTROL);
        }
    }

    @Test
    void cancellingACallPublishesACancelKeyedByTheRequestAndAnswers202WithTheControlId() throws Exception {
        String id = sendOne("c-" + UUID.randomUUID());

        HttpResponse<String> cancel = delete("/api/v2/calls/" + id, KEY);

        assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(202);
        String controlId = json(cancel).get("control_id").asString();
        CallControl control = controlWithId(controlId);
        assertThat(control.action()).isEqualTo(CallControl.Action.CANCEL);
        assertThat(control.scope()).isEqualTo(CallControl.Scope.REQUEST);
        assertThat(control.requestId()).isEqualTo(id);
        assertThat(control.accountId()).isEqualTo(ACCOUNT);
        assertThat(recordOf(controlId).key()).isEqualTo("request:" + id);
    }

    @Test
    void cancellingAnotherAccountsOrAnUnknownCallIs404AndPublishesNothing() throws Exception {
        String id = sendOne(null);
        int before = controls.readToEnd().size();

        assertThat(delete("/api/v2/calls/" + id, otherKey).statusCode()).isEqualTo(404);
        assertThat(delete("/api/v2/calls/" + UUID.randomUUID(), KEY).statusCode()).isEqualTo(404);
        assertThat(controls.readToEnd()).hasSize(before);
    }

    @Test
    void cancellingAFinishedCallIs409WithItsFinalStatus() throws Exception {
        String id = sendOne(null);
        CallCommand command = CallEventsProducer.command(ACCOUNT, id, "+919876543215", null, null, 0);
        events.send(CallEventsProducer.event(command, EventType.FINAL, 3, "answered").build());
        await().atMost(Duration.ofSeconds(60)).until(() ->
                json(get("/api/v2/calls/" + id, KEY)).get("final_status").isString());

        HttpResponse<String> cancel = delete("/api/v2/calls/" + id, KEY);

        assertThat(cancel.statusCode()).isEqualTo(409);
        assertThat(cancel.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        JsonNode problem = json(cancel);
        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/call-already-final");
        assertThat(problem.get("final_status").asString()).isEqualTo("answered");
    }

    @Test
    void pausingAndResumingACampaignPublishesUnderTheCampaignKeyAndShowsInItsProgress() throws Exception {
        String campaign = "c-" + UUID.randomUUID();
        sendOne(campaign);

        HttpResponse<String> pause = post("/api/v2/campaigns/" + campaign + "/pause", null, KEY, "");
        assertThat(pause.statusCode()).as(pause.body()).isEqualTo(202);
        CallControl paused = controlWithId(json(pause).get("control_id").asString());
        assertThat(paused.action()).isEqualTo(CallControl.Action.PAUSE);
        assertThat(paused.key()).isEqualTo("campaign:" + ACCOUNT + ":" + campaign);
        assertThat(json(get("/api/v2/campaigns/" + campaign, KEY)).get("state").asString()).isEqualTo("paused");

        HttpResponse<String> resume = post("/api/v2/campaigns/" + campaign + "/resume", null, KEY, "");
        assertThat(resume.statusCode()).isEqualTo(202);
        assertThat(controlWithId(json(resume).get("control_id").asString()).action())
                .isEqualTo(CallControl.Action.RESUME);
        assertThat(json(get("/api/v2/campaigns/" + campaign, KEY)).get("state").asString()).isEqualTo("active");
    }

    @Test
    void aCampaignNameWithASemicolonIsControlledOnlyWrittenAsPercent3B() throws Exception {
        String campaign = "c-" + UUID.randomUUID();
        sendOne(campaign);
        sendOne(campaign + ";v2");

        // Unescaped, the path's parser would bind the name without ';v2', and cancel the other campaign.
        HttpResponse<String> unescaped = post("/api/v2/campaigns/" + campaign + ";v2/cancel", null, KEY, "");
        assertThat(unescaped.statusCode()).as(unescaped.body()).isEqualTo(400);
        assertThat(json(unescaped).get("errors").get(0).get("field").asString()).isEqualTo("name");
        assertThat(get("/api/v2/campaigns/" + campaign + ";v2", KEY).statusCode()).isEqualTo(400);
        assertThat(json(get("/api/v2/campaigns/" + campaign, KEY)).get("state").asString()).isEqualTo("active");

        HttpResponse<String> escaped = post("/api/v2/campaigns/" + campaign + "%3Bv2/pause", null, KEY, "");
        assertThat(escaped.statusCode()).as(escaped.body()).isEqualTo(202);
        assertThat(json(escaped).get("campaign").asString()).isEqualTo(campaign + ";v2");
        assertThat(json(get("/api/v2/campaigns/" + campaign + "%3Bv2", KEY)).get("state").asString())
                .isEqualTo("paused");
        assertThat(json(get("/api/v2/campaigns/" + campaign, KEY)).get("state").asString()).isEqualTo("active");
    }

    @Test
    void aCanceledCampaignCannotBeResumedAndAnotherAccountsCampaignIs404() throws Exception {
        String campaign = "c-" + UUID.randomUUID();
        sendOne(campaign);

        assertThat(post("/api/v2/campaigns/" + campaign + "/pause", null, otherKey, "").statusCode()).isEqualTo(404);
        assertThat(post("/api/v2/campaigns/" + campaign + "/cancel", null, KEY, "").statusCode()).isEqualTo(202);
        HttpResponse<String> resume = post("/api/v2/campaigns/" + campaign + "/resume", null, KEY, "");

        assertThat(resume.statusCode()).isEqualTo(409);
        assertThat(json(resume).get("type").asString()).isEqualTo("https://dialer.dev/problems/campaign-canceled");
    }

    /**
     * A cancel repeated (as a 503 asks) is answered as a cancel and published again: the first one's record may never
     * have reached Kafka. The campaign's state names the latest, which the dispatchers act on.
     */
    @Test
    void aCancelRepeatedOnACanceledCampaignIsPublishedAgain() throws Exception {
        String campaign = "c-" + UUID.randomUUID();
        sendOne(campaign);

        HttpResponse<String> first = post("/api/v2/campaigns/" + campaign + "/cancel", null, KEY, "");
        HttpResponse<String> again = post("/api/v2/campaigns/" + campaign + "/cancel", null, KEY, "");

        assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(202);
        String firstId = json(first).get("control_id").asString();
        String againId = json(again).get("control_id").asString();
        assertThat(againId).isNotEqualTo(firstId);
        assertThat(json(again).get("action").asString()).isEqualTo("cancel");
        assertThat(controlWithId(againId).action()).isEqualTo(CallControl.Action.CANCEL);
        assertThat(recordOf(againId).offset()).isGreaterThan(recordOf(firstId).offset());
        try (Connection db = database(); PreparedStatement query = db.prepareStatement(
                "SELECT state, control_id FROM api.campaign_states WHERE account_id = ? AND campaign = ?")) {
            query.setString(1, ACCOUNT);
            query.setString(2, campaign);
            try (ResultSet row = query.executeQuery()) {
                assertThat(row.next()).isTrue();
                assertThat(row.getString("state")).isEqualTo("canceled");
                assertThat(row.getString("control_id")).isEqualTo(againId);
            }
        }
    }

    @Test
    void aCancelThatWaitedBehindANewerCancelOfItsCampaignPublishesTheNewer() throws Exception {
        String campaign = "c-" + UUID.randomUUID();
        sendOne(campaign);
        // Another instance's cancel, issued after the one below: its state committed, its publication yet to come.
        String newer = UUID.randomUUID().toString();
        Instant newerAt = Instant.now().plus(Duration.ofMinutes(1)).truncatedTo(ChronoUnit.MICROS);
        try (Connection db = database(); PreparedStatement state = db.prepareStatement("""
                INSERT INTO api.campaign_states (account_id, campaign, state, control_id, updated_at)
                VALUES (?, ?, 'canceled', ?, ?)
                ON CONFLICT (account_id, campaign) DO UPDATE SET state = EXCLUDED.state,
                    control_id = EXCLUDED.control_id, updated_at = EXCLUDED.updated_at""")) {
            state.setString(1, ACCOUNT);
            state.setString(2, campaign);
            state.setString(3, newer);
            state.setObject(4, OffsetDateTime.ofInstant(newerAt, ZoneOffset.UTC));
            state.executeUpdate();
        }

        HttpResponse<String> older = post("/api/v2/campaigns/" + campaign + "/cancel", null, KEY, "");

        assertThat(older.statusCode()).as(older.body()).isEqualTo(202);
        assertThat(json(older).get("control_id").asString()).as("answered with what was published").isEqualTo(newer);
        String key = CallControl.campaignKey(ACCOUNT, campaign);
        List<ConsumerRecord<String, byte[]>> ofCampaign = controls.readToEnd().stream()
                .filter(record -> key.equals(record.key())).toList();
        CallControl last = Contract.read(ofCampaign.get(ofCampaign.size() - 1).value(), CallControl.class);
        assertThat(last.controlId()).as("the dispatchers keep the newer cut-off").isEqualTo(newer);
        assertThat(last.action()).isEqualTo(CallControl.Action.CANCEL);
        assertThat(last.issuedAt()).isEqualTo(newerAt);
        try (Connection db = database(); PreparedStatement query = db.prepareStatement(
                "SELECT control_id, updated_at FROM api.campaign_states WHERE account_id = ? AND campaign = ?")) {
            query.setString(1, ACCOUNT);
            query.setString(2, campaign);
            try (ResultSet row = query.executeQuery()) {
                assertThat(row.next()).isTrue();
                assertThat(row.getString("control_id")).isEqualTo(newer);
                assertThat(row.getObject("updated_at", OffsetDateTime.class).toInstant()).isEqualTo(newerAt);
            }
        }
    }

    @Test
    void aPauseOrResumeRacingACampaignsCancelIsNeverPublishedAfterIt() throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(6);
        try {
            for (int round = 0; round < 6; round++) {
                String campaign = "race-" + UUID.randomUUID();
                sendOne(campaign);
                CountDownLatch start = new CountDownLatch(1);
                List<Future<HttpResponse<String>>> answers = new ArrayList<>();
                for (String action : List.of("resume", "pause", "resume", "cancel", "resume", "pause")) {
                    answers.add(clients.submit(() -> {
                        start.await();
                        return post("/api/v2/campaigns/" + campaign + "/" + action, null, KEY, "");
                    }));
                }
                start.countDown();
                List<String> accepted = new ArrayList<>();
                for (Future<HttpResponse<String>> answer : answers) {
                    HttpResponse<String> response = answer.get(30, TimeUnit.SECONDS);
                    assertThat(response.statusCode()).as(response.body()).isIn(202, 409);
                    if (response.statusCode() == 202) {
                        accepted.add(json(response).get("control_id").asString());
                    }
                }

                String key = "campaign:" + ACCOUNT + ":" + campaign;
                List<CallControl> published = controls.readToEnd().stream()
                        .filter(record -> key.equals(record.key()) && record.value() != null)
                        .map(record -> Contract.read(record.value(), CallControl.class))
                        .toList();
                assertThat(published).extracting(CallControl::controlId)
                        .as("what was answered 202, and only that, is on the topic")
                        .containsExactlyInAnyOrderElementsOf(accepted);
                assertThat(published.get(published.size() - 1).action())
                        .as("round %d: the campaign's latest control, which the dispatchers act on", round)
                        .isEqualTo(CallControl.Action.CANCEL);
                assertThat(json(get("/api/v2/campaigns/" + campaign, KEY)).get("state").asString())
                        .isEqualTo("canceled");
            }
        } finally {
            clients.shutdownNow();
        }
    }

    @Test
    void aPauseWaitingForAnotherControlOfItsCampaignIsAnswered503InsteadOfHoldingAConnection() throws Exception {
        String campaign = "c-" + UUID.randomUUID();
        sendOne(campaign);
        ExecutorService client = Executors.newSingleThreadExecutor();
        // Another instance's control of the campaign, waiting for Kafka while it holds the campaign's lock.
        try (Connection other = database()) {
            other.setAutoCommit(false);
            try (PreparedStatement lock = other.prepareStatement(
                    "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))")) {
                lock.setString(1, CallControl.campaignKey(ACCOUNT, campaign));
                lock.execute();
            }
            Future<HttpResponse<String>> pause = client.submit(() ->
                    post("/api/v2/campaigns/" + campaign + "/pause", null, KEY, ""));

            HttpResponse<String> answered = pause.get(15, TimeUnit.SECONDS);

            assertThat(answered.statusCode()).as(answered.body()).isEqualTo(503);
            assertThat(answered.headers().firstValue("Retry-After")).isPresent();
            other.rollback();
        } finally {
            client.shutdownNow();
        }
        assertThat(post("/api/v2/campaigns/" + campaign + "/pause", null, KEY, "").statusCode())
                .as("once the lock is free").isEqualTo(202);
    }

    private String sendOne(String campaign) throws Exception {
        String name = campaign == null ? "" : ",\"name\":\"" + campaign + "\"";
        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, KEY,
                "{\"bridge\":\"918068281234\",\"to\":\"919876543215\",\"flow_id\":\"1\"" + name + "}");
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        return json(sent).get("data").get(0).get("id").asString();
    }

    private static CallControl controlWithId(String controlId) {
        return Contract.read(recordOf(controlId).value(), CallControl.class);
    }

    private static ConsumerRecord<String, byte[]> recordOf(String controlId) {
        List<ConsumerRecord<String, byte[]>> seen = controls.readToEnd();
        return seen.stream()
                .filter(record -> record.value() != null
                        && Contract.read(record.value(), CallControl.class).controlId().equals(controlId))
                .findFirst().orElseThrow(() -> new AssertionError("no control " + controlId + " on the topic"));
    }
}
