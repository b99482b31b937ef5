package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.ReplayRequest;
import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.KafkaProperties;
import dev.dialer.webhook.WebhookApplication;
import dev.dialer.webhook.directory.Directories;
import dev.dialer.webhook.directory.WebhookDirectory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * A replay reads its events a bounded page at a time, keyset-paged in occurrence order, and queues each event once
 * per replay however often its request is handled, against a real PostgreSQL.
 */
@SpringBootTest(classes = WebhookApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=webhook-service")
@ActiveProfiles("it")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class ReplayPagesIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int PAGE = 3;

    @Autowired
    DatabaseClient database;
    @Autowired
    EventStore events;
    @Autowired
    RetryStore store;
    @Autowired
    WebhookDirectory directory;
    @Autowired
    DeliveryMetrics metrics;
    @Autowired
    KafkaProperties kafka;
    @Autowired
    KafkaPublisher publisher;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
    }

    @Test
    void aWindowIsReadInPagesOfAtMostTheLimitInOccurrenceOrderEachEventOnceEvenAcrossEventsOfOneInstant() {
        String account = unique("acc");
        Instant from = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        // Seven in the window, two to an instant, so that page boundaries fall between events of one instant.
        List<EventStore.StoredEvent> inWindow = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            inWindow.add(kept(account, "wh", from.plusMillis(i / 2)));
        }
        Instant to = from.plusSeconds(1);
        kept(account, "wh", from.minusMillis(1));
        kept(account, "wh", to);
        kept(unique("other-acc"), "wh", from);

        List<List<EventStore.StoredEvent>> pages = pages(PAGE, after -> events.between(account, from, to, after, PAGE));

        assertThat(pages).extracting(List::size).containsExactly(3, 3, 1);
        assertThat(pages.stream().flatMap(List::stream).map(EventStore.StoredEvent::eventId).toList())
                .containsExactlyElementsOf(inOccurrenceOrder(inWindow));
    }

    @Test
    void namedEventsAreReadInPagesOfAtMostTheLimitToo() {
        String account = unique("acc");
        Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        List<EventStore.StoredEvent> named = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            named.add(kept(account, "wh", at.plusMillis(i)));
        }
        List<String> ids = new ArrayList<>(named.stream().map(EventStore.StoredEvent::eventId).toList());
        ids.add(kept(unique("other-acc"), "wh", at).eventId());

        List<List<EventStore.StoredEvent>> pages = pages(2, after -> events.byIds(account, ids, after, 2));

        assertThat(pages).extracting(List::size).containsExactly(2, 2, 1);
        assertThat(pages.stream().flatMap(List::stream).map(EventStore.StoredEvent::eventId).toList())
                .containsExactlyElementsOf(inOccurrenceOrder(named));
    }

    @Test
    void aReplayReadsAndStoresOnePageAtATimeAndItsRequestHandledAgainQueuesNothingTwice() {
        String account = unique("acc");
        WebhookConfig webhook = new WebhookConfig(unique("wh"), account, "https://example.invalid/hook", "test",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true, Instant.now());
        Instant from = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        List<EventStore.StoredEvent> covered = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            covered.add(kept(account, webhook.id(), from.plusMillis(i)));
        }
        // Read with the others but not the webhook's: it names another and the webhook subscribes to nothing.
        kept(account, unique("wh"), from.plusMillis(8));
        ReplayRequest request = new ReplayRequest(ReplayRequest.VERSION, unique("replay"), account, webhook.id(),
                List.of(), from, from.plusSeconds(1), Instant.now());
        ReplayConsumer consumer = new ReplayConsumer(kafka.settings(), directory, events, store, metrics,
                new BadRecords(BadRecords.Source.REPLAYS, publisher, metrics), Clock.systemUTC(), PAGE);

        List<ReplayConsumer.Page> first = consumer.pages(request, webhook).collectList().block(WAIT);
        List<ReplayConsumer.Page> again = consumer.pages(request, webhook).collectList().block(WAIT);

        assertThat(first).extracting(ReplayConsumer.Page::read).containsExactly(3, 3, 3, 0);
        assertThat(first).extracting(ReplayConsumer.Page::queued).containsExactly(3L, 3L, 2L, 0L);
        assertThat(first).extracting(ReplayConsumer.Page::repeated).containsOnly(0L);
        assertThat(again).extracting(ReplayConsumer.Page::queued).containsOnly(0L);
        assertThat(again).extracting(ReplayConsumer.Page::repeated).containsExactly(3L, 3L, 2L, 0L);
        assertThat(marked(request.replayId()))
                .containsExactlyInAnyOrderElementsOf(covered.stream().map(EventStore.StoredEvent::eventId).toList());
    }

    /**
     * The API answers 202 once the replay's request is in Kafka, after the webhook and subscription it made just
     * before; this directory learns them only when read to now, as a reader seconds behind the topic would.
     */
    @Test
    void aReplayOfAWebhookAndSubscriptionMadeJustBeforeWaitsForTheDirectoryToReadThem() {
        String account = unique("acc");
        WebhookConfig webhook = new WebhookConfig(unique("wh"), account, "https://example.invalid/hook", "test",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true, Instant.now());
        SubscriptionConfig subscription = new SubscriptionConfig(SubscriptionConfig.KIND, unique("sub"), account,
                webhook.id(), List.of("call.status"), true, Instant.now());
        Instant from = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        // Events of calls that named another webhook: the replay covers them through the subscription alone.
        List<String> covered = List.of(kept(account, unique("wh"), from).eventId(),
                kept(account, unique("wh"), from.plusMillis(1)).eventId());
        Sinks.Many<InboundRecord> topic = Sinks.many().unicast().onBackpressureBuffer();
        AtomicLong offsets = new AtomicLong();
        WebhookDirectory lagging = Directories.of(topic::asFlux, () -> Mono.fromRunnable(() -> {
            topic.tryEmitNext(new InboundRecord(Topics.WEBHOOK_CONFIG, 0, offsets.getAndIncrement(), webhook.id(),
                    Contract.toBytes(webhook), Map.of(), () -> { }));
            topic.tryEmitNext(new InboundRecord(Topics.WEBHOOK_CONFIG, 0, offsets.getAndIncrement(),
                    SubscriptionConfig.key(subscription.id()), Contract.toBytes(subscription), Map.of(), () -> { }));
        }), new SimpleMeterRegistry());
        Disposable following = lagging.follow().subscribe();
        ReplayRequest request = new ReplayRequest(ReplayRequest.VERSION, unique("replay"), account, webhook.id(),
                List.of(), from, from.plusSeconds(1), Instant.now());
        ReplayConsumer consumer = new ReplayConsumer(kafka.settings(), lagging, events, store, metrics,
                new BadRecords(BadRecords.Source.REPLAYS, publisher, metrics), Clock.systemUTC(), PAGE);

        try {
            StepVerifier.create(consumer.replay(request)).expectComplete().verify(WAIT);
        } finally {
            following.dispose();
        }

        assertThat(marked(request.replayId())).containsExactlyInAnyOrderElementsOf(covered);
    }

    private interface PageReader {
        Flux<EventStore.StoredEvent> after(EventStore.Position after);
    }

    /** Every page, each read after the last event of the one before, until one is not full (or ten are read). */
    private static List<List<EventStore.StoredEvent>> pages(int limit, PageReader reader) {
        List<List<EventStore.StoredEvent>> pages = new ArrayList<>();
        List<EventStore.StoredEvent> page = reader.after(null).collectList().block(WAIT);
        pages.add(page);
        while (page.size() >= limit && pages.size() < 10) {
            page = reader.after(EventStore.Position.of(page.get(page.size() - 1))).collectList().block(WAIT);
            pages.add(page);
        }
        return pages;
    }

    private static List<String> inOccurrenceOrder(List<EventStore.StoredEvent> events) {
        return events.stream()
                .sorted(Comparator.comparing(EventStore.StoredEvent::occurredAt)
                        .thenComparing(EventStore.StoredEvent::eventId))
                .map(EventStore.StoredEvent::eventId)
                .toList();
    }

    private EventStore.StoredEvent kept(String account, String webhookId, Instant occurredAt) {
        String eventId = UUID.randomUUID().toString();
        byte[] payload = ("{\"event_id\":\"" + eventId + "\",\"webhook_id\":\"" + webhookId + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        EventStore.StoredEvent event = new EventStore.StoredEvent(eventId, account, "call.status", occurredAt,
                payload);
        StepVerifier.create(events.keep(event)).expectComplete().verify(WAIT);
        return event;
    }

    private List<String> marked(String replayId) {
        return database.sql("SELECT event_id FROM webhook.replayed_events WHERE replay_id = :id")
                .bind("id", replayId)
                .map(row -> row.get("event_id", String.class))
                .all()
                .collectList()
                .block(WAIT);
    }

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }
}
