package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
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
 * A delivery's statements on a database that never answers (a connection that hangs without failing): each fails
 * after {@link RetryStore#STATEMENT_TIMEOUT} as PostgreSQL being away does, so its caller writes it again instead of
 * holding its record for good.
 */
class StatementTimeoutTest {

    private static final Target WEBHOOK = new Target(Target.Kind.WEBHOOK, "wh-1", null, "POST", null);
    private static final DeliveryTask FIRST = DeliveryTask.first("ev-1", "call.status", WEBHOOK, "req-1", "acc-1",
            new byte[0], null);
    private static final DeliveryTask CLAIMED = new DeliveryTask(1L, "ev-1", "call.status", WEBHOOK, "req-1",
            "acc-1", new byte[0], 1, null, false, Instant.EPOCH, Instant.EPOCH, null);

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

    private final DatabaseClient database = DatabaseClient.create(NEVER_ANSWERS);
    private final RetryStore store = new RetryStore(database,
            TransactionalOperator.create(new R2dbcTransactionManager(NEVER_ANSWERS)),
            new DeliveryMetrics(new SimpleMeterRegistry()));
    private final EventStore events = new EventStore(database);

    @Test
    void everyStatementOfADeliveryFailsAfterItsTimeoutAsAnOutageDoes() {
        List<Supplier<Mono<?>>> statements = List.of(
                () -> events.keep(new EventStore.StoredEvent("ev-1", "acc-1", "call.status", Instant.EPOCH,
                        new byte[0])),
                () -> store.waiting(FIRST),
                () -> store.save(FIRST, 0, Instant.EPOCH, null),
                () -> store.save(CLAIMED, 1, Instant.EPOCH, null),
                () -> store.remove(CLAIMED),
                () -> store.deadLetter(FIRST, 1, Reason.UNKNOWN_WEBHOOK),
                () -> store.deadLetter(CLAIMED, 2, Reason.UNKNOWN_WEBHOOK));

        for (int i = 0; i < statements.size(); i++) {
            StepVerifier.withVirtualTime(statements.get(i)::get)
                    .expectSubscription()
                    .as("statement " + i)
                    .expectNoEvent(RetryStore.STATEMENT_TIMEOUT.minusMillis(1))
                    .thenAwait(Duration.ofMillis(1))
                    .expectErrorSatisfies(error -> {
                        assertThat(error).isInstanceOf(TimeoutException.class);
                        assertThat(CallEventConsumer.isStoreFailure(error)).as("written again by the caller's retry")
                                .isTrue();
                    })
                    .verify(Duration.ofSeconds(5));
        }
    }
}
