package dev.dialer.api.prune;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class BatchPrunerTest {

    @Test
    void aPassStopsAfterItsMostBatchesAndTheNextTakesTheRest() {
        AtomicInteger statements = new AtomicInteger();
        BatchPruner<Void> pruner = new BatchPruner<>("rows", Duration.ofMinutes(1), 10, new SimpleMeterRegistry(),
                "rows.pruned", "rows.prune.failures") {
            @Override
            protected Mono<Long> deleteBatch(Void pass, int limit) {
                // Always a full batch: only the cap ends a pass (a pass without one fails at the tenth).
                return Mono.fromSupplier(() -> {
                    if (statements.incrementAndGet() >= 10) {
                        throw new IllegalStateException("a pass went on past its most batches");
                    }
                    return (long) limit;
                });
            }

            @Override
            protected int maxBatchesPerPass() {
                return 3;
            }
        };

        pruner.prune().as(StepVerifier::create).expectNext(30L).expectComplete().verify(Duration.ofSeconds(5));
        assertThat(statements).hasValue(3);
        pruner.prune().as(StepVerifier::create).expectNext(30L).expectComplete().verify(Duration.ofSeconds(5));
        assertThat(statements).hasValue(6);
    }

    @Test
    void aPassWhoseStatementNeverAnswersIsGivenUpAndTheNextTickPrunes() {
        // The first statement's connection hangs without failing: the server gone in a failover, no reset sent.
        AtomicInteger statements = new AtomicInteger();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BatchPruner<Void> pruner = new BatchPruner<>("rows", Duration.ofMinutes(1), 10, registry, "rows.pruned",
                "rows.prune.failures") {
            @Override
            protected Mono<Long> deleteBatch(Void pass, int limit) {
                return statements.incrementAndGet() == 1 ? Mono.never() : Mono.just(4L);
            }
        };

        StepVerifier.withVirtualTime(() -> pruner.everyTick().take(1))
                .thenAwait(Duration.ofMinutes(1).plus(BatchPruner.PASS_LIMIT))
                .then(() -> assertThat(registry.counter("rows.prune.failures").count()).isOne())
                .thenAwait(Duration.ofMinutes(1))
                .expectNext(4L)
                .expectComplete()
                .verify(Duration.ofSeconds(10));
        assertThat(statements).hasValue(2);
    }
}
