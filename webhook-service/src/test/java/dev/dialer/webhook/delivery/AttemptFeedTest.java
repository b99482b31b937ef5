package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DeliveryAttempt;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import tools.jackson.databind.JsonNode;

class AttemptFeedTest {

    private static final Instant AT = Instant.parse("2026-01-02T03:04:05Z");

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<OutboundRecord> published = new CopyOnWriteArrayList<>();

    @Test
    void aWebhookAttemptIsPublishedAsADeliveryAttemptKeyedByTheWebhookIdWithItsBodyCut() {
        AttemptFeed feed = new AttemptFeed(record -> Mono.fromRunnable(() -> published.add(record)),
                new DeliveryMetrics(registry), 16);

        StepVerifier.create(feed.record(attempt("wh-1", "webhook", 2, 503, null, "é".repeat(20))))
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        assertThat(published).singleElement().satisfies(record -> {
            assertThat(record.topic()).isEqualTo(Topics.WEBHOOK_DELIVERIES);
            assertThat(record.key()).isEqualTo("wh-1");
            JsonNode json = Contract.mapper().readTree(record.value());
            assertThat(json.path("event_id").asString()).isEqualTo("ev-1");
            assertThat(json.path("webhook_id").asString()).isEqualTo("wh-1");
            assertThat(json.path("account_id").asString()).isEqualTo("acc-1");
            assertThat(json.path("attempt_no").asInt()).isEqualTo(2);
            assertThat(json.path("status_code").asInt()).isEqualTo(503);
            assertThat(json.path("latency_ms").asLong()).isEqualTo(42);
            assertThat(json.path("outcome").asString()).isEqualTo("retrying");
            assertThat(json.path("target").asString()).isEqualTo("webhook");
            assertThat(json.path("attempted_at").asString()).isEqualTo("2026-01-02T03:04:05Z");
            // 16 bytes of two-byte characters: eight of them, none cut in half.
            assertThat(json.path("response_body").asString()).isEqualTo("é".repeat(8));
            assertThat(json.has("error")).isFalse();
        });
    }

    @Test
    void aHookAttemptIsKeyedByItsKindAndTheRequestId() {
        AttemptFeed feed = new AttemptFeed(record -> Mono.fromRunnable(() -> published.add(record)),
                new DeliveryMetrics(registry), 16);

        StepVerifier.create(feed.record(attempt(null, "notify_url", 1, null, "ConnectException: refused", null)))
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        assertThat(published).singleElement().satisfies(record -> {
            assertThat(record.key()).isEqualTo("notify_url:req-1");
            JsonNode json = Contract.mapper().readTree(record.value());
            assertThat(json.path("target").asString()).isEqualTo("notify_url");
            assertThat(json.has("webhook_id")).isFalse();
            assertThat(json.path("error").asString()).isEqualTo("ConnectException: refused");
        });
    }

    @Test
    void aFailedPublishCompletesAndIsCounted() {
        AttemptFeed feed = new AttemptFeed(record -> Mono.error(new IllegalStateException("broker down")),
                new DeliveryMetrics(registry), 16);

        StepVerifier.create(feed.record(attempt("wh-1", "webhook", 1, 200, null, null)))
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        assertThat(registry.get("dialer.webhook.attempts.unpublished").counter().count()).isEqualTo(1);
    }

    static DeliveryAttempt attempt(String webhookId, String target, int attemptNo, Integer status, String error,
                                   String body) {
        return new DeliveryAttempt(DeliveryAttempt.VERSION, "att-1", "ev-1", "call.status", webhookId, target,
                "req-1", "acc-1", attemptNo, DeliveryAttempt.Outcome.RETRYING, status, error, body, 42,
                Instant.parse("2026-01-02T03:05:05Z"), false, false, AT);
    }
}
