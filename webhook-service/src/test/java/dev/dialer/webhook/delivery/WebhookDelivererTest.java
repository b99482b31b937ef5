package dev.dialer.webhook.delivery;

import static dev.dialer.webhook.delivery.ScriptedDatabase.Answer.failing;
import static dev.dialer.webhook.delivery.ScriptedDatabase.Answer.updated;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DeliveryAttempt;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.hook.AllowList;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.Topics;
import dev.dialer.webhook.directory.Directories;
import dev.dialer.webhook.directory.WebhookDirectory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.r2dbc.spi.R2dbcTransientResourceException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * What a try's outcome leaves written when PostgreSQL fails one of its statements a moment, and what a refused
 * target's log line says of its URL.
 */
class WebhookDelivererTest {

    private static final String REMOVE = "DELETE FROM webhook.retries";
    private static final String RESET = "DELETE FROM webhook.endpoint_state";
    private static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private static final WebhookConfig WEBHOOK = new WebhookConfig("wh-1", "acc-1", "https://example.com/hook",
            "test", SECRET, true, Instant.EPOCH);

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final DeliveryMetrics metrics = new DeliveryMetrics(registry);
    private final List<DeliveryAttempt> attempts = new CopyOnWriteArrayList<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(WebhookDeliverer.class);
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

    @BeforeEach
    void listen() {
        logged.start();
        logger.addAppender(logged);
    }

    @AfterEach
    void stopListening() {
        logger.detachAppender(logged);
    }

    /**
     * An incoming webhook of Slack or Discord has its credential in its URL's path: a target refused is logged by its
     * webhook's id and its URL's scheme, host and port alone.
     */
    @Test
    void aRefusedTargetIsLoggedWithoutItsUrlsPath() {
        WebhookConfig internal = new WebhookConfig("wh-2", "acc-1",
                "https://10.1.2.3:8443/services/T0001/B0002/xoxbCredential?token=t0ken", "test", SECRET, true,
                Instant.EPOCH);
        ScriptedDatabase database = new ScriptedDatabase(sql -> {
            if (sql.startsWith("INSERT INTO webhook.dead_letters")) {
                return updated(1);
            }
            throw new AssertionError("not expected: " + sql);
        });
        DeliveryTask first = DeliveryTask.first("ev-2", "call.status", Target.storedWebhook(Target.Kind.WEBHOOK,
                internal.id()), "req-2", internal.accountId(), "{}".getBytes(StandardCharsets.UTF_8), null);

        StepVerifier.create(deliverer(database, internal).deliver(first)).expectComplete()
                .verify(Duration.ofSeconds(10));

        assertThat(attempts).singleElement().satisfies(attempt -> assertThat(attempt.error())
                .isEqualTo(Reason.FORBIDDEN_TARGET.tag()));
        assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage)
                .anySatisfy(line -> assertThat(line).contains("wh-2", "https://10.1.2.3:8443"))
                .allSatisfy(line -> assertThat(line).doesNotContain("/services", "T0001", "xoxbCredential",
                        "t0ken"));
    }

    /**
     * The webhook's failure count reset failing a moment after a retry was delivered and its row removed: the reset
     * alone is written again, and the row, gone, is not removed a second time and taken for a lease lost.
     */
    @Test
    void aHealthWriteFailingOnceAfterADeliveredRetryIsWrittenAgainAloneWithoutALeaseCountedLost() {
        AtomicInteger removes = new AtomicInteger();
        AtomicInteger resets = new AtomicInteger();
        // The retry row is deleted by the first removal: a second finds nothing under the claim's lease.
        ScriptedDatabase database = new ScriptedDatabase(sql -> {
            if (sql.startsWith(REMOVE)) {
                return updated(removes.getAndIncrement() == 0 ? 1 : 0);
            }
            if (sql.startsWith(RESET)) {
                return resets.getAndIncrement() == 0
                        ? failing(new R2dbcTransientResourceException("connection reset")) : updated(0);
            }
            throw new AssertionError("not expected: " + sql);
        });
        Instant now = Instant.now();
        DeliveryTask claimed = new DeliveryTask(7L, "ev-1", "call.status", Target.storedWebhook(Target.Kind.WEBHOOK,
                WEBHOOK.id()), "req-1", WEBHOOK.accountId(), "{}".getBytes(StandardCharsets.UTF_8), 1, null, false,
                now.plus(Duration.ofMinutes(1)), now, null);

        StepVerifier.create(deliverer(database, WEBHOOK).deliverClaimed(claimed)).expectComplete()
                .verify(Duration.ofSeconds(10));

        assertThat(database.executed(sql -> sql.startsWith(RESET))).as("the health write, written again").isEqualTo(2);
        assertThat(database.executed(sql -> sql.startsWith(REMOVE))).as("the retry row, removed once").isEqualTo(1);
        assertThat(registry.get("dialer.webhook.retries.leases.lost").counter().count()).isZero();
        assertThat(attempts).singleElement()
                .satisfies(attempt -> assertThat(attempt.outcome()).isEqualTo(DeliveryAttempt.Outcome.DELIVERED));
    }

    /**
     * A rollout stops the pipelines while a delivered retry's try is being logged, its row removed: the log is written
     * all the same. Cancelled half-way, the row that would have brought the retry back was gone and the try was never
     * logged, so the delivery log showed it retrying for ever.
     */
    @Test
    void aTryWhoseRowIsRemovedIsLoggedThoughItsCallerIsCancelled() throws Exception {
        WebhookDeliverer deliverer = cancelledWhileLogging(attempt -> Mono.delay(Duration.ofMillis(300))
                .then(Mono.fromRunnable(() -> attempts.add(attempt))));

        // The stop waits for it, so the database pool does not close under it.
        assertThat(deliverer.awaitFollowUps(Duration.ofSeconds(5))).isTrue();
        assertThat(attempts).singleElement()
                .satisfies(attempt -> assertThat(attempt.outcome()).isEqualTo(DeliveryAttempt.Outcome.DELIVERED));
    }

    /**
     * As a try's: a stored retry of a webhook disabled since, moved to the dead letters as the pipelines stop, has its
     * refusal logged all the same, and the stop waits for it.
     */
    @Test
    void aRefusedRetryMovedToTheDeadLettersIsLoggedThoughItsCallerIsCancelled() throws Exception {
        WebhookConfig disabled = new WebhookConfig(WEBHOOK.id(), WEBHOOK.accountId(), WEBHOOK.url(), "test", SECRET,
                false, Instant.EPOCH);
        ScriptedDatabase database = new ScriptedDatabase(sql -> updated(1));

        WebhookDeliverer deliverer = cancelledWhileLogging(database, disabled, attempt -> Mono.delay(
                Duration.ofMillis(300)).then(Mono.fromRunnable(() -> attempts.add(attempt))));

        assertThat(deliverer.awaitFollowUps(Duration.ofSeconds(5))).isTrue();
        assertThat(database.executed(sql -> sql.contains("webhook.dead_letters"))).isEqualTo(1);
        assertThat(attempts).singleElement().satisfies(attempt -> {
            assertThat(attempt.outcome()).isEqualTo(DeliveryAttempt.Outcome.REFUSED);
            assertThat(attempt.error()).isEqualTo(Reason.DISABLED.tag());
        });
    }

    @Test
    void theStopsWaitForATrysFollowUpIsBounded() throws Exception {
        WebhookDeliverer deliverer = cancelledWhileLogging(attempt -> Mono.never());

        assertThat(deliverer.awaitFollowUps(Duration.ofMillis(200))).isFalse();
    }

    /**
     * A deliverer that made a delivered retry's try (its row removed) and whose caller was cancelled, as the pipelines
     * stopping cancel it, once the try's log record was being written by {@code log}.
     */
    private WebhookDeliverer cancelledWhileLogging(AttemptLog log) throws InterruptedException {
        ScriptedDatabase database = new ScriptedDatabase(sql -> {
            if (sql.startsWith(REMOVE) || sql.startsWith(RESET)) {
                return updated(1);
            }
            throw new AssertionError("not expected: " + sql);
        });
        return cancelledWhileLogging(database, WEBHOOK, log);
    }

    /**
     * As {@link #cancelledWhileLogging(AttemptLog)}, with {@code database}, and {@code webhook} as the directory has it.
     */
    private WebhookDeliverer cancelledWhileLogging(ScriptedDatabase database, WebhookConfig webhook, AttemptLog log)
            throws InterruptedException {
        java.util.concurrent.CountDownLatch logging = new java.util.concurrent.CountDownLatch(1);
        AttemptLog counted = attempt -> Mono.defer(() -> {
            logging.countDown();
            return log.record(attempt);
        });
        Instant now = Instant.now();
        DeliveryTask claimed = new DeliveryTask(8L, "ev-3", "call.status", Target.storedWebhook(Target.Kind.WEBHOOK,
                WEBHOOK.id()), "req-3", WEBHOOK.accountId(), "{}".getBytes(StandardCharsets.UTF_8), 1, null, false,
                now.plus(Duration.ofMinutes(1)), now, null);
        WebhookDeliverer deliverer = deliverer(database, webhook, counted);
        reactor.core.Disposable running = deliverer.deliverClaimed(claimed).subscribe();
        assertThat(logging.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        running.dispose();
        return deliverer;
    }

    /**
     * The customer enabled the webhook again and asked for a replay: the instance that queued it read the directory to
     * now, and this one, whose copy still has the webhook disabled, reads it to now before it refuses the replay's try,
     * and sends it.
     */
    @Test
    void aReplayOfAWebhookThisInstanceStillHasDisabledIsSentOnceTheDirectoryIsReadToNow() {
        WebhookConfig disabled = new WebhookConfig(WEBHOOK.id(), WEBHOOK.accountId(), WEBHOOK.url(), "test", SECRET,
                false, Instant.EPOCH);
        Sinks.Many<InboundRecord> records = Sinks.many().replay().all();
        records.tryEmitNext(configRecord(disabled, 0));
        WebhookDirectory behind = Directories.of(records::asFlux,
                () -> Mono.fromRunnable(() -> records.tryEmitNext(configRecord(WEBHOOK, 1))), registry);
        behind.follow().subscribe();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> behind.current(WEBHOOK.id()) != null && !behind.current(WEBHOOK.id()).enabled());
        ScriptedDatabase database = new ScriptedDatabase(sql -> {
            if (sql.startsWith(REMOVE)) {
                return updated(1);
            }
            if (sql.startsWith(RESET)) {
                return updated(0);
            }
            throw new AssertionError("not expected: " + sql);
        });
        Instant now = Instant.now();
        DeliveryTask replay = new DeliveryTask(9L, "ev-9", "call.status", Target.storedWebhook(Target.Kind.WEBHOOK,
                WEBHOOK.id()), "req-9", WEBHOOK.accountId(), "{}".getBytes(StandardCharsets.UTF_8), 0, null, true,
                now.plus(Duration.ofMinutes(1)), now, null);

        StepVerifier.create(deliverer(database, behind, attempt -> Mono.fromRunnable(() -> attempts.add(attempt)))
                .deliverClaimed(replay)).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(attempts).singleElement().satisfies(attempt -> assertThat(attempt.outcome())
                .isEqualTo(DeliveryAttempt.Outcome.DELIVERED));
    }

    private static InboundRecord configRecord(WebhookConfig webhook, long offset) {
        return new InboundRecord(Topics.WEBHOOK_CONFIG, 0, offset, webhook.id(), Contract.toBytes(webhook), Map.of(),
                () -> { });
    }

    /**
     * A deliverer whose retry rows and health are in {@code database}, whose directory has {@code webhook}, and
     * whose endpoints answer 200.
     */
    private WebhookDeliverer deliverer(ScriptedDatabase database, WebhookConfig webhook) {
        return deliverer(database, webhook, attempt -> Mono.fromRunnable(() -> attempts.add(attempt)));
    }

    private WebhookDeliverer deliverer(ScriptedDatabase database, WebhookConfig webhook, AttemptLog log) {
        return deliverer(database, directory(webhook), log);
    }

    private WebhookDeliverer deliverer(ScriptedDatabase database, WebhookDirectory directory, AttemptLog log) {
        DatabaseClient client = DatabaseClient.create(database);
        RetryStore store = new RetryStore(client, TransactionalOperator.create(new R2dbcTransactionManager(database)),
                metrics);
        EndpointHealth health = new EndpointHealth(client, new HealthProperties(100, Duration.ofDays(3),
                Duration.ofDays(30), Duration.ofDays(7), Duration.ofDays(30), Duration.ofMinutes(15)),
                new DisabledNotice((accountId, type) -> Set.of()), Clock.systemUTC());
        EndpointIsolation isolation = new EndpointIsolation(new IsolationProperties(16, 64, 64, 50, 10, 20,
                Duration.ofSeconds(30), Duration.ofMinutes(30)), metrics);
        RetryProperties retry = new RetryProperties(List.of(Duration.ZERO, Duration.ofSeconds(5)),
                Duration.ofSeconds(1), 0.2, Duration.ofSeconds(60), Duration.ofHours(24), Duration.ofMinutes(10),
                Duration.ofSeconds(5), Duration.ofSeconds(1), 100, 64);
        TargetGuard guard = FakeDns.guard(new AllowList(List.of()), host -> new InetAddress[] {
                InetAddress.getByAddress(host, new byte[] {93, (byte) 184, (byte) 216, 34})});
        return new WebhookDeliverer(new WebhookSigner(Clock.systemUTC()),
                (method, url, headers, body) -> Mono.just(AttemptResult.answered(200, Duration.ZERO)), guard,
                isolation, new HeldTargets(isolation), log, store,
                new RetrySchedule(retry, () -> 0.5), health, directory, metrics,
                new WebhookDeliverer.Settings(null, 256 * 1024, retry.refusalDelay()), Clock.systemUTC());
    }

    private WebhookDirectory directory(WebhookConfig webhook) {
        InboundRecord record = new InboundRecord(Topics.WEBHOOK_CONFIG, 0, 0, webhook.id(), Contract.toBytes(webhook),
                Map.of(), () -> { });
        WebhookDirectory directory = Directories.of(() -> Flux.just(record), Mono::empty, registry);
        directory.follow().block(Duration.ofSeconds(5));
        assertThat(directory.current(webhook.id())).isEqualTo(webhook);
        return directory;
    }
}
