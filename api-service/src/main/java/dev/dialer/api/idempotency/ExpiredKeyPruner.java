package dev.dialer.api.idempotency;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Deletes {@code Idempotency-Key} claims past their 24 hours, every {@code dialer.api.idempotency.prune-every}, in
 * batches. An expired row is only ever overwritten when its key comes back, so without this the table (and every
 * index on it) would grow with each key a client ever sent. Every instance prunes; they skip the rows another one is
 * deleting. A failed pass is logged and counted and waits for the next tick: an expired row left a while longer
 * changes no answer, since a claim treats it as free.
 */
@Component
public class ExpiredKeyPruner implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ExpiredKeyPruner.class);

    private final IdempotencyStore store;
    private final IdempotencyProperties properties;
    private final Counter pruned;
    private final Counter failed;
    private volatile Disposable running;

    ExpiredKeyPruner(IdempotencyStore store, IdempotencyProperties properties, MeterRegistry registry) {
        this.store = store;
        this.properties = properties;
        this.pruned = Counter.builder("dialer.api.idempotency.keys.pruned")
                .description("Idempotency-Key claims deleted after their 24 hours").register(registry);
        this.failed = Counter.builder("dialer.api.idempotency.prune.failures")
                .description("Passes deleting expired Idempotency-Key claims that failed").register(registry);
    }

    /** One pass: deletes expired claims batch after batch until a batch comes back short; answers how many. */
    public Mono<Long> prune() {
        return store.pruneExpired(properties.pruneBatch())
                .expand(deleted -> deleted < properties.pruneBatch() ? Mono.empty()
                        : store.pruneExpired(properties.pruneBatch()))
                .reduce(0L, Long::sum)
                .doOnNext(this::record);
    }

    private void record(long deleted) {
        pruned.increment(deleted);
        if (deleted > 0) {
            log.info("{} expired Idempotency-Key claims pruned", deleted);
        }
    }

    /** Each tick's pass; a failed pass yields nothing and the next tick tries again. */
    Flux<Long> everyTick() {
        return Flux.interval(properties.pruneEvery(), properties.pruneEvery())
                .onBackpressureDrop()
                .concatMap(tick -> prune().onErrorResume(error -> {
                    failed.increment();
                    log.warn("pruning expired Idempotency-Key claims failed; next try in {}",
                            properties.pruneEvery(), error);
                    return Mono.empty();
                }));
    }

    @Override
    public void start() {
        running = everyTick().subscribe(null, error -> log.error("Idempotency-Key pruning stopped", error));
    }

    @Override
    public void stop() {
        Disposable current = running;
        running = null;
        if (current != null) {
            current.dispose();
        }
    }

    @Override
    public boolean isRunning() {
        return running != null;
    }
}
