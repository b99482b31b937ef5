package dev.dialer.api.kafka;

import dev.dialer.api.prune.BatchPruner;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Publishes the states api-service owes to Kafka (decision 0129): every {@code dialer.api.owed-states.sweep-every},
 * each instance takes the rows of {@code api.owed_states} that are due, for a lease, and publishes each one's object's
 * committed state again as the change's own process would have ({@link Compensations}): read by its kind's
 * {@link CommittedStates} with the object's rows locked, handed to the producer, the locks held until the producer
 * stored or gave up the records. A late record of the change is then followed by the state the API shows, and a
 * change published meanwhile either committed first (and is what is read) or waits for the lock and lands after. For a
 * campaign cancel whose record Kafka never had, the committed state is that cancel: it is published until Kafka has it.
 *
 * <p>At least once per row: the row is deleted only once Kafka stored the records, and a restatement that fails (Kafka
 * away, the database refusing) leaves it due again after a backoff ({@link RestatementBackoff}). A process that stops
 * mid-way leaves it to another sweeper once the lease ran out. Publishing a committed state twice is harmless: a cancel
 * or pause keeps its id, a webhook's or subscription's config and the settings are the same values.
 *
 * <p>Counted as {@code dialer.api.owed_states.restatements{kind, outcome}} ({@code outcome} {@code stored} or
 * {@code failed}); {@code dialer.api.owed_states} (rows) and {@code dialer.api.owed_states.oldest.age} (seconds) are
 * the backlog as of the last tick, the same on every instance.
 */
@Component
class OwedStateSweeper implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(OwedStateSweeper.class);
    private static final String UNKNOWN = "unknown";

    private final OwedStates owed;
    private final Compensations compensations;
    private final Map<OwedState.Kind, CommittedStates> readers = new EnumMap<>(OwedState.Kind.class);
    private final OwedStateProperties properties;
    private final RestatementBackoff backoff;
    private final MeterRegistry registry;
    private final AtomicLong rows = new AtomicLong();
    private final AtomicLong oldestMillis = new AtomicLong();
    private volatile Disposable running;

    OwedStateSweeper(OwedStates owed, Compensations compensations, List<CommittedStates> readers,
                     OwedStateProperties properties, AcknowledgedPublisher publisher, MeterRegistry registry) {
        properties.requireAtLeast(publisher.longestLanding());
        this.owed = owed;
        this.compensations = compensations;
        readers.forEach(reader -> this.readers.put(reader.kind(), reader));
        this.properties = properties;
        this.backoff = properties.backoff();
        this.registry = registry;
        Gauge.builder("dialer.api.owed_states", rows, AtomicLong::get)
                .description("Rows of api.owed_states: changes whose committed state may still be owed to Kafka, as "
                        + "of the last tick")
                .register(registry);
        TimeGauge.builder("dialer.api.owed_states.oldest.age", oldestMillis, TimeUnit.MILLISECONDS, AtomicLong::get)
                .description("How long the oldest state owed to Kafka has been owed, as of the last tick")
                .register(registry);
    }

    /**
     * One sweep: takes the rows due, restates them ({@code concurrency} at once) and answers how many were stored;
     * then reads the backlog for the gauges.
     */
    Mono<Long> sweep() {
        return owed.claim(properties.batch(), properties.lease())
                .flatMap(this::restate, properties.concurrency())
                .filter(Boolean::booleanValue)
                .count()
                .flatMap(stored -> backlog().thenReturn(stored));
    }

    /** Publishes the row's committed state and deletes the row; a failure leaves it due after the backoff. */
    private Mono<Boolean> restate(OwedStates.Claimed row) {
        Optional<OwedState> state = row.state();
        return Mono.justOrEmpty(state)
                .flatMap(object -> Mono.justOrEmpty(readers.get(object.kind()))
                        .map(reader -> reader.committed(object)))
                .switchIfEmpty(Mono.error(() -> new IllegalStateException("no reader of the kind " + row.kind())))
                .flatMap(compensations::republish)
                .flatMap(records -> owed.settle(row.id()).thenReturn(records))
                .map(records -> {
                    log.info("the state owed for {} is stored ({} records, try {}): row {} deleted",
                            state.orElseThrow(), records, row.attempts(), row.id());
                    count(row.kind(), "stored");
                    return true;
                })
                .onErrorResume(error -> retryLater(row, error));
    }

    private Mono<Boolean> retryLater(OwedStates.Claimed row, Throwable error) {
        Duration after = backoff.after(row.attempts());
        log.warn("the state owed for {} {} of account {} (row {}) could not be published (try {}): {}; next try in {}",
                row.kind(), row.objectId(), row.accountId(), row.id(), row.attempts(), error.toString(), after);
        count(row.kind(), "failed");
        // A row whose backoff could not be written is due again when its lease runs out.
        return owed.retryLater(row.id(), after, error.toString()).onErrorResume(ignored -> Mono.empty())
                .thenReturn(false);
    }

    private void record(OwedStates.Backlog backlog) {
        rows.set(backlog.rows());
        oldestMillis.set(backlog.oldest().toMillis());
    }

    private void count(String kind, String outcome) {
        Counter.builder("dialer.api.owed_states.restatements")
                .description("States owed to Kafka that a sweeper published again: stored, or failed (tried again "
                        + "after a backoff)")
                .tag("kind", OwedState.Kind.of(kind).map(OwedState.Kind::wire).orElse(UNKNOWN))
                .tag("outcome", outcome)
                .register(registry)
                .increment();
    }

    /**
     * Each tick's sweep (when this instance sweeps), then the backlog read for the gauges whatever became of the
     * sweep: an instance that does not sweep, or whose sweeps fail, still shows the rows owed, so the alert on their age
     * fires when no instance publishes them. A tick that fails (the database away) yields nothing; the next one tries
     * again.
     */
    Flux<Long> everyTick() {
        return Flux.interval(properties.sweepEvery(), properties.sweepEvery())
                .onBackpressureDrop()
                .concatMap(tick -> (properties.sweep() ? sweep() : backlog().thenReturn(0L))
                        .timeout(BatchPruner.PASS_LIMIT)
                        .onErrorResume(error -> {
                            log.warn("sweeping the states owed to Kafka failed; next try in {}: {}",
                                    properties.sweepEvery(), error.toString());
                            return backlog().onErrorResume(ignored -> Mono.empty()).then(Mono.empty());
                        }));
    }

    private Mono<Void> backlog() {
        return owed.backlog().doOnNext(this::record).then();
    }

    @Override
    public boolean isAutoStartup() {
        return true;
    }

    @Override
    public synchronized void start() {
        // Started once: a second start would leave the first sweep running, unreachable by stop.
        if (running == null) {
            running = everyTick().subscribe(null,
                    error -> log.error("sweeping the states owed to Kafka stopped", error));
        }
    }

    @Override
    public synchronized void stop() {
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
