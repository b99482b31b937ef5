package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.account.ApiKeys;
import dev.dialer.api.idempotency.ExpiredKeyPruner;
import dev.dialer.api.idempotency.IdempotencyKey;
import dev.dialer.api.idempotency.IdempotencyStore;
import dev.dialer.api.idempotency.RequestIds;
import dev.dialer.api.ids.TimeOrderedUuids;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.client.ReactorResourceFactory;

/** Idempotency-Key across two api-service instances sharing Kafka and PostgreSQL, on both dialects. */
class IdempotencyIT extends RunningApiService {

    @Autowired
    IdempotencyStore store;

    @Autowired
    ExpiredKeyPruner pruner;

    @Test
    void claimsPastTheirLifeArePrunedAndTheirKeysClaimedAnewWhileLiveClaimsStay() throws Exception {
        String aged = "aged-" + UUID.randomUUID();
        String unanswered = "aged-" + UUID.randomUUID();
        String live = "live-" + UUID.randomUUID();
        claim(aged, "body", UUID.randomUUID().toString(), "now() - interval '25 hours'");
        answer(aged);
        claim(unanswered, "body", UUID.randomUUID().toString(), "now() - interval '25 hours'");
        claim(live, "body", UUID.randomUUID().toString(), "now() - interval '23 hours'");

        Long pruned = pruner.prune().block(Duration.ofSeconds(30));

        // Either instance's scheduled prune may have taken the rows first: what counts is that they are gone.
        assertThat(pruned).isNotNull().isNotNegative();
        assertThat(rowsOf(aged)).isZero();
        assertThat(rowsOf(unanswered)).isZero();
        assertThat(rowsOf(live)).isOne();
        assertThat(store.claim(ACCOUNT, aged, "another body").block())
                .isInstanceOfSatisfying(IdempotencyStore.Proceed.class, claim -> assertThat(claim.fresh()).isTrue());
        assertThat(store.claim(ACCOUNT, live, "another body").block()).isInstanceOf(IdempotencyStore.Conflict.class);
    }

    @Test
    void aKeyedSendIsRecordedOnceUnderItsClaimsSendIdAndATryAgainWithoutAnAnswerRecordsNothingTwice()
            throws Exception {
        String key = "keyed-send-" + UUID.randomUUID();
        String body = """
                {"bridge":"918068281234","to":"919876543215,919876543216,919876543217","flow_id":"23"}""";
        HttpResponse<String> first = send(port, key, body);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        UUID send = UUID.fromString(saltOf(key));
        assertThat(TimeOrderedUuids.isTimeOrdered(send)).isTrue();
        for (int index = 0; index < 3; index++) {
            assertThat(json(first).get("data").get(index).get("id").asString())
                    .isEqualTo(TimeOrderedUuids.ofRecipient(send, index).toString());
        }

        // As if the first try's answer had been lost before it was stored: the try again goes through the send path
        // once more, on the other instance, under the same claim.
        try (var db = database(); var forget = db.prepareStatement(
                "UPDATE api.idempotency_keys SET response = NULL WHERE account_id = ? AND key = ?")) {
            forget.setString(1, ACCOUNT);
            forget.setString(2, key);
            assertThat(forget.executeUpdate()).isEqualTo(1);
        }
        HttpResponse<String> again = send(secondPort, key, body);

        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(again.headers().firstValue("Idempotent-Replayed")).isEmpty();
        for (int index = 0; index < 3; index++) {
            assertThat(json(again).get("data").get(index).get("id").asString())
                    .isEqualTo(TimeOrderedUuids.ofRecipient(send, index).toString());
        }
        try (var db = database(); var rows = db.prepareStatement(
                "SELECT (SELECT count(*) FROM api.accepted_sends WHERE id = ?::uuid),"
                        + " (SELECT count(*) FROM api.calls WHERE id LIKE ?)")) {
            rows.setString(1, send.toString());
            rows.setString(2, send.toString().substring(0, 32) + "%");
            try (var counts = rows.executeQuery()) {
                assertThat(counts.next()).isTrue();
                assertThat(counts.getLong(1)).as("one send row").isEqualTo(1);
                assertThat(counts.getLong(2)).as("no row per call").isZero();
            }
        }
    }

    @Test
    void anAnswerGivenUnderAClaimThatWasReleasedMeanwhileIsKeptAndReplayed() {
        String key = "released-" + UUID.randomUUID();
        IdempotencyStore.Proceed retry = joinedThenRefused(key);

        // B produced under that salt and answers: its answer is kept, so a further retry replays it instead of
        // claiming the key afresh with new ids.
        store.complete(ACCOUNT, key, "same body", retry.salt(), "{\"status\":\"OK\"}").block();

        assertThat(store.claim(ACCOUNT, key, "same body").block()).isInstanceOfSatisfying(IdempotencyStore.Replay.class,
                replay -> assertThat(replay.response()).isEqualTo("{\"status\":\"OK\"}"));
    }

    @Test
    void aRefusedTryKeepsTheClaimAnotherTryJoinedSoAThirdTryReusesItsIds() {
        String key = "joined-" + UUID.randomUUID();
        IdempotencyStore.Proceed retry = joinedThenRefused(key);

        // B answers 503, its answer unstored. C, the client's next retry, must produce B's ids again, not new ones
        // beside them.
        assertThat(store.claim(ACCOUNT, key, "same body").block()).isInstanceOfSatisfying(
                IdempotencyStore.Proceed.class, third -> assertThat(third.salt()).isEqualTo(retry.salt()));
    }

    /**
     * A claims {@code key}; B, a retry, finds A's claim and goes on with its salt; then A is refused (its instance's
     * cached settings older, say) and gives its claim up. Answers B's claim.
     */
    private IdempotencyStore.Proceed joinedThenRefused(String key) {
        IdempotencyStore.Proceed first = (IdempotencyStore.Proceed) store.claim(ACCOUNT, key, "same body").block();
        IdempotencyStore.Proceed retry = (IdempotencyStore.Proceed) store.claim(ACCOUNT, key, "same body").block();
        assertThat(retry.fresh()).isFalse();
        assertThat(retry.salt()).isEqualTo(first.salt());
        store.release(ACCOUNT, key, first.salt()).block();
        return retry;
    }

    @Test
    void anAnswerGivenUnderAnotherClaimsSaltDoesNotOverwriteTheClaimThatHoldsTheKey() {
        String key = "reclaimed-" + UUID.randomUUID();
        IdempotencyStore.Proceed first = (IdempotencyStore.Proceed) store.claim(ACCOUNT, key, "body a").block();
        store.release(ACCOUNT, key, first.salt()).block();
        IdempotencyStore.Proceed second = (IdempotencyStore.Proceed) store.claim(ACCOUNT, key, "body b").block();
        assertThat(second.fresh()).isTrue();

        store.complete(ACCOUNT, key, "body a", first.salt(), "{\"from\":\"a\"}").block();
        store.complete(ACCOUNT, key, "body b", second.salt(), "{\"from\":\"b\"}").block();

        assertThat(store.claim(ACCOUNT, key, "body b").block()).isInstanceOfSatisfying(IdempotencyStore.Replay.class,
                replay -> assertThat(replay.response()).isEqualTo("{\"from\":\"b\"}"));
    }


    private static ConfigurableApplicationContext second;
    private static int secondPort;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startASecondInstance() {
        Infrastructure.Endpoints infra = Infrastructure.shared();
        java.util.List<String> args = new java.util.ArrayList<>(List.of(
                "--spring.config.name=api-service",
                "--server.port=0",
                // Health and metrics beside the API, as the local stack has them: no management server of its own.
                "--management.server.port=",
                "--dialer.api.bootstrap.account-id=" + ACCOUNT,
                "--dialer.api.bootstrap.api-key=" + KEY,
                "--dialer.kafka.partitions=3"));
        infra.serviceProperties().forEach((name, value) -> args.add("--" + name + "=" + value));
        // Its HTTP server on Reactor Netty's resources of its own: closing it must not dispose the global ones, on
        // which the test context's management server runs.
        second = new SpringApplicationBuilder(ApiApplication.class)
                .initializers(context -> context.getBeanFactory().addBeanPostProcessor(new BeanPostProcessor() {
                    @Override
                    public Object postProcessBeforeInitialization(Object bean, String name) {
                        if (bean instanceof ReactorResourceFactory resources) {
                            resources.setUseGlobalResources(false);
                        }
                        return bean;
                    }
                }))
                .run(args.toArray(String[]::new));
        secondPort = Integer.parseInt(second.getEnvironment().getProperty("local.server.port"));
    }

    @AfterAll
    static void stopTheSecondInstance() {
        if (second != null) {
            second.close();
        }
    }

    @Test
    void aRepeatOnTheOtherInstanceReplaysTheAnswerAndQueuesNothing() throws Exception {
        String key = "order-" + UUID.randomUUID();
        String body = """
                {"bridge":"918068281234","to":"919876543215,919876543216","flow_id":"23"}""";

        HttpResponse<String> first = send(port, key, body);
        HttpResponse<String> repeat = send(secondPort, key, body);

        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(first.headers().firstValue("Idempotent-Replayed")).isEmpty();
        assertThat(repeat.statusCode()).isEqualTo(200);
        assertThat(repeat.headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(json(repeat)).isEqualTo(json(first));
        List<String> ids = List.of(json(first).get("data").get(0).get("id").asString(),
                json(first).get("data").get(1).get("id").asString());
        assertThat(commandsFor(ids)).hasSize(2);
    }

    @Test
    void theSameKeyWithAnotherBodyIsAConflict() throws Exception {
        String key = "order-" + UUID.randomUUID();
        send(port, key, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"23"}""");

        HttpResponse<String> other = send(secondPort, key, """
                {"bridge":"918068281234","to":"919876543217","flow_id":"23"}""");

        assertThat(other.statusCode()).isEqualTo(409);
        assertThat(other.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(json(other).get("type").asString()).endsWith("/idempotency-conflict");
    }

    @Test
    void aRetryAfterAnUnfinishedFirstTryReusesTheSameCallIds() throws Exception {
        String key = "order-" + UUID.randomUUID();
        String body = """
                {"bridge":"918068281234","to":"919876543218","audio":"a-sound"}""";
        // The first try claimed the key and produced, but its answer was never stored (say the broker acknowledged
        // after the client had given up with a 503).
        try (var db = database(); var claim = db.prepareStatement(
                "INSERT INTO api.idempotency_keys (account_id, key, body_sha256) VALUES (?, ?, ?)")) {
            claim.setString(1, ACCOUNT);
            claim.setString(2, key);
            claim.setString(3, dev.dialer.api.account.ApiKeys.hash(body));
            claim.executeUpdate();
        }

        HttpResponse<String> retry = send(secondPort, key, body);
        HttpResponse<String> again = send(port, key, body);

        String id = json(retry).get("data").get(0).get("id").asString();
        // A row claimed before salts existed has none: its ids keep the derivation they were first given.
        assertThat(id).isEqualTo(RequestIds.of(ACCOUNT, key, null, 0));
        assertThat(again.headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(json(again).get("data").get(0).get("id").asString()).isEqualTo(id);
    }

    @Test
    void aRetryAfterAnUnfinishedFirstTryReusesTheIdsOfItsSalt() throws Exception {
        String key = "order-" + UUID.randomUUID();
        String body = """
                {"bridge":"918068281234","to":"919876543219","audio":"a-sound"}""";
        String salt = UUID.randomUUID().toString();
        claim(key, ApiKeys.hash(body), salt, "now()");

        HttpResponse<String> retry = send(secondPort, key, body);

        assertThat(json(retry).get("data").get(0).get("id").asString())
                .isEqualTo(RequestIds.of(ACCOUNT, key, salt, 0));
    }

    /**
     * A retry after an unfinished first try (its commands in Kafka, its answer not stored) gives its calls the first
     * try's {@code created_at}: the dispatcher keeps the first command of each id, so the retry's own time would move
     * the call's {@code created_at} at its first event, and a campaign cancel issued between the tries would cover one
     * try's command and not the other's.
     */
    @Test
    void aRetryAfterAnUnfinishedFirstTryGivesItsCallsTheFirstTrysCreatedAt() throws Exception {
        String key = "order-" + UUID.randomUUID();
        String body = """
                {"bridge":"918068281234","to":"919876543217","audio":"a-sound"}""";
        claim(key, ApiKeys.hash(body), TimeOrderedUuids.send().toString(), "now() - interval '2 minutes'");

        HttpResponse<String> retry = send(secondPort, key, body);

        assertThat(retry.statusCode()).isEqualTo(200);
        Instant createdAt = Instant.parse(json(retry).get("data").get(0).get("created_at").asString());
        assertThat(createdAt).isEqualTo(claimedAt(key)).isBefore(Instant.now().minus(Duration.ofMinutes(1)));
    }

    @Test
    void aKeyReusedAfterItExpiredQueuesNewCallIdsTheDispatcherWillDial() throws Exception {
        String key = "order-" + UUID.randomUUID();
        String body = """
                {"bridge":"918068281234","to":"919876543215","flow_id":"23"}""";
        HttpResponse<String> first = send(port, key, body);
        expire(key);

        HttpResponse<String> reused = send(secondPort, key, body);

        assertThat(reused.statusCode()).as(reused.body()).isEqualTo(200);
        assertThat(reused.headers().firstValue("Idempotent-Replayed")).isEmpty();
        String firstId = json(first).get("data").get(0).get("id").asString();
        String reusedId = json(reused).get("data").get(0).get("id").asString();
        // The dispatcher keeps the first command per id for ever: the same id again would never be dialled.
        assertThat(reusedId).isNotEqualTo(firstId).isEqualTo(new IdempotencyKey(key, saltOf(key)).callId(ACCOUNT, 0));
        assertThat(commandsFor(List.of(firstId, reusedId))).hasSize(2);
    }

    @Test
    void aKeyWhoseRequestWasRefusedWithA4xxCanBeSentAgainAtOnceWithACorrectedBody() throws Exception {
        String key = "order-" + UUID.randomUUID();

        HttpResponse<String> refused = send(port, key, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"23","interval":7}""");
        HttpResponse<String> corrected = send(secondPort, key, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"23","interval":15}""");
        HttpResponse<String> repeated = send(port, key, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"23","interval":15}""");

        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(corrected.statusCode()).as(corrected.body()).isEqualTo(200);
        assertThat(corrected.headers().firstValue("Idempotent-Replayed")).isEmpty();
        assertThat(repeated.headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(json(repeated)).isEqualTo(json(corrected));
    }

    @Test
    void aRefusalKeepsTheClaimOfAnEarlierTryThatMayHaveProduced() throws Exception {
        String key = "order-" + UUID.randomUUID();
        // The first try claimed the key and produced, but never stored its answer; its body is refused now (a
        // webhook deleted meanwhile, say, here one that never existed).
        String body = """
                {"bridge":"918068281234","to":"919876543215","flow_id":"23","webhook_id":"gone"}""";
        claim(key, ApiKeys.hash(body), UUID.randomUUID().toString(), "now()");

        HttpResponse<String> refused = send(port, key, body);
        HttpResponse<String> other = send(secondPort, key, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"23"}""");

        assertThat(refused.statusCode()).isEqualTo(400);
        // Released, the key would take a new salt and new ids for calls the first try may have queued.
        assertThat(other.statusCode()).isEqualTo(409);
    }

    @Test
    void theVoiceGatewayDialectHonoursTheKeyOnEitherInstance() throws Exception {
        String key = "call-" + UUID.randomUUID();
        String path = "/v1/Accounts/" + ACCOUNT + "/Calls";
        String body = """
                {"application_sid":"app-1","from":"918068281234","to":{"type":"phone","number":"919876543215"}}""";

        HttpResponse<String> first = send(port, path, key, body);
        HttpResponse<String> repeat = send(secondPort, path, key, body);
        HttpResponse<String> other = send(secondPort, path, key, body.replace("app-1", "app-2"));
        HttpResponse<String> onSend = send(port, key, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"23"}""");

        assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
        assertThat(first.headers().firstValue("Idempotent-Replayed")).isEmpty();
        String sid = json(first).get("sid").asString();
        assertThat(sid).isEqualTo(new IdempotencyKey(key, saltOf(key)).callId(ACCOUNT, 0))
                .isEqualTo(TimeOrderedUuids.ofRecipient(UUID.fromString(saltOf(key)), 0).toString());
        assertThat(repeat.statusCode()).isEqualTo(201);
        assertThat(repeat.headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(json(repeat)).isEqualTo(json(first));
        assertThat(commandsFor(List.of(sid))).hasSize(1);
        assertThat(other.statusCode()).isEqualTo(409);
        assertThat(json(other).get("type").asString()).endsWith("/idempotency-conflict");
        assertThat(onSend.statusCode()).isEqualTo(409);
    }

    @Test
    void theVoiceGatewayDialectReusesItsCallIdAfterAnUnfinishedFirstTry() throws Exception {
        String key = "call-" + UUID.randomUUID();
        String path = "/v1/Accounts/" + ACCOUNT + "/Calls";
        String body = """
                {"application_sid":"app-1","from":"918068281234","to":{"type":"phone","number":"919876543216"}}""";
        String first = send(port, path, key, body).body();
        // As if the first try's answer had never been stored (a 503 after Kafka stored the command late).
        try (var db = database(); var unfinished = db.prepareStatement(
                "UPDATE api.idempotency_keys SET response = NULL WHERE account_id = ? AND key = ?")) {
            unfinished.setString(1, ACCOUNT);
            unfinished.setString(2, key);
            unfinished.executeUpdate();
        }

        HttpResponse<String> retry = send(secondPort, path, key, body);

        assertThat(retry.statusCode()).isEqualTo(201);
        assertThat(retry.headers().firstValue("Idempotent-Replayed")).isEmpty();
        assertThat(json(retry).get("sid").asString()).isEqualTo(JSON.readTree(first).get("sid").asString());
    }

    private static void claim(String key, String fingerprint, String salt, String createdAt) throws Exception {
        try (var db = database(); var claim = db.prepareStatement("INSERT INTO api.idempotency_keys "
                + "(account_id, key, body_sha256, salt, created_at) VALUES (?, ?, ?, ?, " + createdAt + ")")) {
            claim.setString(1, ACCOUNT);
            claim.setString(2, key);
            claim.setString(3, fingerprint);
            claim.setString(4, salt);
            claim.executeUpdate();
        }
    }

    private static void answer(String key) throws Exception {
        try (var db = database(); var answer = db.prepareStatement("UPDATE api.idempotency_keys "
                + "SET response = '{}' WHERE account_id = ? AND key = ?")) {
            answer.setString(1, ACCOUNT);
            answer.setString(2, key);
            assertThat(answer.executeUpdate()).isEqualTo(1);
        }
    }

    private static int rowsOf(String key) throws Exception {
        return ofKey(key, "count(*)", Long.class).intValue();
    }

    /** Moves the key's claim 25 hours back: past its life. */
    private static void expire(String key) throws Exception {
        try (var db = database(); var age = db.prepareStatement("UPDATE api.idempotency_keys "
                + "SET created_at = now() - interval '25 hours' WHERE account_id = ? AND key = ?")) {
            age.setString(1, ACCOUNT);
            age.setString(2, key);
            assertThat(age.executeUpdate()).isEqualTo(1);
        }
    }

    private static Instant claimedAt(String key) throws Exception {
        return ofKey(key, "created_at", OffsetDateTime.class).toInstant();
    }

    private static String saltOf(String key) throws Exception {
        return ofKey(key, "salt", String.class);
    }

    /** {@code expression} (a column, or an aggregate) over the account's claim of {@code key}. */
    private static <T> T ofKey(String key, String expression, Class<T> type) throws Exception {
        try (var db = database(); var select = db.prepareStatement(
                "SELECT " + expression + " FROM api.idempotency_keys WHERE account_id = ? AND key = ?")) {
            select.setString(1, ACCOUNT);
            select.setString(2, key);
            try (var row = select.executeQuery()) {
                assertThat(row.next()).isTrue();
                return row.getObject(1, type);
            }
        }
    }

    private List<?> commandsFor(List<String> ids) {
        try (TopicProbe probe = probe(Topics.CALL_COMMANDS)) {
            return probe.readToEnd().stream()
                    .map(record -> new String(record.value(), StandardCharsets.UTF_8))
                    .filter(value -> ids.stream().anyMatch(id -> value.contains("\"request_id\":\"" + id + "\"")))
                    .toList();
        }
    }

    private HttpResponse<String> send(int to, String key, String body) throws Exception {
        return send(to, "/api/v2/outgoing/send", key, body);
    }

    private HttpResponse<String> send(int to, String path, String key, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + to + path))
                .header("Authorization", "Bearer " + KEY)
                .header("Content-Type", JSON_TYPE)
                .header("Idempotency-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
