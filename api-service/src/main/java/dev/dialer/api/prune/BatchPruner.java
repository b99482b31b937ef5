package dev.dialer.api.prune;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Deletes rows past their time from one table every {@code every}, batch after batch of {@code batch} rows until a
 * batch comes back short, so a pass never holds one long statement. Every instance prunes; each batch skips the rows
 * another one is deleting. A failed pass is logged and counted and waits for the next tick: a row kept a while longer
 * changes nothing. Rows deleted and failed passes are counted under the names the subclass gives.
 *
 * @param <P> what a pass's batches share (a cutoff instant, say), fixed when the pass starts
 */
public abstract class BatchPruner<P> implements SmartLifecycle {

    /**
     * How long one pass (a pruner's, the applied event ids', the owed states' sweep) may take before it is given up and
     * the next tick tries again: a statement on a connection that hangs without failing (the server gone in a
     * failover, no reset sent) would otherwise stop every later pass for good.
     */
    public static final Duration PASS_LIMIT = Duration.ofMinutes(5);

    private final Logger log = LoggerFactory.getLogger(getClass());
    private final String what;
    private final Duration every;
    private final int batch;
    private final Counter pruned;
    private final Counter failed;
    private volatile Disposable running;

    /**
     * @param what          what the rows are, for the logs ("expired Idempotency-Key claims")
     * @param prunedMetric  counter of rows deleted
     * @param failedMetric  counter of passes that failed
     */
    protected BatchPruner(String what, Duration every, int batch, MeterRegistry registry, String prunedMetric,
                          String failedMetric) {
        this.what = what;
        this.every = every;
        this.batch = batch;
        this.pruned = Counter.builder(prunedMetric).description(what + " deleted").register(registry);
        this.failed = Counter.builder(failedMetric).description("Passes deleting " + what + " that failed")
                .register(registry);
    }

    /**
     * One batch: deletes at most {@code limit} rows past their time, as of {@code pass} (a value fixed for the whole
     * pass, see {@link #startPass}); answers how many.
     */
    protected abstract Mono<Long> deleteBatch(P pass, int limit);

    /** What a pass's batches share, fixed when the pass starts (a cutoff instant, say); null when nothing is. */
    protected P startPass() {
        return null;
    }

    /**
     * The most batches one pass deletes; what is left waits for the next tick, so a large backlog (the first pass
     * of a new retention) is worked off over several ticks rather than in one burst. Unbounded unless overridden.
     */
    protected int maxBatchesPerPass() {
        return Integer.MAX_VALUE;
    }

    /**
     * One pass: deletes rows batch after batch until a batch comes back short, or {@link #maxBatchesPerPass} batches
     * ran; answers how many.
     */
    public Mono<Long> prune() {
        return Mono.defer(() -> {
            P pass = startPass();
            int most = maxBatchesPerPass();
            AtomicInteger batches = new AtomicInteger(1);
            return deleteBatch(pass, batch)
                    .expand(deleted -> deleted < batch || batches.getAndIncrement() >= most ? Mono.empty()
                            : deleteBatch(pass, batch))
                    .reduce(0L, Long::sum)
                    .doOnNext(this::record);
        });
    }

    private void record(long deleted) {
        pruned.increment(deleted);
        if (deleted > 0) {
            log.info("{} {} pruned", deleted, what);
        }
    }

    /** Each tick's pass; a failed pass yields nothing and the next tick tries again. */
    public Flux<Long> everyTick() {
        return Flux.interval(every, every)
                .onBackpressureDrop()
                .concatMap(tick -> prune().timeout(PASS_LIMIT).onErrorResume(error -> {
                    failed.increment();
                    log.warn("pruning {} failed; next try in {}", what, every, error);
                    return Mono.empty();
                }));
    }

    @Override
    public void start() {
        running = everyTick().subscribe(null, error -> log.error("pruning {} stopped", what, error));
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
