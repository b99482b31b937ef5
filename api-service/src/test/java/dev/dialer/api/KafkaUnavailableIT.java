package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.infra.Infrastructure;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * api-service whose Kafka is unreachable (a port nothing listens on). Topic provisioning is switched off, as an
 * operator would where topics are managed outside, so the service starts; every request that must reach Kafka is
 * then answered 503 with Retry-After, and nothing is half-stored.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=api-service",
        "dialer.kafka.provision-topics=false",
        "dialer.api.kafka.ack-timeout=PT1S",
        "dialer.api.kafka.retry-after=PT3S",
        // Its Kafka is away: sweeping, it would take the rows other tests' services owe and fail them (decision 0129).
        "dialer.api.owed-states.sweep=false",
        "dialer.api.bootstrap.account-id=it-no-kafka",
        "dialer.api.bootstrap.api-key=" + KafkaUnavailableIT.KEY})
class KafkaUnavailableIT {

    static final String KEY = "dk_itNoKafka0123456789abcdefghijklmnopqrstuvwxy";

    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.Endpoints infra = Infrastructure.shared();
        int closed = closedPort();
        registry.add("dialer.kafka.bootstrap-servers", () -> "127.0.0.1:" + closed);
        registry.add("spring.r2dbc.url", infra::r2dbcUrl);
        registry.add("spring.r2dbc.username", infra::username);
        registry.add("spring.r2dbc.password", infra::password);
        registry.add("spring.flyway.url", infra::jdbcUrl);
        registry.add("spring.flyway.user", infra::username);
        registry.add("spring.flyway.password", infra::password);
    }

    @Test
    void answersASend503WithRetryAfterAndCountsItUnavailable() throws Exception {
        HttpResponse<String> response = post("/api/v2/outgoing/send", """
                {"bridge":"918068281234","to":"919876543215","flow_id":"23"}""");

        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.headers().firstValue("Retry-After")).hasValue("3");
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(RunningApiService.JSON.readTree(response.body()).get("type").asString())
                .isEqualTo("https://dialer.dev/problems/unavailable");
        assertThat(scrape()).contains("dialer_api_requests_total{endpoint=\"send\",outcome=\"unavailable\"}");
    }

    @Test
    void storesNoWebhookWhoseConfigKafkaDidNotAcknowledge() throws Exception {
        String url = "https://unstored.example.com/" + UUID.randomUUID();

        HttpResponse<String> response = post("/api/v2/webhooks", "{\"url\":\"" + url + "\"}");

        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.headers().firstValue("Retry-After")).hasValue("3");
        Infrastructure.Endpoints infra = Infrastructure.shared();
        try (Connection db = DriverManager.getConnection(infra.jdbcUrl(), infra.username(), infra.password());
             PreparedStatement query = db.prepareStatement("SELECT count(*) FROM api.webhooks WHERE url = ?")) {
            query.setString(1, url);
            try (ResultSet count = query.executeQuery()) {
                assertThat(count.next()).isTrue();
                assertThat(count.getInt(1)).isZero();
            }
        }
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private String scrape() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + managementPort + "/actuator/prometheus"))
                .header("Accept", "text/plain;version=0.0.4").GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString()).body();
    }

    private static int closedPort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
