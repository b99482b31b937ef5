package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.hook.AllowList;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.KafkaSubscriber;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.WebhookApplication;
import dev.dialer.webhook.directory.WebhookDirectory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import tools.jackson.databind.JsonNode;

/**
 * One deliverer against the service's real PostgreSQL and Kafka, with a name server and an endpoint of the test's
 * own: what a try that cannot be made, or that disables its webhook, leaves behind.
 */
@SpringBootTest(classes = WebhookApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=webhook-service")
@ActiveProfiles("it")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class WebhookDelivererIT {

    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    /** The account of every hook here: an account's endpoint has one circuit, whichever call its hooks are for. */
    private static final String HOOK_ACCOUNT = "acc-hooks";
    private static final AtomicInteger SILENT_LOOKUPS = new AtomicInteger();

    @Autowired
    DatabaseClient database;
    @Autowired
    WebhookDirectory directory;
    @Autowired
    RetryStore store;
    @Autowired
    EndpointHealth health;
    @Autowired
    DeliveryLog deliveryLog;
    @Autowired
    EndpointIsolation isolation;
    @Autowired
    HeldTargets held;
    @Autowired
    DeliveryMetrics metrics;
    @Autowired
    RetryProperties retry;
    @Autowired
    MeterRegistry meters;


    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
    }

    @Test
    void aTryWhoseNameServerDoesNotAnswerFailsWithATimeoutAndIsRetried() {
        WebhookDeliverer deliverer = deliverer(answering(200),
                record -> Mono.empty());
        DeliveryTask task = hook("https://slow.test/hook");

        StepVerifier.create(deliverer.deliver(task)).expectComplete().verify(WAIT);

        assertThat(retryRow(task.eventId())).isEqualTo("1");
        assertThat(attempts(task.eventId())).singleElement().satisfies(attempt -> assertThat(attempt)
                .startsWith("1:retrying:").contains("DNS lookup of slow.test timed out"));
    }

    @Test
    void aHostWhoseNameServerStaysSilentHasItsCircuitOpenedAndItsNextTryHeldWithoutALookup() {
        WebhookDeliverer deliverer = deliverer(answering(200), record -> Mono.empty());
        // As many timed-out lookups at once as the breaker needs to judge the endpoint (10 of them, all failed).
        Flux.range(0, 10).flatMap(i -> deliverer.deliver(hook("https://silent.test/hook")), 10).blockLast(WAIT);
        int lookups = SILENT_LOOKUPS.get();

        DeliveryTask next = hook("https://silent.test/hook");
        StepVerifier.create(deliverer.deliver(next)).expectComplete().verify(WAIT);

        // Lookups of one host at once may share a query: at least one was made, none more for the held try.
        assertThat(lookups).isPositive();
        assertThat(SILENT_LOOKUPS.get()).as("held without looking the host up").isEqualTo(lookups);
        assertThat(retryRow(next.eventId())).as("held, not a try").isEqualTo("0");
        assertThat(isolation.refusing(HOOK_ACCOUNT, "https://silent.test/hook")).isTrue();
    }

    @Test
    void targetsTheGuardRefusesNeverOpenTheirEndpointsCircuit() {
        WebhookDeliverer deliverer = deliverer(answering(200), record -> Mono.empty());
        DeliveryTask last = null;
        for (int i = 0; i < 12; i++) {
            last = hook("https://10.1.2.3/hook");
            StepVerifier.create(deliverer.deliver(last)).expectComplete().verify(WAIT);
        }

        // Each refused as a forbidden target, none counted as the endpoint failing: its circuit stays closed.
        assertThat(attempts(last.eventId())).singleElement()
                .satisfies(attempt -> assertThat(attempt).contains("forbidden_target"));
        assertThat(isolation.refusing(HOOK_ACCOUNT, "https://10.1.2.3/hook")).isFalse();
    }

    @Test
    void aDisableIsAnnouncedToApiServiceOnceTheBrokerIsBack() {
        String account = "acc-" + UUID.randomUUID();
        String webhookId = webhook(account);
        // The broker is out when the endpoint answers 410: the feed's publish of the disabling try fails.
        WebhookDeliverer deliverer = deliverer(answering(410),
                record -> Mono.error(new IllegalStateException("broker unavailable")));
        DeliveryTask disabling = webhookEvent(webhookId, account);

        StepVerifier.create(deliverer.deliver(disabling)).expectComplete().verify(WAIT);

        JsonNode announced = publishedAttempt(webhookId);
        assertThat(announced.path("event_id").asString()).isEqualTo(disabling.eventId());
        assertThat(announced.path("outcome").asString()).isEqualTo("dead");
        assertThat(announced.path("status_code").asInt()).isEqualTo(410);
        assertThat(announced.path("endpoint_disabled").asBoolean()).isTrue();
    }

    @Test
    void aGoneFromTheUrlTheWebhookWasMovedFromMeanwhileNeitherDisablesItNorCountsAndTheEventIsTriedAgain() {
        String account = "acc-" + UUID.randomUUID();
        String webhookId = webhook(account);
        // The account moves the webhook while the try to its old URL is on its way, which answers 410 Gone.
        WebhookTransport movedMeanwhile = (method, url, headers, body) -> Mono.fromCallable(() -> {
            publishWebhook(new WebhookConfig(webhookId, account, "https://moved.test/hook", "test", SECRET, true,
                    Instant.now()));
            await().atMost(WAIT).until(() -> directory.current(webhookId).url().equals("https://moved.test/hook"));
            return AttemptResult.answered(410, Duration.ZERO);
        }).subscribeOn(Schedulers.boundedElastic());
        DeliveryTask task = webhookEvent(webhookId, account);

        StepVerifier.create(deliverer(movedMeanwhile, record -> Mono.empty()).deliver(task))
                .expectComplete().verify(WAIT);

        assertThat(failures(webhookId)).as("no state: neither disabled nor counted").isNull();
        assertThat(retryRow(task.eventId())).as("to be tried again, at the new URL").isEqualTo("1");
        assertThat(attempts(task.eventId())).singleElement()
                .satisfies(attempt -> assertThat(attempt).startsWith("1:retrying:"));
    }

    @Test
    void aRateLimitedTryNeitherCountsTowardsADisableNorStartsTheCountAgain() {
        String account = "acc-" + UUID.randomUUID();
        String webhookId = webhook(account);
        StepVerifier.create(deliverer(answering(500), record -> Mono.empty()).deliver(webhookEvent(webhookId, account)))
                .expectComplete().verify(WAIT);
        assertThat(failures(webhookId)).isEqualTo(1);

        StepVerifier.create(deliverer(answering(429), record -> Mono.empty()).deliver(webhookEvent(webhookId, account)))
                .expectComplete().verify(WAIT);

        assertThat(failures(webhookId)).as("the 429 left the count as it was").isEqualTo(1);
    }

    private Integer failures(String webhookId) {
        return database.sql("SELECT failures FROM webhook.endpoint_state WHERE webhook_id = $1").bind(0, webhookId)
                .map(row -> row.get(0, Integer.class)).one().block(WAIT);
    }

    @Test
    void aNewEventOfAWebhookDisabledHereIsLoggedAsRefused() {
        String account = "acc-" + UUID.randomUUID();
        String webhookId = webhook(account);
        WebhookDeliverer deliverer = deliverer(answering(410), record -> Mono.empty());
        StepVerifier.create(deliverer.deliver(webhookEvent(webhookId, account))).expectComplete().verify(WAIT);

        DeliveryTask next = webhookEvent(webhookId, account);
        StepVerifier.create(deliverer.deliver(next)).expectComplete().verify(WAIT);

        assertThat(attempts(next.eventId())).containsExactly("1:refused:disabled");
    }

    /**
     * A webhook can be missing from the directory for a while only (a delete undone by its config published again, a
     * newest config it cannot read): a retry of it due meanwhile is kept in the dead letters for a replay, and its
     * delivery log, which showed it retrying, shows its end.
     */
    @Test
    void aDueRetryOfAWebhookTheDirectoryDoesNotHaveIsDeadLetteredNotDropped() {
        String webhookId = "wh-missing-" + UUID.randomUUID();
        DeliveryTask task = webhookEvent(webhookId, "acc-" + UUID.randomUUID());
        double unknownBefore = unknownWebhookDeadLetters();

        // Due now: the service's poller claims it and hands it to the service's deliverer.
        store.save(task, 1, Instant.now(), null).block(WAIT);

        await().atMost(WAIT).until(() -> deadLetterReason(task.eventId()) != null);
        assertThat(deadLetterReason(task.eventId())).isEqualTo("unknown_webhook");
        assertThat(retryRow(task.eventId())).isNull();
        await().atMost(WAIT).until(() -> attempts(task.eventId()).equals(List.of("2:refused:unknown_webhook")));
        assertThat(unknownWebhookDeadLetters()).isGreaterThan(unknownBefore);
    }

    @Test
    void aFirstTrysDeadLetterWrittenAgainIsKeptOnce() {
        DeliveryTask task = webhookEvent("wh-" + UUID.randomUUID(), "acc-" + UUID.randomUUID());

        // Its statement run again after a commit whose answer was lost, or its record handled again after a stop.
        store.deadLetter(task, 1, Reason.HTTP_STATUS).block(WAIT);
        store.deadLetter(task, 1, Reason.HTTP_STATUS).block(WAIT);

        assertThat(deadLetterReason(task.eventId())).as("one row, or one() fails").isEqualTo("http_status");
    }

    private double unknownWebhookDeadLetters() {
        Counter counter = meters.find("dialer.webhook.dead.letters").tag("reason", "unknown_webhook").counter();
        return counter == null ? 0 : counter.count();
    }

    /** A new enabled webhook of the account, once the directory knows it. */
    private String webhook(String account) {
        String webhookId = "wh-" + UUID.randomUUID();
        publishWebhook(new WebhookConfig(webhookId, account, "https://gone.test/hook", "test", SECRET, true,
                Instant.now()));
        await().atMost(WAIT).until(() -> directory.current(webhookId) != null);
        return webhookId;
    }

    private WebhookDeliverer deliverer(WebhookTransport transport,
                                       java.util.function.Function<OutboundRecord, Mono<Void>> publisher) {
        TargetGuard guard = FakeDns.guardAsking(new AllowList(List.of()), WebhookDelivererIT::resolve);
        AttemptLog log = new AttemptLogs(List.of(deliveryLog, new AttemptFeed(publisher, metrics, 4096)));
        return new WebhookDeliverer(new WebhookSigner(Clock.systemUTC()), transport, guard, isolation, held, log,
                store, new RetrySchedule(retry, () -> 0.5), health, directory, metrics,
                new WebhookDeliverer.Settings(null, 256 * 1024, retry.refusalDelay()), Clock.systemUTC());
    }

    private static WebhookTransport answering(int status) {
        return (method, url, headers, body) -> Mono.just(AttemptResult.answered(status, Duration.ZERO));
    }

    /** The name servers of slow.test and silent.test (its lookups counted) never answer; other hosts are public. */
    private static Mono<InetAddress[]> resolve(String host) {
        if (host.equals("silent.test")) {
            SILENT_LOOKUPS.incrementAndGet();
            return Mono.never();
        }
        if (host.equals("slow.test")) {
            return Mono.never();
        }
        return Mono.fromCallable(() -> new InetAddress[] {
                InetAddress.getByAddress(host, new byte[] {93, (byte) 184, (byte) 216, 34})});
    }

    private static DeliveryTask hook(String url) {
        String requestId = "req-" + UUID.randomUUID();
        return DeliveryTask.first("evt-" + UUID.randomUUID(), "call.status",
                new Target(Target.Kind.NOTIFY, requestId, url, "POST", null), requestId, HOOK_ACCOUNT,
                "{}".getBytes(StandardCharsets.UTF_8), null);
    }

    private static DeliveryTask webhookEvent(String webhookId, String account) {
        return DeliveryTask.first("evt-" + UUID.randomUUID(), "call.status",
                new Target(Target.Kind.WEBHOOK, webhookId, null, "POST", null), "req-" + UUID.randomUUID(), account,
                "{}".getBytes(StandardCharsets.UTF_8), null);
    }

    private static void publishWebhook(WebhookConfig config) {
        try (KafkaPublisher publisher = KafkaPublisher.create(
                KafkaSettings.of(Infrastructure.shared().kafkaBootstrapServers()), "it-deliverer",
                Duration.ofSeconds(30))) {
            publisher.publish(OutboundRecord.of(Topics.WEBHOOK_CONFIG, config.id(), Contract.toBytes(config)))
                    .block(Duration.ofSeconds(30));
        }
    }

    /** The first attempt published on dialer.webhook.deliveries under this key, read with a fresh group. */
    private static JsonNode publishedAttempt(String key) {
        InboundRecord record = KafkaSubscriber.receive(
                        KafkaSettings.of(Infrastructure.shared().kafkaBootstrapServers()),
                        "it-deliverer-" + UUID.randomUUID(), List.of(Topics.WEBHOOK_DELIVERIES), 500)
                .filter(candidate -> key.equals(candidate.key()))
                .next()
                .block(WAIT);
        assertThat(record).isNotNull();
        return Contract.mapper().readTree(record.value());
    }

    private String deadLetterReason(String eventId) {
        return database.sql("SELECT reason FROM webhook.dead_letters WHERE event_id = :id")
                .bind("id", eventId)
                .map(row -> row.get("reason", String.class))
                .one()
                .block(WAIT);
    }

    private String retryRow(String eventId) {
        return database.sql("SELECT tries FROM webhook.retries WHERE event_id = :id")
                .bind("id", eventId)
                .map(row -> String.valueOf(row.get("tries", Integer.class)))
                .one()
                .block(WAIT);
    }

    /** "attempt_no:outcome:error" of every logged try of the event, in order. */
    private List<String> attempts(String eventId) {
        return database.sql("""
                        SELECT attempt_no, outcome, error FROM webhook.delivery_attempts
                        WHERE event_id = :id ORDER BY id""")
                .bind("id", eventId)
                .map(row -> row.get("attempt_no", Integer.class) + ":" + row.get("outcome", String.class) + ":"
                        + row.get("error", String.class))
                .all()
                .collectList()
                .block(WAIT);
    }
}
