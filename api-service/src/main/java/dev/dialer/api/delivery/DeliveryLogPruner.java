package dev.dialer.api.delivery;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Deletes delivery log attempts older than {@code dialer.api.deliveries.retention} (30 days, as the log is
 * documented to keep them), every {@code prune-every}, in batches of {@code prune-batch}. The consumer only ever
 * adds rows, so without this {@code api.webhook_deliveries} would grow with every attempt ever made. Every instance
 * prunes; they skip the rows another one is deleting. A failed pass is logged and counted and waits for the next
 * tick: an attempt kept a while longer harms nothing.
 */
@Component
public class DeliveryLogPruner implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(DeliveryLogPruner.class);

    private final DeliveryLogRepository repository;
    private final DeliveryProperties properties;
    private final Counter pruned;
    private final Counter failed;
    private volatile Disposable running;

    DeliveryLogPruner(DeliveryLogRepository repository, DeliveryProperties properties, MeterRegistry registry) {
        this.repository = repository;
        this.properties = properties;
        this.pruned = Counter.builder("dialer.api.delivery.log.pruned")
                .description("Delivery log attempts deleted after the retention").register(registry);
        this.failed = Counter.builder("dialer.api.delivery.log.prune.failures")
                .description("Passes pruning the delivery log that failed").register(registry);
    }

    /** One pass: deletes old attempts batch after batch until a batch comes back short; answers how many. */
    public Mono<Long> prune() {
        return Mono.defer(() -> {
            Instant cutoff = Instant.now().minus(properties.retention());
            return batch(cutoff)
                    .expand(deleted -> deleted < properties.pruneBatch() ? Mono.empty() : batch(cutoff))
                    .reduce(0L, Long::sum)
                    .doOnNext(deleted -> record(deleted, cutoff));
        });
    }

    private Mono<Long> batch(Instant cutoff) {
        return repository.pruneBefore(cutoff, properties.pruneBatch());
    }

    private void record(long deleted, Instant cutoff) {
        pruned.increment(deleted);
        if (deleted > 0) {
            log.info("{} delivery log attempts made before {} pruned", deleted, cutoff);
        }
    }

    /** Each tick's pass; a failed pass yields nothing and the next tick tries again. */
    Flux<Long> everyTick() {
        return Flux.interval(properties.pruneEvery(), properties.pruneEvery())
                .onBackpressureDrop()
                .concatMap(tick -> prune().onErrorResume(error -> {
                    failed.increment();
                    log.warn("pruning the delivery log failed; next try in {}", properties.pruneEvery(), error);
                    return Mono.empty();
                }));
    }

    @Override
    public void start() {
        running = everyTick().subscribe(null, error -> log.error("delivery log pruning stopped", error));
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
