package dev.dialer.api.idempotency;

import dev.dialer.api.prune.BatchPruner;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Deletes {@code Idempotency-Key} claims past their 24 hours, every {@code dialer.api.idempotency.prune-every}, in
 * batches of {@code prune-batch}. An expired row is only ever overwritten when its key comes back, so without this the
 * table (and every index on it) would grow with each key a client ever sent. An expired row left a while longer
 * changes no answer, since a claim treats it as free.
 */
@Component
public class ExpiredKeyPruner extends BatchPruner<Void> {

    private final IdempotencyStore store;

    ExpiredKeyPruner(IdempotencyStore store, IdempotencyProperties properties, MeterRegistry registry) {
        super("expired Idempotency-Key claims", properties.pruneEvery(), properties.pruneBatch(), registry,
                "dialer.api.idempotency.keys.pruned", "dialer.api.idempotency.prune.failures");
        this.store = store;
    }

    @Override
    protected Mono<Long> deleteBatch(Void pass, int limit) {
        return store.pruneExpired(limit);
    }
}
