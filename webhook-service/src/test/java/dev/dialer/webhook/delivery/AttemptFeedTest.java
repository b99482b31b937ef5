package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.Contract;
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
    void aWebhookAttemptIsPublishedKeyedByTheWebhookId() {
        AttemptFeed feed = new AttemptFeed(record -> Mono.fromRunnable(() -> published.add(record)),
                new DeliveryMetrics(registry));

        StepVerifier.create(feed.record(new AttemptRecord("ev-1", "wh-1", Target.Kind.WEBHOOK, "req-1", "acc-1", 2,
                        503, null, 42, AT)))
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
            assertThat(json.path("attempted_at").asString()).isEqualTo("2026-01-02T03:04:05Z");
            assertThat(json.has("hook")).isFalse();
            assertThat(json.has("error")).isFalse();
        });
    }

    @Test
    void aHookAttemptIsKeyedByItsKindAndTheRequestId() {
        AttemptFeed feed = new AttemptFeed(record -> Mono.fromRunnable(() -> published.add(record)),
                new DeliveryMetrics(registry));

        StepVerifier.create(feed.record(new AttemptRecord("ev-1", "notify", Target.Kind.NOTIFY, "req-1", "acc-1", 1,
                        null, "ConnectException: refused", 3, AT)))
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        assertThat(published).singleElement().satisfies(record -> {
            assertThat(record.key()).isEqualTo("notify:req-1");
            JsonNode json = Contract.mapper().readTree(record.value());
            assertThat(json.path("hook").asString()).isEqualTo("notify");
            assertThat(json.has("webhook_id")).isFalse();
            assertThat(json.path("error").asString()).isEqualTo("ConnectException: refused");
        });
    }

    @Test
    void aFailedPublishCompletesAndIsCounted() {
        AttemptFeed feed = new AttemptFeed(record -> Mono.error(new IllegalStateException("broker down")),
                new DeliveryMetrics(registry));

        StepVerifier.create(feed.record(new AttemptRecord("ev-1", "wh-1", Target.Kind.WEBHOOK, "req-1", "acc-1", 1,
                        200, null, 5, AT)))
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        assertThat(registry.get("dialer.webhook.attempts.unpublished").counter().count()).isEqualTo(1);
    }
}
