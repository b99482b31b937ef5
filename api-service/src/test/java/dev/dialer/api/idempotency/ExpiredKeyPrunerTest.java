package dev.dialer.api.idempotency;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class ExpiredKeyPrunerTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void shouldDeleteBatchAfterBatchUntilOneComesBackShort() {
        ScriptedStore store = new ScriptedStore(() -> Mono.just(2L), () -> Mono.just(2L), () -> Mono.just(1L));
        ExpiredKeyPruner pruner = new ExpiredKeyPruner(store,
                new IdempotencyProperties(Duration.ofMinutes(10), 2, true), registry);

        pruner.prune().as(StepVerifier::create).expectNext(5L).expectComplete().verify(Duration.ofSeconds(5));

        assertThat(store.batches).containsExactly(2, 2, 2);
        assertThat(registry.find("dialer.api.idempotency.keys.pruned").counter().count()).isEqualTo(5);
    }

    @Test
    void shouldCountAFailedPassAndPruneAgainOnTheNextTick() {
        ScriptedStore store = new ScriptedStore(() -> Mono.error(new IllegalStateException("database down")),
                () -> Mono.just(3L));
        ExpiredKeyPruner pruner = new ExpiredKeyPruner(store,
                new IdempotencyProperties(Duration.ofMinutes(10), 100, true),
                registry);

        StepVerifier.withVirtualTime(pruner::everyTick)
                .thenAwait(Duration.ofMinutes(10))
                .thenAwait(Duration.ofMinutes(10))
                .expectNext(3L)
                .thenCancel()
                .verify(Duration.ofSeconds(5));

        assertThat(registry.find("dialer.api.idempotency.prune.failures").counter().count()).isEqualTo(1);
        assertThat(registry.find("dialer.api.idempotency.keys.pruned").counter().count()).isEqualTo(3);
    }

    /** A store whose deletes answer from a script, one answer per batch. */
    private static final class ScriptedStore extends IdempotencyStore {

        final List<Integer> batches = new ArrayList<>();
        private final Deque<Supplier<Mono<Long>>> answers;

        @SafeVarargs
        ScriptedStore(Supplier<Mono<Long>>... answers) {
            super(null, new IdempotencyProperties(Duration.ofMinutes(10), 1, true));
            this.answers = new ArrayDeque<>(List.of(answers));
        }

        @Override
        Mono<Long> pruneExpired(int batch) {
            return Mono.defer(() -> {
                batches.add(batch);
                return answers.pop().get();
            });
        }
    }
}
