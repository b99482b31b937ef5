package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * api-service whose Kafka acknowledges later than the API waits (the producer holds each record two seconds before it
 * sends it, the API waits half a second): every change is answered 503, while its record still reaches the topic.
 * What the API answered must still be what the topic says.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=api-service",
        "dialer.api.kafka.ack-timeout=PT0.5S",
        "dialer.kafka.properties.linger.ms=2000",
        "dialer.api.bootstrap.account-id=" + SlowAcknowledgementIT.ACCOUNT,
        "dialer.api.bootstrap.api-key=" + SlowAcknowledgementIT.KEY})
class SlowAcknowledgementIT {

    static final String ACCOUNT = "it-slow-ack";
    static final String KEY = "dk_itSlowAck0123456789abcdefghijklmnopqrstuvwxyz";

    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
    }

    @Test
    void aSubscriptionWhoseCreateWasAnswered503IsRemovedFromTheTopicItReached() throws Exception {
        String webhookId = "wh-" + UUID.randomUUID();
        Infrastructure.Endpoints infra = Infrastructure.shared();
        try (Connection db = DriverManager.getConnection(infra.jdbcUrl(), infra.username(), infra.password());
             PreparedStatement insert = db.prepareStatement(
                     "INSERT INTO api.webhooks (id, account_id, url, secret) VALUES (?, ?, ?, 'whsec_dGVzdA==')")) {
            insert.setString(1, webhookId);
            insert.setString(2, ACCOUNT);
            insert.setString(3, "https://hooks.example.com/" + webhookId);
            insert.executeUpdate();
        }

        // The producer's first record to the topic waits for the topic's metadata, and a request cancelled meanwhile
        // may send nothing: a first change makes the producer know the topic.
        post("/api/v2/webhooks", "{\"url\":\"https://warm.example.com/hooks\"}");
        Thread.sleep(3_000);

        HttpResponse<String> response = post("/api/v2/subscriptions",
                "{\"webhook_id\":\"" + webhookId + "\",\"event_types\":[\"call.final\"]}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(503);

        try (TopicProbe topic = RunningApiService.probe(Topics.WEBHOOK_CONFIG)) {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
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
}
