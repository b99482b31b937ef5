package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.idempotency.RequestIds;
import dev.dialer.common.kafka.Topics;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** foreign_id de-duplication per account on PostgreSQL, including requests racing each other. */
class ForeignIdIT extends RunningApiService {

    @Test
    void concurrentRequestsWithTheSameForeignIdAndNumberQueueExactlyOneCall() throws Exception {
        String foreignId = "crm-" + UUID.randomUUID();
        String body = """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","foreign_id":"%s"}""".formatted(foreignId);
        List<CompletableFuture<HttpResponse<String>>> racing = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            racing.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return post("/api/v2/outgoing/send", JSON_TYPE, KEY, body);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        List<JsonNode> rows = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> response : racing) {
            HttpResponse<String> answer = response.join();
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            rows.add(json(answer).get("data").get(0));
        }

        assertThat(rows).filteredOn(row -> row.get("status").asString().equals("queued")).hasSize(1);
        assertThat(rows).filteredOn(row -> row.get("status").asString().equals("duplicate")).hasSize(3);
        assertThat(rows.stream().map(row -> row.get("id").asString()).distinct()).hasSize(1);
        JsonNode listed = json(get("/api/v2/calls?foreign_id=" + foreignId, KEY)).get("data");
        assertThat(listed).hasSize(1);
    }

    @Test
    void aRetryWithoutAKeyAfterAnAmbiguous503QueuesTheSameCallIdAgainAndLaterRequestsAreDuplicates()
            throws Exception {
        String foreignId = "crm-" + UUID.randomUUID();
        String body = """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","foreign_id":"%s"}""".formatted(foreignId);
        String id = RequestIds.ofForeignId(ACCOUNT, foreignId, "+919876543215");

        HttpResponse<String> first = post("/api/v2/outgoing/send", JSON_TYPE, KEY, body);
        // As if Kafka had acknowledged after the API answered 503: the claim and the queued row rolled back with the
        // 503's transaction, while the command was stored.
        try (Connection db = database(); PreparedStatement rollback = db.prepareStatement("""
                WITH claim AS (DELETE FROM api.foreign_ids WHERE account_id = ? AND foreign_id = ?)
                DELETE FROM api.calls WHERE account_id = ? AND id = ?""")) {
            rollback.setString(1, ACCOUNT);
            rollback.setString(2, foreignId);
            rollback.setString(3, ACCOUNT);
            rollback.setString(4, id);
            rollback.executeUpdate();
        }
        HttpResponse<String> retry = post("/api/v2/outgoing/send", JSON_TYPE, KEY, body);
        HttpResponse<String> later = post("/api/v2/outgoing/send", JSON_TYPE, KEY, body);

        assertThat(json(first).get("data").get(0).get("id").asString()).isEqualTo(id);
        assertThat(json(retry).get("data").get(0).get("status").asString()).as(retry.body()).isEqualTo("queued");
        assertThat(json(retry).get("data").get(0).get("id").asString()).isEqualTo(id);
        assertThat(json(later).get("data").get(0).get("status").asString()).isEqualTo("duplicate");
        assertThat(json(later).get("data").get(0).get("id").asString()).isEqualTo(id);
        try (TopicProbe commands = probe(Topics.CALL_COMMANDS)) {
            // Twice on the topic under one id: the dispatcher's ledger keeps the first and dials it once.
            assertThat(commands.readToEnd()).filteredOn(record -> new String(record.value(), StandardCharsets.UTF_8)
                    .contains("\"request_id\":\"" + id + "\"")).hasSize(2);
        }
    }

    @Test
    void aKeyedRetryOfATryThatCommittedQueuesItsCallAgainWhileAnotherKeyOrNoneIsADuplicate() throws Exception {
        String foreignId = "crm-" + UUID.randomUUID();
        String key = "fid-" + UUID.randomUUID();
        String body = """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","foreign_id":"%s"}""".formatted(foreignId);
        String id = RequestIds.ofForeignId(ACCOUNT, foreignId, "+919876543215");

        HttpResponse<String> first = sendKeyed(key, body);
        // As if the first try's answer had never been stored (the client went away after its claims committed).
        try (Connection db = database(); PreparedStatement unfinished = db.prepareStatement(
                "UPDATE api.idempotency_keys SET response = NULL WHERE account_id = ? AND key = ?")) {
            unfinished.setString(1, ACCOUNT);
            unfinished.setString(2, key);
            unfinished.executeUpdate();
        }
        HttpResponse<String> retry = sendKeyed(key, body);
        HttpResponse<String> otherKey = sendKeyed("fid-" + UUID.randomUUID(), body);
        HttpResponse<String> noKey = post("/api/v2/outgoing/send", JSON_TYPE, KEY, body);

        // Keyed or not, the call has the id its foreign_id and number derive: a try that Kafka stored late is the
        // same call as its retry, whatever key that retry carries.
        assertThat(json(first).get("data").get(0).get("id").asString()).as(first.body()).isEqualTo(id);
        assertThat(retry.headers().firstValue("Idempotent-Replayed")).isEmpty();
        assertThat(json(retry).get("data").get(0).get("status").asString()).as(retry.body()).isEqualTo("queued");
        assertThat(json(retry).get("data").get(0).get("id").asString()).isEqualTo(id);
        for (HttpResponse<String> later : List.of(otherKey, noKey)) {
            assertThat(json(later).get("data").get(0).get("status").asString()).as(later.body())
                    .isEqualTo("duplicate");
            assertThat(json(later).get("data").get(0).get("id").asString()).isEqualTo(id);
        }
    }

    @Test
    void twoRequestsClaimingTheSamePairsInOppositeOrdersBothSucceedInsteadOfDeadlocking() throws Exception {
        String prefix = "lock-" + UUID.randomUUID();
        // An open transaction holds a third pair: the first request stops on it, holding what it claimed before.
        try (Connection gate = database()) {
            gate.setAutoCommit(false);
            try (PreparedStatement hold = gate.prepareStatement("INSERT INTO api.foreign_ids "
                    + "(account_id, foreign_id, callee, request_id) VALUES (?, ?, '+919876543219', 'gate')")) {
                hold.setString(1, ACCOUNT);
                hold.setString(2, prefix + "-z");
                hold.executeUpdate();
            }
            CompletableFuture<HttpResponse<String>> first = sendAsync("""
                    {"bridge":"918068281234","flow_id":"1","to":[{"number":"919876543215","foreign_id":"%1$s-a"},
                     {"number":"919876543219","foreign_id":"%1$s-z"},{"number":"919876543216","foreign_id":"%1$s-b"}]}"""
                    .formatted(prefix));
            awaitLockWaits("INSERT INTO api.foreign_ids", 1);
            CompletableFuture<HttpResponse<String>> second = sendAsync("""
                    {"bridge":"918068281234","flow_id":"1","to":[{"number":"919876543216","foreign_id":"%1$s-b"},
                     {"number":"919876543215","foreign_id":"%1$s-a"}]}""".formatted(prefix));
            awaitLockWaits("INSERT INTO api.foreign_ids", 2);
            gate.rollback();

            List<JsonNode> rows = new ArrayList<>();
            for (HttpResponse<String> answer : List.of(first.join(), second.join())) {
                assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
                json(answer).get("data").forEach(rows::add);
            }
            for (String pair : List.of(prefix + "-a", prefix + "-b")) {
                assertThat(rows).filteredOn(row -> row.get("foreign_id").asString().equals(pair))
                        .extracting(row -> row.get("status").asString())
                        .containsExactlyInAnyOrder("queued", "duplicate");
            }
        }
    }

    @Test
    void aClaimWaitingLongForARacingClaimIsA503NotAConnectionHeldForGood() throws Exception {
        String foreignId = "held-" + UUID.randomUUID();
        // A racing request's claim, held as one whose Kafka acknowledgement is slow holds it.
        try (Connection racing = database()) {
            racing.setAutoCommit(false);
            try (PreparedStatement hold = racing.prepareStatement("INSERT INTO api.foreign_ids "
                    + "(account_id, foreign_id, callee, request_id) VALUES (?, ?, '+919876543215', 'racing')")) {
                hold.setString(1, ACCOUNT);
                hold.setString(2, foreignId);
                hold.executeUpdate();
            }

            HttpResponse<String> waited = post("/api/v2/outgoing/send", JSON_TYPE, KEY, """
                    {"bridge":"918068281234","to":"919876543215","flow_id":"1","foreign_id":"%s"}""".formatted(
                    foreignId));

            assertThat(waited.statusCode()).as(waited.body()).isEqualTo(503);
            assertThat(waited.headers().firstValue("Retry-After")).isPresent();
            racing.rollback();
        }
        HttpResponse<String> again = post("/api/v2/outgoing/send", JSON_TYPE, KEY, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","foreign_id":"%s"}""".formatted(foreignId));
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(json(again).get("data").get(0).get("status").asString()).isEqualTo("queued");
    }

    private CompletableFuture<HttpResponse<String>> sendAsync(String body) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return post("/api/v2/outgoing/send", JSON_TYPE, KEY, body);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void theSameForeignIdForAnotherAccountIsNotADuplicate() throws Exception {
        String otherKey = TestAccounts.ensure("it-foreign-other");
        String body = """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","foreign_id":"shared-%s"}"""
                .formatted(UUID.randomUUID());

        HttpResponse<String> mine = post("/api/v2/outgoing/send", JSON_TYPE, KEY, body);
        HttpResponse<String> theirs = post("/api/v2/outgoing/send", JSON_TYPE, otherKey, body);

        assertThat(json(mine).get("data").get(0).get("status").asString()).isEqualTo("queued");
        assertThat(json(theirs).get("data").get(0).get("status").asString()).isEqualTo("queued");
    }
}
