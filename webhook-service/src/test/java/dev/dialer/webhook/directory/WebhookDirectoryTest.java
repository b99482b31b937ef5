package dev.dialer.webhook.directory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
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
    void subscriptionsAreFoundByAccountAndEventTypeAndAreNotTakenForWebhooks() {
        publish("wh-1", Contract.toBytes(HOOK));
        publish(SubscriptionConfig.key("sub-1"), Contract.toBytes(subscription("sub-1", "acc-1", "wh-1",
                List.of("call.final", "webhook.disabled"), true)));
        publish(SubscriptionConfig.key("sub-2"), Contract.toBytes(subscription("sub-2", "acc-1", "wh-2",
                List.of("call.status"), true)));
        publish(SubscriptionConfig.key("sub-3"), Contract.toBytes(subscription("sub-3", "acc-1", "wh-3",
                List.of("call.final"), false)));
        publish(SubscriptionConfig.key("sub-4"), Contract.toBytes(subscription("sub-4", "acc-2", "wh-4",
                List.of("call.final"), true)));

        assertThat(directory.subscribers("acc-1", "call.final")).containsExactly("wh-1");
        assertThat(directory.subscribers("acc-1", "call.status")).containsExactly("wh-2");
        assertThat(directory.subscribers("acc-3", "call.final")).isEmpty();
        assertThat(directory.subscribed("acc-1", "call.final", "wh-1")).isTrue();
        assertThat(directory.subscribed("acc-1", "call.status", "wh-1")).as("another event type").isFalse();
        assertThat(directory.subscribed("acc-1", "call.final", "wh-3")).as("a disabled subscription").isFalse();
        assertThat(directory.subscribed("acc-1", "call.final", "wh-4")).as("another account's").isFalse();
        assertThat(directory.subscribed("acc-3", "call.final", "wh-1")).as("an account without any").isFalse();
        assertThat(directory.current("sub-1")).isNull();
        assertThat(directory.current(SubscriptionConfig.key("sub-1"))).isNull();
        assertThat(directory.current("wh-1")).isEqualTo(HOOK);
    }

    @Test
    void aSubscriptionTombstoneOrANewVersionReplacesTheOldOne() {
        publish(SubscriptionConfig.key("sub-1"), Contract.toBytes(subscription("sub-1", "acc-1", "wh-1",
                List.of("call.final"), true)));
        publish(SubscriptionConfig.key("sub-1"), Contract.toBytes(subscription("sub-1", "acc-1", "wh-1",
                List.of("call.status"), true)));

        assertThat(directory.subscribers("acc-1", "call.final")).isEmpty();
        assertThat(directory.subscribers("acc-1", "call.status")).containsExactly("wh-1");

        publish(SubscriptionConfig.key("sub-1"), null);

        assertThat(directory.subscribers("acc-1", "call.status")).isEmpty();
    }

    private static SubscriptionConfig subscription(String id, String account, String webhookId, List<String> types,
                                                   boolean enabled) {
        return new SubscriptionConfig(SubscriptionConfig.KIND, id, account, webhookId, types, enabled, Instant.now());
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
    void aDeletedWebhookIsAnsweredAtOnceWithoutWaiting() {
        publish("wh-1", Contract.toBytes(HOOK));
        publish("wh-1", null);

        StepVerifier.withVirtualTime(() -> directory.find("wh-1", Duration.ofSeconds(10)))
                .expectSubscription()
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(waits()).isZero();
    }

    @Test
    void anIdWaitedForInVainIsWaitedForAgainByTheNextLookup() {
        StepVerifier.withVirtualTime(() -> directory.find("wh-unknown", Duration.ofSeconds(10)))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(10))
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        StepVerifier.withVirtualTime(() -> directory.find("wh-unknown", Duration.ofSeconds(10)))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(9))
                .thenAwait(Duration.ofSeconds(1))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(waits()).isEqualTo(2);
    }

    @Test
    void aWebhookWhoseRecordIsLateIsFoundByEveryLookupThatStartedWithinItsOwnWaitOfIt() {
        // The reader is 12 s behind: the first lookup gives up at 10 s, but those that began at 9 s and at 11 s each
        // wait their own 10 s, and the record reaches them both.
        StepVerifier.withVirtualTime(() -> Flux.merge(
                        lookup("first", Duration.ZERO),
                        lookup("second", Duration.ofSeconds(9)),
                        lookup("third", Duration.ofSeconds(11))))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(10))
                .expectNext("first missed")
                .expectNoEvent(Duration.ofSeconds(2))
                .then(() -> publish("wh-1", Contract.toBytes(HOOK)))
                .recordWith(ArrayList::new)
                .expectNextCount(2)
                .consumeRecordedWith(found -> assertThat(found).containsExactlyInAnyOrder("second found",
                        "third found"))
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        publish("wh-1", null);
        StepVerifier.withVirtualTime(() -> directory.find("wh-1", Duration.ofSeconds(10)))
                .expectSubscription()
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void atMostFourLookupsOfAnIdNeverSeenWaitAtATimeAndTheNextIsAnsweredAtOnce() {
        // Events naming an id that never comes would each hold a record of their partition for the whole wait.
        StepVerifier.withVirtualTime(() -> Flux.merge(lookup("1", Duration.ZERO), lookup("2", Duration.ZERO),
                        lookup("3", Duration.ZERO), lookup("4", Duration.ZERO), lookup("5", Duration.ofSeconds(1))))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(1))
                .expectNext("5 missed")
                .expectNoEvent(Duration.ofSeconds(2))
                .then(() -> publish("wh-1", Contract.toBytes(HOOK)))
                .recordWith(ArrayList::new)
                .expectNextCount(4)
                .consumeRecordedWith(found -> assertThat(found).containsExactlyInAnyOrder("1 found", "2 found",
                        "3 found", "4 found"))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(waits()).isEqualTo(4);

        publish("wh-1", null);
        StepVerifier.withVirtualTime(() -> Flux.merge(lookup("6", Duration.ZERO), lookup("7", Duration.ZERO),
                        lookup("8", Duration.ZERO), lookup("9", Duration.ZERO), lookup("10", Duration.ZERO)))
                .expectSubscription()
                .expectNextCount(5)
                .as("a deletion is answered at once, however many ask")
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aLookupEndingFreesItsPlaceForTheNextLookupOfTheId() {
        StepVerifier.withVirtualTime(() -> Flux.merge(lookup("1", Duration.ZERO), lookup("2", Duration.ZERO),
                        lookup("3", Duration.ZERO), lookup("4", Duration.ZERO), lookup("5", Duration.ofSeconds(11))))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(10))
                .expectNextCount(4)
                .expectNoEvent(Duration.ofSeconds(10))
                .thenAwait(Duration.ofSeconds(1))
                .expectNext("5 missed")
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(waits()).as("the fifth waited in full").isEqualTo(5);
    }

    @Test
    void atMostThirtyTwoLookupsOfIdsNeverSeenWaitAtATimeWhateverTheIds() {
        // Events each naming another id that never comes would each hold a record of their partition for the wait.
        StepVerifier.withVirtualTime(() -> Flux.range(0, WebhookDirectory.MAX_WAITS)
                        .flatMap(i -> lookupOf("wh-" + i, Duration.ZERO), WebhookDirectory.MAX_WAITS)
                        .mergeWith(lookupOf("wh-late", Duration.ofSeconds(1)))
                        .mergeWith(lookupOf("wh-next", Duration.ofSeconds(2))))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(1))
                .expectNext("wh-late missed")
                .then(() -> publish("wh-0", Contract.toBytes(HOOK)))
                .expectNext("wh-0 found")
                .expectNoEvent(Duration.ofSeconds(9))
                .expectNextCount(WebhookDirectory.MAX_WAITS - 1)
                .as("the place wh-0 left was taken at 2 s, for a wait in full")
                .expectNoEvent(Duration.ofSeconds(2))
                .expectNext("wh-next missed")
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(waits()).isEqualTo(WebhookDirectory.MAX_WAITS + 1);
        assertThat(registry.get("dialer.webhook.directory.waits.refused").counter().count()).isEqualTo(1);
    }

    private Mono<String> lookupOf(String id, Duration after) {
        return Mono.delay(after)
                .then(directory.find(id, Duration.ofSeconds(10)))
                .map(found -> id + " found")
                .defaultIfEmpty(id + " missed");
    }

    private Mono<String> lookup(String name, Duration after) {
        return Mono.delay(after)
                .then(directory.find("wh-1", Duration.ofSeconds(10)))
                .map(found -> name + " found")
                .defaultIfEmpty(name + " missed");
    }

    @Test
    void aWebhookThatAppearsAfterItsAbsenceWasRememberedIsFound() {
        publish("wh-1", null);
        publish("wh-1", Contract.toBytes(HOOK));

        StepVerifier.withVirtualTime(() -> directory.find("wh-1", Duration.ofSeconds(10)))
                .expectSubscription()
                .expectNext(HOOK)
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aTombstoneArrivingDuringAWaitEndsItAtOnce() {
        StepVerifier.withVirtualTime(() -> directory.find("wh-1", Duration.ofSeconds(10)))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(1))
                .then(() -> publish("wh-1", null))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void theOldestRememberedAbsenceIsForgottenBeyondTheBound() {
        Sinks.Many<InboundRecord> smallTopic = Sinks.many().unicast().onBackpressureBuffer();
        WebhookDirectory small = new WebhookDirectory(smallTopic::asFlux, Sinks.<Void>empty().asMono(),
                new SimpleMeterRegistry(), 2);
        Disposable followingSmall = small.follow().subscribe();
        for (String id : List.of("wh-1", "wh-2", "wh-3")) {
            smallTopic.tryEmitNext(new InboundRecord(Topics.WEBHOOK_CONFIG, 0, offsets.getAndIncrement(), id, null,
                    Map.of(), () -> { }));
        }

        try {
            StepVerifier.withVirtualTime(() -> small.find("wh-3", Duration.ofSeconds(10)))
                    .expectSubscription()
                    .expectComplete()
                    .verify(Duration.ofSeconds(5));
            StepVerifier.withVirtualTime(() -> small.find("wh-1", Duration.ofSeconds(10)))
                    .expectSubscription()
                    .expectNoEvent(Duration.ofSeconds(10))
                    .expectComplete()
                    .verify(Duration.ofSeconds(5));
        } finally {
            followingSmall.dispose();
        }
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
    void aVersionWithoutAnIdDropsTheWebhookAndIsCounted() {
        publish("wh-1", Contract.toBytes(HOOK));
        publish("wh-1", """
                {"account_id":"acc-1","url":"https://hooks.example.com/calls",
                 "secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}"""
                .getBytes(StandardCharsets.UTF_8));

        assertThat(directory.current("wh-1")).as("no webhook the deliveries could not name").isNull();
        assertThat(registry.get("dialer.webhook.config.unreadable").counter().count()).isEqualTo(1);
    }

    @Test
    void aJsonNullWebhookOrSubscriptionIsCountedAsUnreadableAndTheRecordsAfterItAreApplied() {
        byte[] jsonNull = "null".getBytes(StandardCharsets.UTF_8);
        publish("wh-1", Contract.toBytes(HOOK));
        publish("wh-1", jsonNull);
        publish(SubscriptionConfig.key("sub-1"), jsonNull);
        publish("wh-2", Contract.toBytes(HOOK));

        assertThat(directory.current("wh-1")).isNull();
        assertThat(directory.current("wh-2")).isEqualTo(HOOK);
        assertThat(registry.get("dialer.webhook.config.unreadable").counter().count()).isEqualTo(2);
    }

    @Test
    void isCaughtUpOnlyOnceTheReaderSaysSo() {
        publish("wh-1", Contract.toBytes(HOOK));
        assertThat(directory.isCaughtUp()).isFalse();

        readerCaughtUp.tryEmitEmpty();

        assertThat(directory.isCaughtUp()).isTrue();
    }

    @Test
    void caughtUpCompletesOnlyOnceTheReaderHasReadTheTopicToItsEnd() {
        StepVerifier.create(directory.caughtUp())
                .expectSubscription()
                .then(() -> publish("wh-1", Contract.toBytes(HOOK)))
                .expectNoEvent(Duration.ofMillis(100))
                .then(readerCaughtUp::tryEmitEmpty)
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(directory.current("wh-1")).isEqualTo(HOOK);
    }

    private double waits() {
        return registry.get("dialer.webhook.directory.waits").counter().count();
    }

    private void publish(String key, byte[] value) {
        topic.tryEmitNext(new InboundRecord(Topics.WEBHOOK_CONFIG, 0, offsets.getAndIncrement(), key, value, Map.of(),
                () -> { }));
    }
}
