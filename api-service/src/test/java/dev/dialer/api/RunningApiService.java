package dev.dialer.api;

import static org.awaitility.Awaitility.await;

import dev.dialer.infra.Infrastructure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * api-service as it runs: its own configuration file, a real Kafka broker and a real PostgreSQL, a bootstrap
 * account, a real HTTP port. The test classes extending it share one application context.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=api-service",
        "dialer.api.bootstrap.account-id=" + RunningApiService.ACCOUNT,
        "dialer.api.bootstrap.api-key=" + RunningApiService.KEY,
        "dialer.kafka.partitions=3",
        "dialer.api.hooks.signing-key=" + RunningApiService.HOOK_SIGNING_KEY,
        "dialer.api.rate-limit.accounts." + RunningApiService.LIMITED_ACCOUNT + "=0.1",
        "dialer.api.limits.dnc-per-account=" + RunningApiService.DNC_PER_ACCOUNT})
abstract class RunningApiService {

    static final String ACCOUNT = "it-acme";
    static final String KEY = "dk_itAcmeKey0123456789abcdefghijklmnopqrstuvwxy";
    /** The key each account's hook secret is derived from, as webhook-service's "it" profile has it. */
    static final String HOOK_SIGNING_KEY = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    /** The most numbers an account's DNC list may hold here: few enough for a test to fill (1,000,000 by default). */
    static final int DNC_PER_ACCOUNT = 20_000;
    /** An account held to one request per ten seconds. */
    static final String LIMITED_ACCOUNT = "it-limited";
    static final String FORM = "application/x-www-form-urlencoded";
    static final String JSON_TYPE = "application/json";
    static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @LocalServerPort
    int port;

    /** Where health and metrics are served: a port of their own (decision 0119). */
    @LocalManagementPort
    int managementPort;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.Endpoints infra = Infrastructure.shared();
        infra.serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
    }

    static TopicProbe probe(String topic) {
        return new TopicProbe(Infrastructure.shared().kafkaBootstrapServers(), topic);
    }

    static Connection database() throws SQLException {
        Infrastructure.Endpoints infra = Infrastructure.shared();
        return DriverManager.getConnection(infra.jdbcUrl(), infra.username(), infra.password());
    }

    /** Waits until {@code count} sessions wait for a lock in a statement whose text contains {@code statement}. */
    static void awaitLockWaits(String statement, int count) {
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() -> {
            try (Connection db = database(); PreparedStatement waiting = db.prepareStatement("""
                    SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE ?""")) {
                waiting.setString(1, "%" + statement + "%");
                try (ResultSet row = waiting.executeQuery()) {
                    row.next();
                    return row.getInt(1) >= count;
                }
            }
        });
    }

    /** The plan PostgreSQL chooses for {@code query}, as {@code EXPLAIN} prints it. */
    static String plan(Statement statement, String query) throws SQLException {
        StringBuilder plan = new StringBuilder();
        try (ResultSet rows = statement.executeQuery("EXPLAIN " + query)) {
            while (rows.next()) {
                plan.append(rows.getString(1)).append('\n');
            }
        }
        return plan.toString();
    }

    HttpResponse<String> post(String path, String contentType, String key, String body) throws Exception {
        return post(path, contentType, key, body, Map.of());
    }

    /** As {@link #post(String, String, String, String)}, with these headers too. */
    HttpResponse<String> post(String path, String contentType, String key, String body, Map<String, String> headers)
            throws Exception {
        HttpRequest.Builder request = request(path, key).POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A JSON send under an {@code Idempotency-Key}. */
    HttpResponse<String> sendKeyed(String idempotencyKey, String body) throws Exception {
        return http.send(request("/api/v2/outgoing/send", KEY).header("Content-Type", JSON_TYPE)
                .header("Idempotency-Key", idempotencyKey).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A POST whose body has no declared length (sent chunked). */
    HttpResponse<String> postChunked(String path, String key, String body) throws Exception {
        HttpRequest.BodyPublisher unsized = HttpRequest.BodyPublishers.fromPublisher(
                HttpRequest.BodyPublishers.ofString(body));
        return http.send(request(path, key).header("Content-Type", JSON_TYPE).POST(unsized).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path, String key) throws Exception {
        return http.send(request(path, key).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> patch(String path, String key, String body) throws Exception {
        return http.send(request(path, key).header("Content-Type", JSON_TYPE)
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> delete(String path, String key) throws Exception {
        return http.send(request(path, key).DELETE().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** What a Prometheus server sees when it scrapes. */
    String scrape() throws Exception {
        HttpRequest request = actuatorRequest(managementPort, "/actuator/prometheus")
                .header("Accept", "text/plain;version=0.0.4").build();
        return http.send(request, HttpResponse.BodyHandlers.ofString()).body();
    }

    /** {@code GET} of an actuator path on {@code port}, as a probe asks it. */
    HttpResponse<String> actuator(int port, String path) throws Exception {
        return http.send(actuatorRequest(port, path).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.Builder actuatorRequest(int port, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30))
                .GET();
    }

    static JsonNode json(HttpResponse<String> response) {
        return JSON.readTree(response.body());
    }

    private HttpRequest.Builder request(String path, String key) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .header("Accept", "application/json");
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return request;
    }
}
