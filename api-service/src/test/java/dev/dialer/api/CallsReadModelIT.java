package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.api.calls.AcceptedCalls;
import dev.dialer.api.calls.CallLedger;
import dev.dialer.api.calls.ListPlans;
import dev.dialer.api.ids.TimeOrderedUuids;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.EventType;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.ReactiveTransactionManager;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

/** The calls read model built from events on the real topic, and its endpoints scoped to the caller's account. */
class CallsReadModelIT extends RunningApiService {

    @Autowired
    private CallLedger ledger;
    @Autowired
    private MeterRegistry registry;
    @Autowired
    private DatabaseClient db;
    @Autowired
    private ReactiveTransactionManager transactions;

    private static final String OTHER = "it-calls-other";
    private static final Duration WAIT = Duration.ofSeconds(60);
    @RegisterExtension
    static final CallEventsProducer events = new CallEventsProducer();
    private String otherKey;

    @BeforeEach
    void otherAccount() throws Exception {
        otherKey = TestAccounts.ensure(OTHER);
    }

    @Test
    void aCallJustSentIsFoundQueuedBeforeAnyEvent() throws Exception {
        String campaign = "c-" + UUID.randomUUID();
        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, KEY, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","name":"%s","foreign_id":"q-%s",
                 "interval":5,"max_attempts":4}""".formatted(campaign, campaign));
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        String id = json(sent).get("data").get(0).get("id").asString();

        HttpResponse<String> found = get("/api/v2/calls/" + id, KEY);

        assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
        JsonNode call = json(found);
        assertThat(call.get("status").asString()).isEqualTo("queued");
        assertThat(call.get("campaign").asString()).isEqualTo(campaign);
        assertThat(call.get("to").asString()).isEqualTo("+919876543215");
        assertThat(call.get("max_attempts").asInt()).isEqualTo(4);
        assertThat(call.get("attempts")).isEmpty();
    }

    @Test
    void aSendWithoutKeyIsRecordedOnceAndEachOfItsCallsIsFoundListedAndCountedQueuedBeforeAnyEvent()
            throws Exception {
        String campaign = "c-" + UUID.randomUUID();
        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, KEY, """
                {"bridge":"918068281234","to":["919876543210","123","919876543212","919876543213","919876543214"],
                 "flow_id":"1","name":"%s","interval":5,"max_attempts":4}""".formatted(campaign));
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        JsonNode data = json(sent).get("data");
        assertThat(data.get(1).get("status").asString()).isEqualTo("rejected");
        List<String> ids = new ArrayList<>();
        for (int index : new int[] {0, 2, 3, 4}) {
            ids.add(data.get(index).get("id").asString());
        }
        UUID send = TimeOrderedUuids.sendOf(UUID.fromString(ids.get(0)));
        for (int i = 0; i < ids.size(); i++) {
            assertThat(ids.get(i)).isEqualTo(TimeOrderedUuids.ofRecipient(send, i == 0 ? 0 : i + 1).toString());
        }

        // One row for the send, none per call.
        assertThat(count("SELECT count(*) FROM api.accepted_sends WHERE id = '" + send + "'")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM api.calls WHERE campaign = '" + campaign + "'")).isZero();

        JsonNode call = json(get("/api/v2/calls/" + ids.get(2), KEY));
        assertThat(call.get("id").asString()).isEqualTo(ids.get(2));
        assertThat(call.get("status").asString()).isEqualTo("queued");
        assertThat(call.get("final_status").isNull()).isTrue();
        assertThat(call.get("campaign").asString()).isEqualTo(campaign);
        assertThat(call.get("to").asString()).isEqualTo("+919876543213");
        assertThat(call.get("caller_id").asString()).isEqualTo("+918068281234");
        assertThat(call.get("max_attempts").asInt()).isEqualTo(4);
        assertThat(call.get("attempts_used").asInt()).isZero();
        // The same instant; the send's answer always writes six fraction digits, the call's view as few as it needs.
        assertThat(Instant.parse(call.get("created_at").asString()))
                .isEqualTo(Instant.parse(data.get(3).get("created_at").asString()));
        assertThat(call.get("attempts")).isEmpty();
        // The rejected recipient's place in the send, and one past its end, hold no call.
        assertThat(get("/api/v2/calls/" + TimeOrderedUuids.ofRecipient(send, 1), KEY).statusCode()).isEqualTo(404);
        assertThat(get("/api/v2/calls/" + TimeOrderedUuids.ofRecipient(send, 5), KEY).statusCode()).isEqualTo(404);
        assertThat(get("/api/v2/calls/" + send, KEY).statusCode()).isEqualTo(200);
        assertThat(get("/api/v2/calls/" + ids.get(2).toUpperCase(), KEY).statusCode()).isEqualTo(404);

        JsonNode firstPage = json(get("/api/v2/calls?campaign=" + campaign + "&limit=3", KEY));
        JsonNode secondPage = json(get("/api/v2/calls?campaign=" + campaign + "&limit=3&cursor="
                + firstPage.get("next_cursor").asString(), KEY));
        assertThat(secondPage.get("next_cursor").isNull()).isTrue();
        List<String> listed = new ArrayList<>();
        firstPage.get("data").forEach(row -> listed.add(row.get("id").asString()));
        secondPage.get("data").forEach(row -> listed.add(row.get("id").asString()));
        assertThat(listed).containsExactly(ids.get(3), ids.get(2), ids.get(1), ids.get(0));
        assertThat(json(get("/api/v2/calls?campaign=" + campaign + "&status=queued", KEY)).get("data")).hasSize(4);
        assertThat(json(get("/api/v2/calls?campaign=" + campaign + "&status=initiated", KEY)).get("data")).isEmpty();
        assertThat(json(get("/api/v2/calls?campaign=" + campaign + "&foreign_id=x", KEY)).get("data")).isEmpty();
        JsonNode newest = json(get("/api/v2/calls?limit=1", KEY)).get("data");
        assertThat(newest.get(0).get("id").asString()).isEqualTo(ids.get(3));

        JsonNode progress = json(get("/api/v2/campaigns/" + campaign, KEY));
        assertThat(progress.get("total").asLong()).isEqualTo(4);
        assertThat(progress.get("finished").asLong()).isZero();
        assertThat(progress.get("by_status").get("queued").asLong()).isEqualTo(4);

        assertThat(get("/api/v2/calls/" + ids.get(0), otherKey).statusCode()).isEqualTo(404);
        assertThat(json(get("/api/v2/calls?campaign=" + campaign, otherKey)).get("data")).isEmpty();
        assertThat(get("/api/v2/campaigns/" + campaign, otherKey).statusCode()).isEqualTo(404);
    }

    @Test
    void aCampaignAndForeignIdOf128CharactersBeyondTheBasicPlaneAreTakenAndFoundByName() throws Exception {
        // 128 characters (as the Kafka contract's maxLength counts them), 218 UTF-16 units.
        String campaign = "c-" + UUID.randomUUID() + "\uD83D\uDE00".repeat(90);
        String foreignId = "\uD83D\uDCDE".repeat(128);
        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, KEY, """
                {"bridge":"918068281234","to":"919876543230","flow_id":"1","name":"%s","foreign_id":"%s"}"""
                .formatted(campaign, foreignId));
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        String id = json(sent).get("data").get(0).get("id").asString();

        String query = "/api/v2/calls?campaign=" + URLEncoder.encode(campaign, StandardCharsets.UTF_8)
                + "&foreign_id=" + URLEncoder.encode(foreignId, StandardCharsets.UTF_8);
        HttpResponse<String> listed = get(query, KEY);
        assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
        assertThat(json(listed).get("data")).extracting(row -> row.get("id").asString()).containsExactly(id);
        JsonNode progress = json(get("/api/v2/campaigns/" + URLEncoder.encode(campaign, StandardCharsets.UTF_8), KEY));
        assertThat(progress.get("total").asLong()).isEqualTo(1);
        HttpResponse<String> tooLong = get("/api/v2/calls?campaign="
                + URLEncoder.encode(campaign + "a", StandardCharsets.UTF_8), KEY);
        assertThat(tooLong.statusCode()).isEqualTo(400);
        assertThat(tooLong.body()).contains("campaign");
    }

    @Test
    void aSentCallsOwnRowTakesOverFromItsSendWhichIsDeletedOnceEveryCallHasOne() throws Exception {
        String campaign = "c-" + UUID.randomUUID();
        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, KEY, """
                {"bridge":"918068281234","to":"919876543220,919876543221,919876543222","flow_id":"1","name":"%s"}"""
                .formatted(campaign));
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        List<String> ids = new ArrayList<>();
        json(sent).get("data").forEach(row -> ids.add(row.get("id").asString()));
        Instant createdAt = Instant.parse(json(sent).get("data").get(0).get("created_at").asString());
        UUID send = TimeOrderedUuids.sendOf(UUID.fromString(ids.get(0)));
        List<CallCommand> commands = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            commands.add(CallEventsProducer.command(ACCOUNT, ids.get(i), "+91987654322" + i, campaign, null, 0,
                    createdAt));
        }

        events.send(CallEventsProducer.event(commands.get(1), EventType.STATUS, 1, "initiated").build());
        await().atMost(WAIT).untilAsserted(() -> assertThat(
                json(get("/api/v2/calls/" + ids.get(1), KEY)).get("status").asString()).isEqualTo("initiated"));

        JsonNode listed = json(get("/api/v2/calls?campaign=" + campaign, KEY)).get("data");
        List<String> rows = new ArrayList<>();
        listed.forEach(row -> rows.add(row.get("id").asString() + " " + row.get("status").asString()));
        assertThat(rows).containsExactly(ids.get(2) + " queued", ids.get(1) + " initiated", ids.get(0) + " queued");
        // Page by page, the cursor passing from the send to a call's own row and back.
        List<String> paged = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = json(get("/api/v2/calls?campaign=" + campaign + "&limit=1"
                    + (cursor == null ? "" : "&cursor=" + cursor), KEY));
            page.get("data").forEach(row -> paged.add(row.get("id").asString() + " " + row.get("status").asString()));
            cursor = page.get("next_cursor").isNull() ? null : page.get("next_cursor").asString();
        } while (cursor != null && paged.size() < 10);
        assertThat(paged).isEqualTo(rows);
        assertThat(json(get("/api/v2/calls?campaign=" + campaign + "&status=queued", KEY)).get("data")).hasSize(2);
        JsonNode progress = json(get("/api/v2/campaigns/" + campaign, KEY));
        assertThat(progress.get("total").asLong()).isEqualTo(3);
        assertThat(progress.get("by_status").get("queued").asLong()).isEqualTo(2);
        assertThat(progress.get("by_status").get("initiated").asLong()).isEqualTo(1);

        // Not every call has its row: the send stays.
        ledger.pruneSends(1_000, Duration.ZERO).block(WAIT);
        assertThat(count("SELECT count(*) FROM api.accepted_sends WHERE id = '" + send + "'")).isEqualTo(1);

        events.send(CallEventsProducer.event(commands.get(0), EventType.STATUS, 1, "queued").build());
        events.send(CallEventsProducer.event(commands.get(2), EventType.FINAL, 1, "canceled").build());
        await().atMost(WAIT).untilAsserted(() -> assertThat(count(
                "SELECT count(*) FROM api.calls WHERE campaign = '" + campaign + "'")).isEqualTo(3));
        // The service's own pruner runs too (every 5 s), and a pass skips a send another pass holds: whichever
        // deletes it, the send is gone once this pass is over and the other's is committed.
        ledger.pruneSends(1_000, Duration.ZERO).block(WAIT);
        await().atMost(WAIT).untilAsserted(() -> assertThat(
                count("SELECT count(*) FROM api.accepted_sends WHERE id = '" + send + "'"))
                .as("the send is deleted once its calls all have rows").isZero());

        listed = json(get("/api/v2/calls?campaign=" + campaign, KEY)).get("data");
        rows.clear();
        listed.forEach(row -> rows.add(row.get("id").asString() + " " + row.get("status").asString()));
        assertThat(rows).containsExactly(ids.get(2) + " canceled", ids.get(1) + " initiated", ids.get(0) + " queued");
        assertThat(json(get("/api/v2/calls/" + ids.get(2), KEY)).get("final_status").asString())
                .isEqualTo("canceled");
    }

    @Test
    void aSendWithSomeForeignIdsKeepsARowPerCallAndNoSend() throws Exception {
        String campaign = "c-" + UUID.randomUUID();
        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, KEY, """
                {"bridge":"918068281234","flow_id":"1","name":"%s",
                 "to":[{"number":"919876543230","foreign_id":"m-%s"},"919876543231"]}""".formatted(campaign, campaign));
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        JsonNode data = json(sent).get("data");
        String withForeignId = data.get(0).get("id").asString();
        String without = data.get(1).get("id").asString();
        assertThat(UUID.fromString(withForeignId).version()).isEqualTo(5);
        UUID send = TimeOrderedUuids.sendOf(UUID.fromString(without));
        assertThat(without).isEqualTo(TimeOrderedUuids.ofRecipient(send, 1).toString());

        assertThat(count("SELECT count(*) FROM api.accepted_sends WHERE id = '" + send + "'")).isZero();
        assertThat(count("SELECT count(*) FROM api.calls WHERE campaign = '" + campaign + "'")).isEqualTo(2);
        assertThat(json(get("/api/v2/calls/" + without, KEY)).get("to").asString()).isEqualTo("+919876543231");
        assertThat(json(get("/api/v2/calls?campaign=" + campaign, KEY)).get("data")).hasSize(2);
        assertThat(json(get("/api/v2/campaigns/" + campaign, KEY)).get("total").asLong()).isEqualTo(2);
    }

    @Test
    void aSendRecordedAgainChangesNothingAndFailsNoSendSharingItsStatement() throws Exception {
        Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
        AcceptedCalls.Send first = new AcceptedCalls.Send(TimeOrderedUuids.send(), "+918068281234", "again", 1, now,
                List.of("+919876543240"));
        AcceptedCalls.Send other = new AcceptedCalls.Send(TimeOrderedUuids.send(), "+918068281234", "again", 1, now,
                Arrays.asList("+919876543241", null));
        ledger.recordSent(ACCOUNT, first).block(WAIT);

        // A try again under the same Idempotency-Key records its send (the claim's) again, beside other requests'.
        Mono.when(ledger.recordSent(ACCOUNT, first), ledger.recordSent(ACCOUNT, other)).block(WAIT);

        assertThat(count("SELECT count(*) FROM api.accepted_sends WHERE id IN ('" + first.id() + "', '" + other.id()
                + "')")).isEqualTo(2);
        assertThat(json(get("/api/v2/calls/" + TimeOrderedUuids.ofRecipient(other.id(), 0), KEY)).get("to")
                .asString()).isEqualTo("+919876543241");
    }

    @Test
    void theDatabaseDerivesASendsCallIdsAsTheServiceDoes() throws Exception {
        UUID send = TimeOrderedUuids.send();
        try (Connection db = database();
             PreparedStatement query = db.prepareStatement("SELECT api.sent_call_id(?::uuid, ?)")) {
            for (int index : new int[] {0, 1, 255, 256, 999, 65_535}) {
                query.setString(1, send.toString());
                query.setLong(2, index + 1);
                try (ResultSet row = query.executeQuery()) {
                    row.next();
                    assertThat(row.getString(1)).isEqualTo(TimeOrderedUuids.ofRecipient(send, index).toString());
                }
            }
        }
    }

    private long count(String sql) throws Exception {
        try (Connection db = database(); Statement statement = db.createStatement();
             ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getLong(1);
        }
    }

    @Test
    void rowsOfConcurrentRequestsWrittenInOneStatementKeepTheirOwnAccountTimeAndFields() throws Exception {
        Instant base = Instant.parse("2026-01-02T03:04:05.123456Z");
        Map<String, List<Object>> expected = new HashMap<>();
        List<Mono<Void>> writes = new ArrayList<>();
        for (int request = 0; request < 20; request++) {
            String account = request % 2 == 0 ? ACCOUNT : OTHER;
            List<CallLedger.Accepted> calls = new ArrayList<>();
            for (int n = 0; n <= request; n++) {
                String id = UUID.randomUUID().toString();
                String callee = "+91987654%04d".formatted(request * 100 + n);
                String foreignId = n % 3 == 0 ? "f-" + id : null;
                calls.add(new CallLedger.Accepted(id, "+918068281234", callee, "batch-" + request, foreignId,
                        1 + request % 4));
                expected.put(id, Arrays.asList(account, base.plusSeconds(request), callee, "batch-" + request,
                        foreignId, 1 + request % 4));
            }
            writes.add(ledger.recordAcceptedShared(account, calls, base.plusSeconds(request)));
        }
        DistributionSummary perStatement = registry.get("dialer.api.accepted.requests_per_statement").summary();
        long statementsBefore = perStatement.count();

        Mono.when(writes).block(WAIT);

        // Twenty requests went out at once to at most two writers: most shared a statement.
        assertThat(perStatement.count() - statementsBefore).isBetween(2L, 10L);
        Map<String, List<Object>> stored = new HashMap<>();
        try (Connection db = database(); PreparedStatement query = db.prepareStatement("""
                SELECT id, account_id, created_at, updated_at, callee, campaign, foreign_id, max_attempts, status
                FROM api.calls WHERE id = ANY(?)""")) {
            query.setArray(1, db.createArrayOf("text", expected.keySet().toArray()));
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    Instant created = rows.getObject("created_at", OffsetDateTime.class).toInstant();
                    assertThat(rows.getObject("updated_at", OffsetDateTime.class).toInstant()).isEqualTo(created);
                    assertThat(rows.getString("status")).isEqualTo("queued");
                    stored.put(rows.getString("id"), Arrays.asList(rows.getString("account_id"), created,
                            rows.getString("callee"), rows.getString("campaign"), rows.getString("foreign_id"),
                            rows.getInt("max_attempts")));
                }
            }
        }
        assertThat(stored).hasSize(210).isEqualTo(expected);
    }

    @Test
    void aRowTheEventsCreatedFirstIsLeftAsItIsAndTheOthersOfItsStatementAreWritten() throws Exception {
        String existing = UUID.randomUUID().toString();
        try (Connection db = database(); PreparedStatement insert = db.prepareStatement("""
                INSERT INTO api.calls (id, account_id, caller_id, callee, status, created_at, updated_at)
                VALUES (?, ?, '+918068281234', '+919876543215', 'ringing', now(), now())""")) {
            insert.setString(1, existing);
            insert.setString(2, ACCOUNT);
            insert.executeUpdate();
        }
        // One request whose rows differ in caller ID, campaign and attempts: each keeps its own.
        List<CallLedger.Accepted> calls = List.of(
                new CallLedger.Accepted(UUID.randomUUID().toString(), "+918068281234", "+919876543211", "a", null, 1),
                new CallLedger.Accepted(existing, "+918068281234", "+919876543215", "a", null, 1),
                new CallLedger.Accepted(UUID.randomUUID().toString(), "+918068281235", "+919876543212", "a", null, 1),
                new CallLedger.Accepted(UUID.randomUUID().toString(), "+918068281235", "+919876543213", null, null, 1),
                new CallLedger.Accepted(UUID.randomUUID().toString(), "+918068281235", "+919876543214", null, null, 3));
        double retriesBefore = registry.get("dialer.api.accepted.conflict_retries").counter().count();

        ledger.recordAcceptedShared(ACCOUNT, calls, Instant.parse("2026-01-02T03:04:05Z")).block(WAIT);

        assertThat(registry.get("dialer.api.accepted.conflict_retries").counter().count() - retriesBefore)
                .isEqualTo(1.0);
        List<String> stored = new ArrayList<>();
        try (Connection db = database(); PreparedStatement query = db.prepareStatement("""
                SELECT id, caller_id, callee, campaign, max_attempts, status FROM api.calls WHERE id = ANY(?)""")) {
            query.setArray(1, db.createArrayOf("text", calls.stream().map(CallLedger.Accepted::requestId).toArray()));
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    stored.add(String.join(" ", rows.getString("id"), rows.getString("caller_id"),
                            rows.getString("callee"), String.valueOf(rows.getString("campaign")),
                            String.valueOf(rows.getInt("max_attempts")), rows.getString("status")));
                }
            }
        }
        assertThat(stored).containsExactlyInAnyOrder(
                calls.get(0).requestId() + " +918068281234 +919876543211 a 1 queued",
                existing + " +918068281234 +919876543215 null 1 ringing",
                calls.get(2).requestId() + " +918068281235 +919876543212 a 1 queued",
                calls.get(3).requestId() + " +918068281235 +919876543213 null 1 queued",
                calls.get(4).requestId() + " +918068281235 +919876543214 null 3 queued");
    }

    @Test
    void eventsOutOfOrderAndRepeatedEndInTheFinalStateWithTheAttemptsSipStatus() throws Exception {
        String id = UUID.randomUUID().toString();
        String campaign = "c-" + UUID.randomUUID();
        CallCommand command = CallEventsProducer.command(ACCOUNT, id, "+919876543299", campaign, "fx-" + id, 0);
        CallEvent initiated = CallEventsProducer.event(command, EventType.STATUS, 1, "initiated")
                .provider("queued", "sip-call-1").build();
        CallEvent ringing = CallEventsProducer.event(command, EventType.STATUS, 2, "ringing").build();
        // The machine detection's first result, replaced by the beep's (tone) in the later events.
        CallEvent inProgress = CallEventsProducer.event(command, EventType.STATUS, 3, "in-progress")
                .answeredBy("machine").durationSeconds(2).build();
        CallEvent completed = CallEventsProducer.event(command, EventType.STATUS, 4, "completed")
                .sip(200, "OK").answeredBy("tone").durationSeconds(31).build();
        CallEvent answered = CallEventsProducer.event(command, EventType.FINAL, 5, "answered").build();

        // Final first, then the older ones, one of them twice; and an unreadable record the reader must skip.
        events.sendRaw(id, "not json".getBytes(StandardCharsets.UTF_8));
        events.send(answered);
        events.send(completed);
        events.send(inProgress);
        events.send(ringing);
        events.send(initiated);
        events.send(ringing);

        await().atMost(WAIT).untilAsserted(() -> {
            HttpResponse<String> found = get("/api/v2/calls/" + id, KEY);
            assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
            JsonNode call = json(found);
            assertThat(call.get("attempts")).hasSize(1);
            assertThat(call.get("attempts").get(0).get("provider_call_id").asString()).isEqualTo("sip-call-1");
        });
        JsonNode call = json(get("/api/v2/calls/" + id, KEY));
        assertThat(call.get("status").asString()).isEqualTo("answered");
        assertThat(call.get("final_status").asString()).isEqualTo("answered");
        assertThat(call.get("finished_at").isNull()).isFalse();
        assertThat(call.get("attempts_used").asInt()).isEqualTo(1);
        JsonNode attempt = call.get("attempts").get(0);
        assertThat(attempt.get("status").asString()).isEqualTo("completed");
        assertThat(attempt.get("sip_status").asInt()).isEqualTo(200);
        assertThat(attempt.get("duration_seconds").asInt()).as("the later event's, read first").isEqualTo(31);
        assertThat(attempt.get("answered_by").asString()).as("the later event's, read first").isEqualTo("tone");
        assertThat(attempt.get("ended_at").isNull()).isFalse();
    }

    @Test
    void anEventThatIsTheJsonTextNullIsSkippedAndTheReaderGoesOn() throws Exception {
        String id = UUID.randomUUID().toString();
        CallCommand command = CallEventsProducer.command(ACCOUNT, id, "+919876543296", null, null, 0);
        double unreadableBefore = registry.counter("dialer.api.read_model.events", "outcome", "unreadable").count();

        // Valid JSON, and no event: a stray producer's record.
        events.sendRaw(id, "null".getBytes(StandardCharsets.UTF_8));
        events.send(CallEventsProducer.event(command, EventType.STATUS, 1, "initiated").build());

        await().atMost(WAIT).untilAsserted(() -> assertThat(get("/api/v2/calls/" + id, KEY).statusCode())
                .isEqualTo(200));
        assertThat(registry.counter("dialer.api.read_model.events", "outcome", "unreadable").count())
                .isEqualTo(unreadableBefore + 1);
    }

    /**
     * An event whose statement PostgreSQL refuses, however often it is sent, is skipped (counted and logged) after a
     * few tries: the events behind it on its partition, here another call's on the same key, are applied.
     */
    @Test
    void anEventTheDatabaseRefusesIsSkippedAndTheEventsBehindItAreApplied() throws Exception {
        String refusedId = UUID.randomUUID().toString();
        String nextId = UUID.randomUUID().toString();
        // A campaign longer than an index entry may be (the event's schema sets no bound): PostgreSQL refuses its
        // row (54000) every time. Random, so that compressing it does not bring it under the bound.
        String tooLong = String.join("", java.util.stream.Stream.generate(() -> UUID.randomUUID().toString())
                .limit(250).toList());
        CallCommand ancient = CallEventsProducer.command(ACCOUNT, refusedId, "+919876543298", tooLong, null, 0);
        CallCommand next = CallEventsProducer.command(ACCOUNT, nextId, "+919876543297", null, null, 0);
        double refusedBefore = registry.counter("dialer.api.read_model.events", "outcome", "refused").count();

        events.sendRaw(refusedId, Contract.toBytes(CallEventsProducer.event(ancient, EventType.STATUS, 1,
                "initiated").build()));
        events.sendRaw(refusedId, Contract.toBytes(CallEventsProducer.event(next, EventType.STATUS, 1,
                "initiated").build()));

        await().atMost(WAIT).untilAsserted(() -> assertThat(get("/api/v2/calls/" + nextId, KEY).statusCode())
                .isEqualTo(200));
        assertThat(registry.counter("dialer.api.read_model.events", "outcome", "refused").count())
                .isEqualTo(refusedBefore + 1);
        assertThat(get("/api/v2/calls/" + refusedId, KEY).statusCode()).isEqualTo(404);
    }

    @Test
    void anAttemptDialledAgainAfterACapacityRejectionShowsTheCarriersIdOfItsLatestDial() throws Exception {
        String id = UUID.randomUUID().toString();
        CallCommand command = CallEventsProducer.command(ACCOUNT, id, "+919876543298", "c-" + UUID.randomUUID(),
                "fx-" + id, 0);
        // The first dial is refused for capacity and given back; the second, under the same number, is answered.
        events.send(CallEventsProducer.event(command, EventType.STATUS, 1, "initiated")
                .provider("queued", "sip-call-first").build());
        events.send(CallEventsProducer.event(command, EventType.DEFERRED, 2, "deferred").reason("capacity").build());
        events.send(CallEventsProducer.event(command, EventType.STATUS, 3, "initiated")
                .provider("queued", "sip-call-second").build());
        events.send(CallEventsProducer.event(command, EventType.STATUS, 4, "completed")
                .sip(200, "OK").durationSeconds(31).build());
        events.send(CallEventsProducer.event(command, EventType.FINAL, 5, "answered").build());

        await().atMost(WAIT).untilAsserted(() -> {
            JsonNode call = json(get("/api/v2/calls/" + id, KEY));
            assertThat(call.path("final_status").asString()).isEqualTo("answered");
            assertThat(call.get("attempts")).singleElement().satisfies(attempt -> {
                assertThat(attempt.get("provider_call_id").asString()).isEqualTo("sip-call-second");
                assertThat(attempt.get("duration_seconds").asInt()).isEqualTo(31);
            });
        });
    }

    @Test
    void appliedEventIdsPastTheirTimeAreForgottenInBatchesAndTheOthersKept() {
        String run = "prune-" + UUID.randomUUID() + "-";
        int old = CallLedger.PRUNE_BATCH * 2 + 7;
        db.sql("""
                INSERT INTO api.call_events_applied (event_id, applied_at)
                SELECT :run || n, now() - interval '400 days' FROM generate_series(1, :old) n
                UNION ALL SELECT :run || 'recent-' || n, now() FROM generate_series(1, 3) n""")
                .bind("run", run).bind("old", old).then().block(WAIT);

        assertThat(ledger.pruneApplied(Duration.ofDays(365)).block(WAIT)).isGreaterThanOrEqualTo(old);

        assertThat(db.sql("SELECT count(*) FROM api.call_events_applied WHERE event_id LIKE :run || '%'")
                .bind("run", run).map(row -> row.get(0, Long.class)).one().block(WAIT))
                .as("the recent ones kept").isEqualTo(3);
    }

    @Test
    void aCallShowsItsLatestErrorWhileItGoesOnAndTheFinalEventsErrorOnceItEnds() throws Exception {
        String id = UUID.randomUUID().toString();
        CallCommand command = CallEventsProducer.command(ACCOUNT, id, "+919876543298", null, null, 0);
        // No carrier could place it at first: it waited, with the carrier's error; then it was answered.
        CallEvent waiting = CallEventsProducer.event(command, EventType.DEFERRED, 2, "deferred")
                .error("carrier_error", "no carrier reachable").build();
        CallEvent completed = CallEventsProducer.event(command, EventType.STATUS, 5, "completed")
                .sip(200, "OK").build();
        CallEvent answered = CallEventsProducer.event(command, EventType.FINAL, 6, "answered").build();

        events.send(waiting);
        await().atMost(WAIT).untilAsserted(() -> assertThat(json(get("/api/v2/calls/" + id, KEY)).get("error")
                .get("code").asString()).as("while it waits").isEqualTo("carrier_error"));

        events.send(completed);
        events.send(answered);
        await().atMost(WAIT).untilAsserted(() ->
                assertThat(json(get("/api/v2/calls/" + id, KEY)).get("final_status").asString()).isEqualTo("answered"));
        assertThat(json(get("/api/v2/calls/" + id, KEY)).get("error").isNull())
                .as("an answered call shows no error").isTrue();

        // Once final, an older event's error changes nothing: the wait redelivered, then (same key, so read after it)
        // a cancel that came too late, whose mark shows the wait was read.
        events.send(waiting);
        events.send(CallEventsProducer.event(command, EventType.CANCEL_REJECTED, 7, "answered").build());
        await().atMost(WAIT).untilAsserted(() ->
                assertThat(json(get("/api/v2/calls/" + id, KEY)).get("cancel_rejected_at").isNull()).isFalse());
        assertThat(json(get("/api/v2/calls/" + id, KEY)).get("error").isNull()).isTrue();
    }

    @Test
    void listsByCampaignStatusAndForeignIdPagedByCursorAndCountsTheCampaign() throws Exception {
        String campaign = "c-" + UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String id = UUID.randomUUID().toString();
            ids.add(id);
            CallCommand command = CallEventsProducer.command(ACCOUNT, id, "+91987654330" + i, campaign, "f-" + i, 0);
            events.send(CallEventsProducer.event(command, EventType.STATUS, 1, "initiated").build());
            if (i == 0) {
                events.send(CallEventsProducer.event(command, EventType.FINAL, 2, "exhausted").build());
            }
        }
        // Every row, and the first call's final (applied after its status event, in a transaction of its own).
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(json(get("/api/v2/calls?campaign=" + campaign, KEY)).get("data")).hasSize(3);
            assertThat(json(get("/api/v2/calls?campaign=" + campaign + "&status=exhausted", KEY)).get("data"))
                    .hasSize(1);
        });

        JsonNode firstPage = json(get("/api/v2/calls?campaign=" + campaign + "&limit=2", KEY));
        assertThat(firstPage.get("data")).hasSize(2);
        String cursor = firstPage.get("next_cursor").asString();
        JsonNode secondPage = json(get("/api/v2/calls?campaign=" + campaign + "&limit=2&cursor=" + cursor, KEY));
        assertThat(secondPage.get("data")).hasSize(1);
        assertThat(secondPage.get("next_cursor").isNull()).isTrue();
        List<String> paged = new ArrayList<>();
        firstPage.get("data").forEach(call -> paged.add(call.get("id").asString()));
        secondPage.get("data").forEach(call -> paged.add(call.get("id").asString()));
        assertThat(paged).containsExactlyInAnyOrderElementsOf(ids);

        JsonNode exhausted = json(get("/api/v2/calls?campaign=" + campaign + "&status=exhausted", KEY));
        assertThat(exhausted.get("data")).hasSize(1);
        assertThat(exhausted.get("data").get(0).get("id").asString()).isEqualTo(ids.get(0));
        JsonNode byForeignId = json(get("/api/v2/calls?campaign=" + campaign + "&foreign_id=f-2", KEY));
        assertThat(byForeignId.get("data").get(0).get("id").asString()).isEqualTo(ids.get(2));

        JsonNode progress = json(get("/api/v2/campaigns/" + campaign, KEY));
        assertThat(progress.get("total").asLong()).isEqualTo(3);
        assertThat(progress.get("finished").asLong()).isEqualTo(1);
        assertThat(progress.get("by_status").get("initiated").asLong()).isEqualTo(2);
        assertThat(progress.get("by_status").get("exhausted").asLong()).isEqualTo(1);
        assertThat(progress.get("progress").asDouble()).isEqualTo(0.3333);
        assertThat(progress.get("state").asString()).isEqualTo("active");
    }

    @Test
    void theListIsReadNewestFirstFromAscendingIndexesWithoutReadingAWholeTable() throws Exception {
        // The list's order (created_at DESC, id DESC) is served by reading the ascending indexes backwards, so rows
        // accepted in rising order append at the index's right edge. A filter has an index that leads with it: a rare
        // campaign or status is read from its own rows, not found among the account's. The plans are those of the
        // statement the list runs (CallQueries.listing), its values bound: with the calls of recorded sends.
        String account = "it-plan-" + UUID.randomUUID();
        try (Connection connection = database(); Statement statement = connection.createStatement()) {
            statement.execute("""
                    INSERT INTO api.calls (id, account_id, caller_id, callee, status, created_at, updated_at)
                    SELECT gen_random_uuid()::text, '%s', '918068281234', '+919876543210',
                           CASE WHEN i %% 1000 = 0 THEN 'blocked' ELSE 'in-progress' END,
                           now() - i * interval '1 second', now()
                      FROM generate_series(1, 3000) AS i""".formatted(account));
            // Another account's one large campaign, a few of its calls blocked.
            statement.execute("""
                    INSERT INTO api.calls (id, account_id, caller_id, callee, status, campaign, created_at, updated_at)
                    SELECT gen_random_uuid()::text, '%s-big', '918068281234', '+919876543210',
                           CASE WHEN i %% 1000 = 0 THEN 'blocked' ELSE 'in-progress' END, 'big',
                           now() - i * interval '1 second', now()
                      FROM generate_series(1, 3000) AS i""".formatted(account));
            // Both accounts' recorded sends, three callees each, whose calls have no rows yet.
            statement.execute("""
                    INSERT INTO api.accepted_sends (id, account_id, campaign, caller_id, max_attempts, created_at,
                                                    callees)
                    SELECT gen_random_uuid(), '%s' || CASE WHEN i %% 2 = 0 THEN '-big' ELSE '' END,
                           CASE WHEN i %% 2 = 0 THEN 'big' END, '918068281234', 3, now() - i * interval '1 second',
                           '+919876543210,+919876543211,+919876543212'
                      FROM generate_series(1, 3000) AS i""".formatted(account));
            statement.execute("ANALYZE api.calls");
            statement.execute("ANALYZE api.accepted_sends");
            try (ResultSet indexes = statement.executeQuery(
                    "SELECT string_agg(indexdef, ' ') FROM pg_indexes WHERE schemaname = 'api' AND tablename = 'calls'")) {
                indexes.next();
                assertThat(indexes.getString(1)).contains("(account_id, created_at, id)").doesNotContain("DESC");
            }
        }
        // Each part (the calls' rows, the sends' waiting calls) is read newest first up to a page, the two merged.
        // A later page as well: read from its cursor's position in the same indexes.
        String all = ListPlans.page(db, transactions, account, null, null, null);
        String later = ListPlans.page(db, transactions, account, null, null, Instant.now().minusSeconds(1500));
        String campaign = ListPlans.page(db, transactions, account + "-big", "big", null, null);
        assertThat(List.of(all, later, campaign)).allSatisfy(plan -> assertThat(plan).contains("Merge Append"));
        assertThat(List.of(all, later)).allSatisfy(plan -> assertThat(plan)
                .contains("Index Scan Backward using calls_account_created_asc_idx")
                .contains("Index Scan Backward using accepted_sends_account_created_idx").doesNotContain("Seq Scan"));
        assertThat(campaign).contains("Index Scan Backward using calls_account_campaign_asc_idx")
                .contains("Index Scan Backward using accepted_sends_account_campaign_idx")
                .doesNotContain("Seq Scan");
        // A status other than queued reads no send; a rare one is read from its own rows.
        assertThat(ListPlans.page(db, transactions, account, null, "blocked", null))
                .contains("Index Scan Backward using calls_account_status_idx").doesNotContain("Sort")
                .doesNotContain("accepted_sends");
        // Both filters at once (the API's own example): read from the campaign's rows of that status alone.
        assertThat(ListPlans.page(db, transactions, account + "-big", "big", "blocked", null))
                .contains("Index Scan Backward using calls_account_campaign_status_idx").doesNotContain("Sort");
    }

    @Test
    void aForeignIdsCallsAreReadNewestFirstFromTheirOwnIndexOnEveryPage() throws Exception {
        // One reference given to many sends' recipients, among the account's other calls and other references.
        String account = "it-plan-foreign-" + UUID.randomUUID();
        try (Connection connection = database(); Statement statement = connection.createStatement()) {
            statement.execute("""
                    INSERT INTO api.calls (id, account_id, caller_id, callee, status, foreign_id, created_at,
                                           updated_at)
                    SELECT gen_random_uuid()::text, '%s', '918068281234', '+919876543210', 'completed',
                           CASE WHEN i %% 3 = 0 THEN 'promo-07' WHEN i %% 3 = 1 THEN 'ref-' || i END,
                           now() - i * interval '1 second', now()
                      FROM generate_series(1, 6000) AS i""".formatted(account));
            statement.execute("ANALYZE api.calls");
        }

        String first = ListPlans.pageOfForeignId(db, transactions, account, "promo-07", null);
        String later = ListPlans.pageOfForeignId(db, transactions, account, "promo-07",
                Instant.now().minusSeconds(3000));

        assertThat(List.of(first, later)).allSatisfy(plan -> assertThat(plan)
                .contains("Index Scan Backward using calls_account_foreign_created_idx")
                .doesNotContain("Sort").doesNotContain("Seq Scan"));
    }

    @Test
    void theIndexMigrationRunAgainAfterAnInterruptedBuildRebuildsTheIndexInsteadOfKeepingAnInvalidOne()
            throws Exception {
        String script;
        try (var in = getClass().getResourceAsStream("/db/migration/api/V25__calls_list_indexes_ascending.sql")) {
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try (Connection db = database(); Statement statement = db.createStatement()) {
            // What an interrupted CREATE INDEX CONCURRENTLY leaves: the index under its name, marked invalid.
            statement.execute("""
                    UPDATE pg_index SET indisvalid = false
                     WHERE indexrelid = 'api.calls_account_created_asc_idx'::regclass""");
            for (String sql : script.lines().filter(line -> !line.startsWith("--"))
                    .collect(java.util.stream.Collectors.joining("\n")).split(";")) {
                if (!sql.isBlank()) {
                    statement.execute(sql);
                }
            }
            try (ResultSet valid = statement.executeQuery("""
                    SELECT count(*) FILTER (WHERE i.indisvalid), count(*) FROM pg_index i
                      JOIN pg_class c ON c.oid = i.indexrelid
                     WHERE c.relname IN ('calls_account_created_asc_idx', 'calls_account_campaign_asc_idx')""")) {
                valid.next();
                assertThat(valid.getInt(1)).isEqualTo(2);
                assertThat(valid.getInt(2)).isEqualTo(2);
            }
        }
    }

    @Test
    void anotherAccountsCallsAndCampaignsAreNotFound() throws Exception {
        String campaign = "c-" + UUID.randomUUID();
        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, KEY, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","name":"%s"}""".formatted(campaign));
        String id = json(sent).get("data").get(0).get("id").asString();

        HttpResponse<String> call = get("/api/v2/calls/" + id, otherKey);
        assertThat(call.statusCode()).isEqualTo(404);
        assertThat(call.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(get("/api/v2/campaigns/" + campaign, otherKey).statusCode()).isEqualTo(404);
        assertThat(json(get("/api/v2/calls?campaign=" + campaign, otherKey)).get("data")).isEmpty();
        assertThat(get("/api/v2/calls/" + UUID.randomUUID(), KEY).statusCode()).isEqualTo(404);
    }

    @Test
    void cancelRejectedIsNotedWithoutChangingTheCallsStatus() throws Exception {
        String id = UUID.randomUUID().toString();
        CallCommand command = CallEventsProducer.command(ACCOUNT, id, "+919876543298", null, null, 0);
        CallEvent talking = CallEventsProducer.event(command, EventType.STATUS, 3, "in-progress").build();
        CallEvent rejected = CallEventsProducer.event(command, EventType.CANCEL_REJECTED, 4, "in-progress")
                .reason("too_late").build();
        CallEvent completed = CallEventsProducer.event(command, EventType.STATUS, 5, "completed").build();
        CallEvent answered = CallEventsProducer.event(command, EventType.FINAL, 6, "answered").build();

        events.send(talking);
        events.send(rejected);
        await().atMost(WAIT).untilAsserted(() -> {
            HttpResponse<String> found = get("/api/v2/calls/" + id, KEY);
            assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
            assertThat(json(found).get("cancel_rejected_at").isNull()).isFalse();
        });
        assertThat(json(get("/api/v2/calls/" + id, KEY)).get("status").asString()).isEqualTo("in-progress");
        events.send(completed);
        events.send(answered);

        await().atMost(WAIT).untilAsserted(() ->
                assertThat(json(get("/api/v2/calls/" + id, KEY)).get("final_status").asString()).isEqualTo("answered"));
        JsonNode call = json(get("/api/v2/calls/" + id, KEY));
        assertThat(call.get("status").asString()).isEqualTo("answered");
        assertThat(call.get("cancel_rejected_at").isNull()).isFalse();
        assertThat(call.get("attempts").get(0).get("status").asString()).isEqualTo("completed");
    }

    @Test
    void refusesABadFilterNamingIt() throws Exception {
        HttpResponse<String> badStatus = get("/api/v2/calls?status=sleeping", KEY);
        HttpResponse<String> badLimit = get("/api/v2/calls?limit=100000", KEY);
        HttpResponse<String> badCursor = get("/api/v2/calls?cursor=zzz", KEY);

        assertThat(badStatus.statusCode()).isEqualTo(400);
        assertThat(json(badStatus).get("errors").get(0).get("field").asString()).isEqualTo("status");
        assertThat(json(badLimit).get("errors").get(0).get("field").asString()).isEqualTo("limit");
        assertThat(json(badCursor).get("errors").get(0).get("field").asString()).isEqualTo("cursor");
    }
}
