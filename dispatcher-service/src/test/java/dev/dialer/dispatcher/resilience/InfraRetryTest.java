package dev.dialer.dispatcher.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTransientException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.r2dbc.UncategorizedR2dbcException;
import org.springframework.r2dbc.connection.ConnectionFactoryUtils;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class InfraRetryTest {

    @Test
    void outagesOfPostgresAndKafkaAreTransient() {
        assertThat(InfraRetry.isTransient(new DataAccessResourceFailureException("connection refused"))).isTrue();
        assertThat(InfraRetry.isTransient(new QueryTimeoutException("timeout"))).isTrue();
        assertThat(InfraRetry.isTransient(new NotEnoughReplicasException("isr"))).isTrue();
        assertThat(InfraRetry.isTransient(new org.apache.kafka.common.errors.TimeoutException("t"))).isTrue();
    }

    @Test
    void aStatementPostgresGaveUpAsTransientIsTransientThoughSpringCouldNotCategorizeIt() {
        // What r2dbc-postgresql raises for a deadlock (40P01), as Spring hands it on: uncategorized.
        DataAccessException deadlock = ConnectionFactoryUtils.convertR2dbcException("executeMany", "WITH changed AS …",
                new R2dbcTransientException("deadlock detected", "40P01") {
                });
        assertThat(deadlock).isInstanceOf(UncategorizedR2dbcException.class);
        assertThat(InfraRetry.isTransient(deadlock)).isTrue();

        DataAccessException internal = ConnectionFactoryUtils.convertR2dbcException("executeMany", "SELECT …",
                new R2dbcException("internal error", "XX000") {
                });
        assertThat(internal).isInstanceOf(UncategorizedR2dbcException.class);
        assertThat(InfraRetry.isTransient(internal)).isFalse();
    }

    @Test
    void aTransactionThatCouldNotBeginForWantOfAConnectionIsTransient() {
        // As Spring's transaction manager reports a connection PostgreSQL refused, or one it failed for another reason.
        for (RuntimeException refused : List.of(new R2dbcNonTransientResourceException("Connection refused"),
                new IllegalStateException("pool closed"))) {
            ConnectionFactory unreachable = new ConnectionFactory() {
                @Override
                public Publisher<? extends Connection> create() {
                    return Mono.error(refused);
                }

                @Override
                public ConnectionFactoryMetadata getMetadata() {
                    return () -> "PostgreSQL";
                }
            };
            TransactionalOperator transaction = TransactionalOperator.create(new R2dbcTransactionManager(unreachable));

            StepVerifier.create(transaction.transactional(Mono.just("statement")))
                    .expectErrorSatisfies(error -> assertThat(InfraRetry.isTransient(error)).as(error.toString())
                            .isTrue())
                    .verify(Duration.ofSeconds(5));
        }
    }

    @Test
    void defectsAreNotTransient() {
        assertThat(InfraRetry.isTransient(new DataIntegrityViolationException("bad row"))).isFalse();
        assertThat(InfraRetry.isTransient(new IllegalStateException("bug"))).isFalse();
    }

    @Test
    void untilRecoveredKeepsRetryingAnOutageUntilItEnds() {
        AtomicInteger calls = new AtomicInteger();
        Mono<String> flaky = Mono.fromCallable(() -> {
            if (calls.incrementAndGet() < 20) {
                throw new DataAccessResourceFailureException("down");
            }
            return "ok";
        });

        StepVerifier.withVirtualTime(() -> flaky.retryWhen(InfraRetry.untilRecovered("test")))
                .thenAwait(Duration.ofMinutes(5))
                .expectNext("ok")
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(calls).hasValue(20);
    }

    @Test
    void untilRecoveredLetsADefectThroughAtOnce() {
        AtomicInteger calls = new AtomicInteger();
        Mono<String> broken = Mono.fromCallable(() -> {
            calls.incrementAndGet();
            throw new IllegalStateException("bug");
        });

        StepVerifier.create(broken.retryWhen(InfraRetry.untilRecovered("test")))
                .expectError(IllegalStateException.class)
                .verify(Duration.ofSeconds(5));
        assertThat(calls).hasValue(1);
    }

    @Test
    void anOutageThatOutlastedAnInnerBriefRetryIsStillWaitedOutByUntilRecovered() {
        AtomicInteger calls = new AtomicInteger();
        Mono<String> down = Mono.fromCallable(() -> {
            if (calls.incrementAndGet() < 10) {
                throw new DataAccessResourceFailureException("failing over");
            }
            return "ok";
        });

        // As a callback is applied: each database step retries briefly, the whole record until recovered.
        StepVerifier.withVirtualTime(() -> Mono.defer(() -> down.retryWhen(InfraRetry.brief("step")))
                        .retryWhen(InfraRetry.untilRecovered("record")))
                .thenAwait(Duration.ofMinutes(1))
                .expectNext("ok")
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(InfraRetry.isTransient(reactor.core.Exceptions.retryExhausted("exhausted",
                new IllegalStateException("bug")))).as("a defect stays a defect").isFalse();
    }

    @Test
    void briefGivesUpAfterThreeRetries() {
        AtomicInteger calls = new AtomicInteger();
        Mono<String> down = Mono.fromCallable(() -> {
            calls.incrementAndGet();
            throw new DataAccessResourceFailureException("down");
        });

        StepVerifier.withVirtualTime(() -> down.retryWhen(InfraRetry.brief("test")))
                .thenAwait(Duration.ofSeconds(10))
                .expectError()
                .verify(Duration.ofSeconds(5));
        assertThat(calls).hasValue(4);
    }
}
