package dev.dialer.webhook.directory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

class WebhookDirectoryTest {

    private static final WebhookConfig HOOK = new WebhookConfig("wh-1", "acc-1", "https://example.com/hook", "ops",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true, Instant.parse("2026-01-01T00:00:00Z"));

    private final Sinks.Many<InboundRecord> topic = Sinks.many().unicast().onBackpressureBuffer();
    private final Sinks.Empty<Void> readerCaughtUp = Sinks.empty();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final AtomicLong offsets = new AtomicLong();
    private final WebhookDirectory directory =
            new WebhookDirectory(topic::asFlux, readerCaughtUp.asMono(), registry);
    private Disposable following;

    @BeforeEach
    void follow() {
        following = directory.follow().subscribe();
    }

    @AfterEach
    void stop() {
        following.dispose();
    }

    @Test
    void findsAWebhookThatIsAlreadyKnown() {
        publish("wh-1", Contract.toBytes(HOOK));

        StepVerifier.create(directory.find("wh-1", Duration.ZERO))
                .expectNext(HOOK)
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aWebhookDisabledLocallyStaysDisabledUntilItsNextVersionArrives() {
        publish("wh-1", Contract.toBytes(HOOK));

        directory.disableLocally("wh-1");

        StepVerifier.create(directory.find("wh-1", Duration.ZERO))
                .assertNext(config -> assertThat(config.enabled()).isFalse())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        publish("wh-1", Contract.toBytes(HOOK));
        StepVerifier.create(directory.find("wh-1", Duration.ZERO))
                .assertNext(config -> assertThat(config.enabled()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void disablingAnUnknownWebhookDoesNotCreateIt() {
        directory.disableLocally("wh-unknown");

        StepVerifier.create(directory.find("wh-unknown", Duration.ZERO))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aLookupWaitsForAWebhookThatArrivesLate() {
        StepVerifier.create(directory.find("wh-1", Duration.ofSeconds(10)))
                .expectSubscription()
                .then(() -> publish("wh-1", Contract.toBytes(HOOK)))
                .expectNext(HOOK)
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aLookupOfAnUnknownWebhookEndsEmptyWhenTheWaitIsOver() {
        StepVerifier.withVirtualTime(() -> directory.find("wh-unknown", Duration.ofSeconds(10)))
                .expectSubscription()
                .then(() -> publish("wh-other", Contract.toBytes(HOOK)))
                .expectNoEvent(Duration.ofSeconds(9))
                .thenAwait(Duration.ofSeconds(1))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aTombstoneRemovesTheWebhook() {
        publish("wh-1", Contract.toBytes(HOOK));
        publish("wh-1", null);

        StepVerifier.create(directory.find("wh-1", Duration.ZERO))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void anUnreadableVersionDropsTheWebhookAndIsCounted() {
        publish("wh-1", Contract.toBytes(HOOK));
        publish("wh-1", "{not json".getBytes(StandardCharsets.UTF_8));

        StepVerifier.create(directory.find("wh-1", Duration.ZERO))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(registry.get("dialer.webhook.config.unreadable").counter().count()).isEqualTo(1);
    }

    @Test
    void isCaughtUpOnlyOnceTheReaderSaysSo() {
        publish("wh-1", Contract.toBytes(HOOK));
        assertThat(directory.isCaughtUp()).isFalse();

        readerCaughtUp.tryEmitEmpty();

        assertThat(directory.isCaughtUp()).isTrue();
    }

    private void publish(String key, byte[] value) {
        topic.tryEmitNext(new InboundRecord(Topics.WEBHOOK_CONFIG, 0, offsets.getAndIncrement(), key, value, Map.of(),
                () -> { }));
    }
}
