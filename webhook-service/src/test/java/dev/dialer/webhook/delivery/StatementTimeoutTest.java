package dev.dialer.webhook.delivery;

import static dev.dialer.webhook.delivery.ScriptedDatabase.Answer.hanging;
import static dev.dialer.webhook.delivery.ScriptedDatabase.Answer.rows;
import static dev.dialer.webhook.delivery.ScriptedDatabase.Answer.updated;
import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DeliveryAttempt;
import dev.dialer.common.contract.WebhookConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * A delivery's statements on a database that never answers (a connection that hangs without failing), its webhook's
 * health included, and a replay's and a disable announcement's: each fails after {@link RetryStore#STATEMENT_TIMEOUT}
 * as PostgreSQL being away does, so its caller writes it again instead of holding its record, or its replay or the
 * announcements, for good.
 */
class StatementTimeoutTest {

    private static final Target WEBHOOK = new Target(Target.Kind.WEBHOOK, "wh-1", null, "POST", null);
    private static final DeliveryTask FIRST = DeliveryTask.first("ev-1", "call.status", WEBHOOK, "req-1", "acc-1",
            new byte[0], null);
    private static final DeliveryTask CLAIMED = new DeliveryTask(1L, "ev-1", "call.status", WEBHOOK, "req-1",
            "acc-1", new byte[0], 1, null, false, Instant.EPOCH, Instant.EPOCH, null);
    private static final DeliveryTask REPLAYED = new DeliveryTask(null, "ev-1", "call.status",
            Target.storedWebhook(Target.Kind.WEBHOOK, "wh-1"), "req-1", "acc-1", new byte[0], 0, null, true, null, null,
            null, "https://example.com:-1");
    private static final DeliveryAttempt DISABLING = new DeliveryAttempt(DeliveryAttempt.VERSION, "att-1", "ev-1",
            "call.status", "wh-1", "webhook", "req-1", "acc-1", 1, DeliveryAttempt.Outcome.DEAD, 410, null, null, 5,
            null, true, false, Instant.EPOCH);
    /** The webhook wh-1 as enabled again after its disable (at the epoch, see {@link #DISABLED}). */
    private static final WebhookConfig REENABLED = new WebhookConfig("wh-1", "acc-1", "https://example.com/hook",
            "test", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true, Instant.EPOCH.plusSeconds(60));
    /** The row of wh-1 disabled at the epoch, its announcement owed. */
    private static final Map<String, Object> DISABLED = Map.of("webhook_id", "wh-1", "failures", 0, "disabled_at",
            Instant.EPOCH, "disabled_reason", EndpointHealth.GONE, "announcement", Contract.toBytes(DISABLING));

    /** Connections that are never had: as a pool's connection whose server is gone without a reset. */
    private static final ConnectionFactory NEVER_ANSWERS = new ConnectionFactory() {
        @Override
        public Publisher<? extends Connection> create() {
            return Mono.never();
        }

        @Override
        public ConnectionFactoryMetadata getMetadata() {
            return () -> "PostgreSQL";
        }
    };

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final DeliveryMetrics metrics = new DeliveryMetrics(registry);
    private final DatabaseClient database = DatabaseClient.create(NEVER_ANSWERS);
    private final RetryStore store = new RetryStore(database,
            TransactionalOperator.create(new R2dbcTransactionManager(NEVER_ANSWERS)), metrics);
    private final EventStore events = new EventStore(database);
    private final EndpointHealth health = health(database);

    @Test
    void everyStatementOfADeliveryFailsAfterItsTimeoutAsAnOutageDoes() {
        failAfterTheirTimeout(List.of(
                () -> events.keep(new EventStore.StoredEvent("ev-1", "acc-1", "call.status", Instant.EPOCH,
                        new byte[0])),
                () -> store.waiting(FIRST),
                () -> store.save(FIRST, 0, Instant.EPOCH, null),
                () -> store.save(CLAIMED, 1, Instant.EPOCH, null),
                () -> store.remove(CLAIMED),
                () -> store.deadLetter(FIRST, 1, Reason.UNKNOWN_WEBHOOK),
                () -> store.deadLetter(CLAIMED, 2, Reason.UNKNOWN_WEBHOOK),
                () -> health.disable("wh-1", EndpointHealth.GONE, DISABLING),
                () -> health.failed("wh-1", "https://example.com/hook", DISABLING),
                () -> health.succeeded("wh-1")));
    }

    /** The health statements that follow one PostgreSQL answered: the lift of a disable, and the row read again. */
    @Test
    void theHealthStatementsOfAReenabledWebhookFailAfterTheirTimeout() {
        EndpointHealth liftHangs = loaded(sql -> sql.startsWith("DELETE FROM webhook.endpoint_state") ? hanging()
                : updated(0));
        EndpointHealth refreshHangs = loaded(sql -> sql.startsWith("DELETE FROM webhook.endpoint_state") ? updated(1)
                : hanging());

        failAfterTheirTimeout(List.of(() -> liftHangs.disabled(REENABLED), () -> refreshHangs.disabled(REENABLED)));
    }

    @Test
    void everyStatementOfAReplayFailsAfterItsTimeout() {
        failAfterTheirTimeout(List.of(
                () -> events.between("acc-1", Instant.EPOCH, Instant.EPOCH.plusSeconds(1), null, 10),
                () -> events.byIds("acc-1", List.of("ev-1"), new EventStore.Position(Instant.EPOCH, "ev-0"), 10)));
        // A page's transaction, which never began here, is given its statements' time and its begin's and end's.
        failAfter(RetryStore.STATEMENT_TIMEOUT.multipliedBy(3),
                () -> store.queueReplay("replay-1", List.of(REPLAYED), Instant.EPOCH));
    }

    /**
     * A read of the disables to announce that has no answer fails after its timeout (the next round reads them again);
     * a disable announced whose clearing has none is counted as not announced yet, and the round ends.
     */
    @Test
    void theDisablesToAnnounceAreReadAndClearedWithinTheirTimeout() {
        failAfterTheirTimeout(List.of(() -> announcements(database).publishPending()));

        ScriptedDatabase clearingHangs = new ScriptedDatabase(sql -> sql.startsWith("SELECT") ? rows(DISABLED)
                : hanging());
        StepVerifier.withVirtualTime(() -> announcements(DatabaseClient.create(clearingHangs)).publishPending())
                .expectSubscription()
                .expectNoEvent(RetryStore.STATEMENT_TIMEOUT.minusMillis(1))
                .thenAwait(Duration.ofMillis(1))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(registry.get("dialer.webhook.disables.unannounced").counter().count()).isEqualTo(1);
    }

    private static void failAfterTheirTimeout(List<Supplier<Publisher<?>>> statements) {
        statements.forEach(statement -> failAfter(RetryStore.STATEMENT_TIMEOUT, statement));
    }

    private static void failAfter(Duration timeout, Supplier<Publisher<?>> statement) {
        StepVerifier.withVirtualTime(statement::get)
                .expectSubscription()
                .expectNoEvent(timeout.minusMillis(1))
                .thenAwait(Duration.ofMillis(1))
                .expectErrorSatisfies(error -> {
                    assertThat(error).isInstanceOf(TimeoutException.class);
                    assertThat(CallEventConsumer.isStoreFailure(error)).as("written again by the caller's retry")
                            .isTrue();
                })
                .verify(Duration.ofSeconds(5));
    }

    /** The health of a database that has wh-1 disabled at the epoch, and answers the rest as {@code script} says. */
    private static EndpointHealth loaded(ScriptedDatabase.Script script) {
        EndpointHealth health = health(DatabaseClient.create(new ScriptedDatabase(
                sql -> sql.equals("SELECT * FROM webhook.endpoint_state") ? rows(DISABLED) : script.answer(sql))));
        health.load().block(Duration.ofSeconds(5));
        return health;
    }

    private static EndpointHealth health(DatabaseClient database) {
        return new EndpointHealth(database, new HealthProperties(100, Duration.ofDays(3), Duration.ofDays(30),
                Duration.ofDays(7), Duration.ofDays(30), Duration.ofMinutes(15)),
                new DisabledNotice((accountId, type) -> Set.of("wh-2")), Clock.systemUTC());
    }

    private DisableAnnouncements announcements(DatabaseClient database) {
        return new DisableAnnouncements(database, record -> Mono.empty(),
                new AttemptFeed(record -> Mono.empty(), metrics, 4096), metrics, Duration.ofSeconds(10));
    }
}
