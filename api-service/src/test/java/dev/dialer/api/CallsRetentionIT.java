package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.api.calls.CallLedger;
import dev.dialer.api.idempotency.RequestIds;
import dev.dialer.api.ids.TimeOrderedUuids;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.EventType;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * The read model forgets ended calls past its retention (90 days by default), with what they alone used. The
 * statements run here with the shortest retention, 31 days, on calls ended 40 days ago: the service's own purge, with
 * its 90 days, runs on its tick meanwhile and never takes them.
 */
class CallsRetentionIT extends RunningApiService {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration RETENTION = Duration.ofDays(31);
    @RegisterExtension
    static final CallEventsProducer events = new CallEventsProducer();

    @Autowired
    private CallLedger ledger;

    @Test
    void aCallEndedLongerAgoThanTheRetentionGoesWithItsAttemptsAndClaimAndItsReferenceMayBeSentAgain()
            throws Exception {
        String callee = "+919876543240";
        String foreignId = "crm-" + UUID.randomUUID();
        String body = """
                {"bridge":"918068281234","to":"919876543240","flow_id":"1","foreign_id":"%s"}""".formatted(foreignId);
        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, KEY, body);
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        String old = json(sent).get("data").get(0).get("id").asString();
        assertThat(old).isEqualTo(RequestIds.ofForeignId(ACCOUNT, foreignId, callee));
        Instant longAgo = Instant.now().minus(Duration.ofDays(40));
        ended(CallEventsProducer.command(ACCOUNT, old, callee, null, foreignId, 0, longAgo), longAgo);

        // Ended a day ago; and going on since long ago (its last news as old as the call above's end).
        String recent = UUID.randomUUID().toString();
        String recentForeignId = "crm-" + UUID.randomUUID();
        claim(recentForeignId, callee, recent);
        ended(CallEventsProducer.command(ACCOUNT, recent, callee, null, recentForeignId, 0),
                Instant.now().minus(Duration.ofDays(1)));
        String going = UUID.randomUUID().toString();
        CallCommand goingCommand = CallEventsProducer.command(ACCOUNT, going, callee, null, null, 0, longAgo);
        events.send(CallEventsProducer.event(goingCommand, EventType.STATUS, 1, "initiated").occurredAt(longAgo)
                .build());
        // Ended long ago, with a reference another call holds the claim of (one written straight to Kafka, say).
        String direct = UUID.randomUUID().toString();
        String sharedForeignId = "crm-" + UUID.randomUUID();
        String claimant = UUID.randomUUID().toString();
        claim(sharedForeignId, callee, claimant);
        ended(CallEventsProducer.command(ACCOUNT, direct, callee, null, sharedForeignId, 0, longAgo), longAgo);
        await().atMost(WAIT).untilAsserted(() -> assertThat(get("/api/v2/calls/" + going, KEY).statusCode())
                .isEqualTo(200));

        assertThat(ledger.purgeEnded(Duration.ZERO, 1_000).block(WAIT)).as("a zero retention deletes nothing")
                .isZero();
        assertThat(ledger.purgeEnded(RETENTION, 1_000).block(WAIT)).isGreaterThanOrEqualTo(2);

        assertThat(get("/api/v2/calls/" + old, KEY).statusCode()).isEqualTo(404);
        assertThat(get("/api/v2/calls/" + direct, KEY).statusCode()).isEqualTo(404);
        assertThat(count("SELECT count(*) FROM api.call_attempts WHERE call_id IN (?, ?)", old, direct)).isZero();
        assertThat(count("SELECT count(*) FROM api.foreign_ids WHERE foreign_id = ?", foreignId)).isZero();
        assertThat(count("SELECT count(*) FROM api.foreign_ids WHERE foreign_id = ? AND request_id = ?",
                sharedForeignId, claimant)).as("another call's claim of the same reference").isEqualTo(1);
        assertThat(json(get("/api/v2/calls/" + recent, KEY)).get("final_status").asString()).isEqualTo("answered");
        assertThat(count("SELECT count(*) FROM api.call_attempts WHERE call_id = ?", recent)).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM api.foreign_ids WHERE foreign_id = ?", recentForeignId)).isEqualTo(1);
        assertThat(json(get("/api/v2/calls/" + going, KEY)).get("status").asString()).isEqualTo("initiated");

        // The reference is free again: a new call, under the id the reference derives.
        HttpResponse<String> again = post("/api/v2/outgoing/send", JSON_TYPE, KEY, body);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        JsonNode row = json(again).get("data").get(0);
        assertThat(row.get("status").asString()).isEqualTo("queued");
        assertThat(row.get("id").asString()).isEqualTo(old);
        assertThat(json(get("/api/v2/calls/" + old, KEY)).get("status").asString()).isEqualTo("queued");
    }

    @Test
    void aSendAcceptedLongerAgoThanTheRetentionIsDeletedWhateverItsCalls() throws Exception {
        String oldSend = sendWithoutForeignId();
        String newSend = sendWithoutForeignId();
        try (Connection db = database(); PreparedStatement backdate = db.prepareStatement(
                "UPDATE api.accepted_sends SET created_at = now() - interval '40 days' WHERE id = ?::uuid")) {
            backdate.setString(1, oldSend);
            assertThat(backdate.executeUpdate()).isEqualTo(1);
        }

        ledger.pruneSends(1_000, Duration.ZERO).block(WAIT);
        assertThat(count("SELECT count(*) FROM api.accepted_sends WHERE id::text = ?", oldSend))
                .as("kept without a retention: its calls have no row").isEqualTo(1);
        ledger.pruneSends(1_000, RETENTION).block(WAIT);
        assertThat(count("SELECT count(*) FROM api.accepted_sends WHERE id::text = ?", oldSend)).isZero();
        assertThat(count("SELECT count(*) FROM api.accepted_sends WHERE id::text = ?", newSend)).isEqualTo(1);
    }

    @Test
    void aBatchsClaimsAreFoundByTheirPrimaryKey() throws Exception {
        String statement = CallLedger.PURGE_ENDED.replace(":secs", "2678400").replace(":limit", "1000");
        List<String> plan = new ArrayList<>();
        try (Connection db = database(); Statement explain = db.createStatement()) {
            // What the indexes can serve, whatever the planner would pick for this test's few rows: a claim looked up
            // call by call, as on a large table.
            explain.execute("SET enable_seqscan = off");
            explain.execute("SET enable_hashjoin = off");
            explain.execute("SET enable_mergejoin = off");
            try (ResultSet rows = explain.executeQuery("EXPLAIN " + statement)) {
                while (rows.next()) {
                    plan.add(rows.getString(1).strip());
                }
            }
        }
        int claims = plan.indexOf(plan.stream().filter(line -> line.contains("using foreign_ids_pkey")).findFirst()
                .orElseThrow(() -> new AssertionError("no claim found by its primary key: " + plan)));
        assertThat(plan.get(claims + 1)).as(String.join("\n", plan))
                .startsWith("Index Cond: ((account_id = ").contains("foreign_id = ").contains("callee = ");
        assertThat(plan).anyMatch(line -> line.contains("calls_ended_idx"));
    }

    /** A send of two numbers without a foreign_id (recorded as one row); answers its id. */
    private String sendWithoutForeignId() throws Exception {
        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, KEY, """
                {"bridge":"918068281234","to":"919876543241,919876543242","flow_id":"1"}""");
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        String call = json(sent).get("data").get(0).get("id").asString();
        return TimeOrderedUuids.sendOf(UUID.fromString(call)).toString();
    }

    /** The call's first attempt answered, and the call ended, at {@code at}; waits until the read model has it. */
    private void ended(CallCommand command, Instant at) throws Exception {
        events.send(CallEventsProducer.event(command, EventType.STATUS, 1, "completed").occurredAt(at).build());
        events.send(CallEventsProducer.event(command, EventType.FINAL, 2, "answered").occurredAt(at).build());
        await().atMost(WAIT).untilAsserted(() -> {
            HttpResponse<String> found = get("/api/v2/calls/" + command.requestId(), KEY);
            assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
            assertThat(json(found).get("final_status").asString()).isEqualTo("answered");
        });
    }

    private static void claim(String foreignId, String callee, String requestId) throws Exception {
        try (Connection db = database(); PreparedStatement insert = db.prepareStatement("""
                INSERT INTO api.foreign_ids (account_id, foreign_id, callee, request_id) VALUES (?, ?, ?, ?)""")) {
            insert.setString(1, ACCOUNT);
            insert.setString(2, foreignId);
            insert.setString(3, callee);
            insert.setString(4, requestId);
            insert.executeUpdate();
        }
    }

    private static long count(String sql, String... values) throws Exception {
        try (Connection db = database(); PreparedStatement query = db.prepareStatement(sql)) {
            for (int i = 0; i < values.length; i++) {
                query.setString(i + 1, values[i]);
            }
            try (ResultSet rows = query.executeQuery()) {
                rows.next();
                return rows.getLong(1);
            }
        }
    }
}
