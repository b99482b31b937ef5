package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** Idempotency-Key across two api-service instances sharing Kafka and PostgreSQL. */
class IdempotencyIT extends RunningApiService {

    private static ConfigurableApplicationContext second;
    private static int secondPort;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startASecondInstance() {
        Infrastructure.Endpoints infra = Infrastructure.shared();
        java.util.List<String> args = new java.util.ArrayList<>(List.of(
                "--spring.config.name=api-service",
                "--server.port=0",
                "--dialer.api.bootstrap.account-id=" + ACCOUNT,
                "--dialer.api.bootstrap.api-key=" + KEY,
                "--dialer.kafka.partitions=3"));
        infra.serviceProperties().forEach((name, value) -> args.add("--" + name + "=" + value));
        second = new SpringApplicationBuilder(ApiApplication.class).run(args.toArray(String[]::new));
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
        assertThat(id).isEqualTo(dev.dialer.api.send.RequestIdsAccess.of(ACCOUNT, key, 0));
        assertThat(again.headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(json(again).get("data").get(0).get("id").asString()).isEqualTo(id);
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
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + to + "/api/v2/outgoing/send"))
                .header("Authorization", "Bearer " + KEY)
                .header("Content-Type", JSON_TYPE)
                .header("Idempotency-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
