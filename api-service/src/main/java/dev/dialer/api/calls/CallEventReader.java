package dev.dialer.api.calls;

import dev.dialer.api.kafka.ConsumerProgress;
import dev.dialer.api.prune.BatchPruner;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.ContractViolation;
import dev.dialer.common.db.RefusedStatements;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.KafkaSubscriber;
import dev.dialer.common.kafka.PausingPartitions;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Builds the calls read model from {@code dialer.call.events}, in its own consumer group.
 *
 * <p>Delivery guarantee: <b>at least once</b>, made effectively once by {@link CallEventProjection} (event ids are
 * remembered, so a redelivery changes nothing). A record is acknowledged only after its transaction committed;
 * records of a partition are applied one after another, partitions in parallel. An unreadable record is counted,
 * logged and skipped; a database failure is retried with backoff without acknowledging, so nothing is lost. A record
 * whose statement PostgreSQL refuses for what it holds ({@link RefusedStatements}: refused again however often it
 * is sent) is tried {@value #REFUSED_STATEMENT_TRIES} times, then counted ({@code outcome="refused"}), logged with
 * what PostgreSQL said and skipped: retried for ever, it would hold its partition, and every call whose events follow
 * it, for good. A record in hand for longer than {@code stale-after} turns {@link ReadModelHealthIndicator} DOWN
 * ({@link ConsumerProgress}).
 */
@Component
class CallEventReader implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(CallEventReader.class);
    private static final Duration PRUNE_EVERY = Duration.ofHours(1);
    /** Records of a partition held, received and not acknowledged, before it stops fetching. */
    private static final int MAX_UNACKNOWLEDGED_PER_PARTITION = 1_000;
    /**
     * How long a revocation waits for records already handed out to be acknowledged (kept short, as {@link
     * KafkaSubscriber} says why; reactor-kafka's default is a minute): an event is applied in milliseconds, and one
     * applied again is a duplicate it skips.
     */
    static final Duration REBALANCE_WAIT = Duration.ofSeconds(10);
    /** Applications of an event whose statement PostgreSQL refuses, before it is skipped. */
    static final int REFUSED_STATEMENT_TRIES = 5;
    /** How long applying one event may take before it fails as an outage and is tried again. */
    static final Duration STATEMENT_LIMIT = Duration.ofSeconds(30);

    private final ReadModelProperties properties;
    private final KafkaSettings kafka;
    private final CallEventProjection projection;
    private final CallLedger ledger;
    private final MeterRegistry registry;
    private final Counter unreadable;
    private final Counter refused;
    private final ConsumerProgress progress;
    private volatile Disposable running;

    @Autowired
    CallEventReader(ReadModelProperties properties, KafkaSettings kafka, CallEventProjection projection,
                    CallLedger ledger, MeterRegistry registry) {
        this(properties, kafka, projection, ledger, registry, Clock.systemUTC());
    }

    CallEventReader(ReadModelProperties properties, KafkaSettings kafka, CallEventProjection projection,
                    CallLedger ledger, MeterRegistry registry, Clock clock) {
        this.properties = properties;
        this.ledger = ledger;
        this.kafka = kafka;
        this.projection = projection;
        this.registry = registry;
        this.unreadable = outcome("unreadable");
        this.refused = outcome("refused");
        this.progress = new ConsumerProgress(clock, registry, "dialer.api.read_model.in_hand.age",
                "Seconds the call event longest in hand (retries included) has been (0 when none is)");
    }

    /** Consumes until disposed; a consumer failure resubscribes inside the Kafka port. */
    Mono<Void> run() {
        // Each partition in order, partitions side by side; one whose event is retried stops fetching once it holds
        // MAX_UNACKNOWLEDGED_PER_PARTITION records, and the others go on.
        PausingPartitions partitions = new PausingPartitions(Topics.CALL_EVENTS, MAX_UNACKNOWLEDGED_PER_PARTITION);
        return partitions.handle(KafkaSubscriber.receive(kafka, properties.consumerGroup(),
                                List.of(Topics.CALL_EVENTS), properties.maxPollRecords(), partitions.flow(),
                                REBALANCE_WAIT),
                        1, record -> Mono.defer(() -> handle(record)).thenReturn(record))
                .doOnSubscribe(subscription -> progress.started())
                .doFinally(signal -> progress.stopped())
                .then();
    }

    /** Applies one event, retrying until the database takes it; acknowledging it is its caller's. */
    private Mono<Void> handle(InboundRecord record) {
        CallEvent event = read(record);
        if (event == null) {
            return Mono.empty();
        }
        // The database down or busy: the record is kept (not acknowledged) and tried again.
        return progress.track(RefusedStatements.retried(Mono.defer(() -> projection.apply(event))
                                .doOnNext(result -> outcome(result.name().toLowerCase(Locale.ROOT)).increment()),
                        REFUSED_STATEMENT_TRIES, Duration.ofMillis(200), Duration.ofSeconds(10), STATEMENT_LIMIT,
                        failure -> log.warn("applying event {} of call {} failed, retrying", event.eventId(),
                                event.requestId(), failure),
                        error -> {
                            log.error("call event {} ({} of call {}) at {}-{}@{} skipped: PostgreSQL refused it {} "
                                    + "times: {}", event.eventId(), event.eventType(), event.requestId(),
                                    record.topic(), record.partition(), record.offset(), REFUSED_STATEMENT_TRIES,
                                    RefusedStatements.answer(error));
                            refused.increment();
                            return Mono.empty();
                        }))
                .then();
    }

    private CallEvent read(InboundRecord record) {
        try {
            if (record.value() == null || record.value().length == 0) {
                throw new ContractViolation(ContractViolation.Code.NOT_JSON, "empty value");
            }
            CallEvent event = Contract.read(record.value(), CallEvent.class);
            // The JSON text null reads as no event at all.
            if (event == null || event.eventId() == null || event.accountId() == null || event.requestId() == null
                    || event.eventType() == null) {
                throw new ContractViolation(ContractViolation.Code.SCHEMA_INVALID,
                        "event_id, event_type, request_id or account_id missing");
            }
            return event;
        } catch (RuntimeException e) {
            // A bad record must not stop the read model, however it fails to be read: counted, logged and skipped.
            log.warn("unreadable call event at {}-{}@{} skipped: {}", record.topic(), record.partition(),
                    record.offset(), e.getMessage());
            unreadable.increment();
            return null;
        }
    }

    private Counter outcome(String outcome) {
        return Counter.builder("dialer.api.read_model.events")
                .description("Call events consumed into the read model, by outcome")
                .tag("outcome", outcome)
                .register(registry);
    }

    /** Forgets applied event ids hourly once they are older than the topic keeps events; a failure waits an hour. */
    private Flux<Long> pruneApplied() {
        return Flux.interval(PRUNE_EVERY, PRUNE_EVERY)
                .concatMap(tick -> ledger.pruneApplied(properties.keepApplied())
                        .timeout(BatchPruner.PASS_LIMIT)
                        .doOnNext(pruned -> log.debug("{} applied event ids pruned", pruned))
                        .onErrorResume(error -> {
                            log.warn("pruning applied event ids failed; next try in {}", PRUNE_EVERY, error);
                            return Mono.empty();
                        }));
    }

    ConsumerProgress progress() {
        return progress;
    }

    @Override
    public void start() {
        if (!properties.enabled()) {
            log.info("calls read model disabled (dialer.api.read-model.enabled=false)");
            running = Mono.never().subscribe();
            return;
        }
        running = Disposables.composite(
                run().subscribe(null, error -> log.error("call event reader stopped", error)),
                pruneApplied().subscribe(null, error -> log.error("applied event pruning stopped", error)));
        log.info("calls read model consuming {} as {}", Topics.CALL_EVENTS, properties.consumerGroup());
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
