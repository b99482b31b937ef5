package dev.dialer.webhook.delivery;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verifyNoInteractions;
import static org.mockito.Mockito.when;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.PartitionFlow;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.R2dbcDataIntegrityViolationException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcPermissionDeniedException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.r2dbc.BadSqlGrammarException;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Which database errors make a call event wait for PostgreSQL, and which are tried a few times and skipped; what a
 * record handled again is counted as.
 */
class CallEventConsumerTest {

    @Test
    void aSubscribedWebhookIsLookedUpOnceSoThatOneArrivingMeanwhileIsTriedNowOrStoredNeverNeither() {
        CallEvent event = namingWhNamed();
        WebhookConfig arriving = new WebhookConfig("wh-late", "acc-1", "https://example.com/late", "test", "s3cret",
                true, Instant.now());
        WebhookConfig otherAccount = new WebhookConfig("wh-other", "acc-2", "https://example.com/other", "test",
                "s3cret", true, Instant.now());
        // The directory applies wh-late's record right after the first look at it.
        AtomicInteger looks = new AtomicInteger();
        Function<String, WebhookConfig> current = id -> switch (id) {
            case "wh-late" -> looks.getAndIncrement() == 0 ? null : arriving;
            case "wh-other" -> otherAccount;
            default -> null;
        };
        Set<String> ids = new LinkedHashSet<>(List.of("wh-late", "wh-other", "wh-named", "wh-gone"));

        CallEventConsumer.Subscribers subscribers = CallEventConsumer.Subscribers.of(event, ids, current,
                "wh-gone"::equals, true);

        assertThat(looks).hasValue(1);
        assertThat(subscribers.notKnownYet()).containsExactly("wh-late");
        assertThat(subscribers.known()).isEmpty();
        // Known from the start: tried now, and not stored.
        looks.set(1);
        CallEventConsumer.Subscribers later = CallEventConsumer.Subscribers.of(event, ids, current, "wh-gone"::equals,
                true);
        assertThat(later.known()).containsExactly(arriving);
        assertThat(later.notKnownYet()).isEmpty();
    }

    @Test
    void theNamedWebhookStoredForLaterIsNoSubscriberNowThoughItIsKnownByThen() {
        CallEvent event = namingWhNamed();
        // Its record applied between the named look (which stored the event for it) and the subscribers' look.
        WebhookConfig named = new WebhookConfig("wh-named", "acc-1", "https://example.com/named", "test", "s3cret",
                true, Instant.now());
        Function<String, WebhookConfig> current = id -> id.equals("wh-named") ? named : null;

        assertThat(CallEventConsumer.Subscribers.of(event, Set.of("wh-named"), current, id -> false, true).known())
                .as("stored already as the named one: tried later, once").isEmpty();
        assertThat(CallEventConsumer.Subscribers.of(event, Set.of("wh-named"), current, id -> false, false).known())
                .as("found at the named look: the resolver makes it one target").containsExactly(named);
    }

    /** A ringing event of account acc-1 whose call names the webhook wh-named. */
    private static CallEvent namingWhNamed() {
        return CallEvent.about(new CallCommand(CallCommand.VERSION, "req-1", "acc-1", "+14155550100", "+919876543210",
                "23", null, "test", 0, 0, 1, "wh-named", null, Map.of(), null, null, null, null, null, null,
                Instant.now())).sequence(1).status(AttemptStatus.RINGING).build();
    }

    @Test
    void postgresqlAwayIsWaitedFor() {
        assertThat(new Throwable[] {new DataAccessResourceFailureException("connection refused"),
                new QueryTimeoutException("statement timeout"), new TimeoutException("pool"),
                new R2dbcNonTransientResourceException("connection closed")})
                .allMatch(CallEventConsumer::isStoreFailure)
                .noneMatch(CallEventConsumer::isRefusedStatement);
    }

    @Test
    void aTransactionThatCouldNotBeginForWantOfAConnectionIsWaitedFor() {
        // As Spring's transaction manager reports a connection PostgreSQL refused: not a data access failure to it.
        ConnectionFactory away = new ConnectionFactory() {
            @Override
            public Publisher<? extends Connection> create() {
                return Mono.error(new R2dbcNonTransientResourceException("connection refused"));
            }

            @Override
            public ConnectionFactoryMetadata getMetadata() {
                return () -> "PostgreSQL";
            }
        };

        StepVerifier.create(TransactionalOperator.create(new R2dbcTransactionManager(away))
                        .transactional(Mono.just("replay page")))
                .expectErrorSatisfies(error -> assertThat(CallEventConsumer.isStoreFailure(error)).as(error.toString())
                        .isTrue())
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aStatementRefusedForItsDataIsNotWaitedForForever() {
        assertThat(new Throwable[] {new DuplicateKeyException("duplicate key"),
                new BadSqlGrammarException("insert", "INSERT …", new io.r2dbc.spi.R2dbcBadGrammarException("bad")),
                new R2dbcDataIntegrityViolationException("not null")})
                .allMatch(CallEventConsumer::isRefusedStatement)
                .noneMatch(CallEventConsumer::isStoreFailure);
    }

    @Test
    void aStatementOverAPostgresqlLimitIsRefusedForGoodThoughTheDriverReportsItAsAResourceFailure() {
        // As r2dbc-postgresql reports SQLSTATE 54000, and as Spring's DatabaseClient then wraps it.
        R2dbcNonTransientResourceException tooLarge = new R2dbcNonTransientResourceException(
                "index row size 2720 exceeds btree version 4 maximum 2704 for index \"retries_order\"", "54000");

        assertThat(new Throwable[] {tooLarge, new DataAccessResourceFailureException("insert", tooLarge)})
                .allMatch(CallEventConsumer::isRefusedStatement)
                .noneMatch(CallEventConsumer::isStoreFailure);
    }

    @Test
    void aServerThatIsShortOfResourcesShuttingDownReadOnlyOrMissingAGrantIsWaitedFor() {
        assertThat(new Throwable[] {
                new DataAccessResourceFailureException("insert",
                        new R2dbcNonTransientResourceException("too many connections", "53300")),
                new R2dbcNonTransientResourceException("terminating connection due to administrator command", "57P01"),
                new R2dbcNonTransientResourceException("cannot execute INSERT in a read-only transaction", "25006"),
                new R2dbcPermissionDeniedException("permission denied for table retries", "42501")})
                .allMatch(CallEventConsumer::isStoreFailure)
                .noneMatch(CallEventConsumer::isRefusedStatement);
    }

    @Test
    void anythingElseIsNeitherAndIsSkippedAsUnexpected() {
        assertThat(new IllegalStateException("bug")).matches(error -> !CallEventConsumer.isStoreFailure(error)
                && !CallEventConsumer.isRefusedStatement(error));
    }

    /**
     * {@code dialer.webhook.events.consumed} is what the alert on a stalled consumer compares with the events
     * published: a record handled again and again while PostgreSQL is away is one record read.
     */
    @Test
    void aRecordHandledAgainWhilePostgresqlIsAwayIsCountedReadOnce() {
        AtomicInteger connects = new AtomicInteger();
        ConnectionFactory away = new ConnectionFactory() {
            @Override
            public Publisher<? extends Connection> create() {
                connects.incrementAndGet();
                return Mono.error(new R2dbcNonTransientResourceException("connection refused"));
            }

            @Override
            public ConnectionFactoryMetadata getMetadata() {
                return () -> "PostgreSQL";
            }
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CallEventConsumer consumer = new CallEventConsumer(null, null, null, null, null,
                new EventStore(DatabaseClient.create(away)), Duration.ofSeconds(10), Duration.ofMinutes(10),
                new DeliveryMetrics(registry), null, Clock.systemUTC());
        byte[] event = "{\"event_id\":\"e-1\",\"event_type\":\"call.status\",\"account_id\":\"acc-1\"}"
                .getBytes(UTF_8);
        InboundRecord record = new InboundRecord(Topics.CALL_EVENTS, 0, 7, "req-1", event, Map.of(), () -> { });

        StepVerifier.withVirtualTime(() -> consumer.handle(record))
                .thenAwait(Duration.ofMinutes(5))
                .then(() -> {
                    assertThat(connects).as("handlings while PostgreSQL is away").hasValueGreaterThan(3);
                    assertThat(registry.counter("dialer.webhook.events.consumed").count()).isEqualTo(1.0);
                })
                .thenCancel()
                .verify();
    }

    @Test
    void aRecordWhosePartitionWasRevokedWhileItWaitedForItsTurnIsLeftToTheNextOwner() {
        EventStore events = mock(EventStore.class);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CallEventConsumer consumer = new CallEventConsumer(null, null, null, null, null, events,
                Duration.ofSeconds(10), Duration.ofMinutes(10), new DeliveryMetrics(registry), null,
                Clock.systemUTC());
        byte[] event = "{\"event_id\":\"e-2\",\"event_type\":\"call.status\",\"account_id\":\"acc-1\"}"
                .getBytes(UTF_8);
        InboundRecord record = new InboundRecord(Topics.CALL_EVENTS, 0, 8, "req-2", event, Map.of(), () -> { });
        PartitionFlow revoked = mock(PartitionFlow.class);
        when(revoked.fetchedBeforeRevocation(record)).thenReturn(true);

        StepVerifier.create(consumer.handled(record, revoked)).verifyComplete();

        verifyNoInteractions(events);
        assertThat(registry.counter("dialer.webhook.events.consumed").count()).as("its next owner counts it").isZero();
    }
}
