package dev.dialer.dispatcher.event;

import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Publishes {@code dispatch.outbox} to {@code dialer.call.events}, keyed by request id, and marks what Kafka
 * acknowledged as sent. It runs when woken by a new event and every {@code poll-interval}; each round holds a
 * PostgreSQL advisory lock for its transaction, so one relay publishes at a time across all dispatchers and a
 * request's events reach the topic in {@code sequence_number} order.
 *
 * <p>Delivery: at least once per event, in order per request. A round whose publish fails (Kafka away, a timeout)
 * marks nothing and is repeated until Kafka takes the events; an event is published again only when Kafka acknowledged
 * it but the relay could not mark it sent (a crash or database failure in between) — a copy with the same
 * {@code event_id} and {@code sequence_number}, which consumers drop.
 */
@Component
public class OutboxRelay {

    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);
    private static final int PURGE_LIMIT = 1_000;

    private final Outbox outbox;
    private final TransactionalOperator transactions;
    private final Function<List<OutboundRecord>, Mono<Void>> publish;
    private final OutboxProperties properties;
    private final Clock clock;
    private final Sinks.Many<Boolean> wakeups = Sinks.many().multicast().directBestEffort();
    private final AtomicLong pending = new AtomicLong();
    private final AtomicReference<Instant> oldest = new AtomicReference<>();
    private final Counter published;
    private final Counter failures;
    private final Timer lag;

    @Autowired
    OutboxRelay(Outbox outbox, ReactiveTransactionManager transactionManager, KafkaPublisher publisher,
                OutboxProperties properties, Clock clock, MeterRegistry registry) {
        this(outbox, TransactionalOperator.create(transactionManager), publisher::publishAll, properties, clock,
                registry);
    }

    OutboxRelay(Outbox outbox, TransactionalOperator transactions, Function<List<OutboundRecord>, Mono<Void>> publish,
                OutboxProperties properties, Clock clock, MeterRegistry registry) {
        this.outbox = outbox;
        this.transactions = transactions;
        this.publish = publish;
        this.properties = properties;
        this.clock = clock;
        this.published = Counter.builder("dialer.dispatcher.outbox.published")
                .description("Call events the outbox relay published to Kafka").register(registry);
        this.failures = Counter.builder("dialer.dispatcher.outbox.failures")
                .description("Relay rounds that failed and will be repeated").register(registry);
        this.lag = Timer.builder("dialer.dispatcher.outbox.lag")
                .description("From an event's commit to its publication").register(registry);
        Gauge.builder("dialer.dispatcher.outbox.pending", pending, AtomicLong::get)
                .description("Call events committed but not yet published").register(registry);
        Gauge.builder("dialer.dispatcher.outbox.oldest.age", this, OutboxRelay::oldestAgeSeconds)
                .description("Seconds the oldest unpublished call event has waited (0 when none)")
                .baseUnit("seconds").register(registry);
    }

    /** Asks for a round soon: called once an event is committed, so it does not wait for the next poll. */
    public void wake() {
        wakeups.tryEmitNext(Boolean.TRUE);
    }

    /** Runs until cancelled; a failed round is logged, counted and repeated, and never ends it. */
    public Flux<Void> run() {
        Flux<Void> relay = Flux.merge(Flux.interval(properties.pollInterval()).map(tick -> Boolean.TRUE),
                        wakeups.asFlux())
                // At most one round waits behind the running one: a wake-up during a round is not lost.
                .onBackpressureLatest()
                .concatMap(trigger -> drain(), 1);
        Flux<Void> housekeeping = Flux.interval(properties.pollInterval())
                .onBackpressureDrop()
                .concatMap(tick -> measureAndPurge(), 1);
        return Flux.merge(relay, housekeeping);
    }

    /** Rounds until the outbox is empty (or a round fails); completes empty. */
    Mono<Void> drain() {
        return round()
                .expand(count -> count >= properties.batchSize() ? round() : Mono.empty())
                .then()
                .onErrorResume(error -> {
                    failures.increment();
                    log.warn("outbox relay round failed; repeated on the next one: {}", error.toString());
                    return Mono.empty();
                });
    }

    /** One round in one transaction: lock, read a batch, publish it, mark it sent. Emits how many were sent. */
    private Mono<Integer> round() {
        Mono<Integer> round = outbox.tryRelayLock()
                .flatMap(locked -> locked ? relayBatch() : Mono.just(0));
        return transactions.transactional(round);
    }

    private Mono<Integer> relayBatch() {
        return outbox.unsent(properties.batchSize())
                .collectList()
                .flatMap(batch -> batch.isEmpty() ? Mono.just(0) : publishAndMark(batch));
    }

    private Mono<Integer> publishAndMark(List<Outbox.PendingEvent> batch) {
        List<OutboundRecord> records = batch.stream()
                .map(event -> OutboundRecord.of(Topics.CALL_EVENTS, event.requestId(),
                        event.payload().getBytes(StandardCharsets.UTF_8)))
                .toList();
        Long[] ids = batch.stream().map(Outbox.PendingEvent::id).toArray(Long[]::new);
        return publish.apply(records)
                .timeout(properties.publishTimeout())
                .then(outbox.markSent(ids))
                .then(Mono.fromRunnable(() -> sent(batch)))
                .thenReturn(batch.size());
    }

    private void sent(List<Outbox.PendingEvent> batch) {
        Instant now = clock.instant();
        published.increment(batch.size());
        batch.forEach(event -> lag.record(Duration.between(event.createdAt(), now).abs()));
    }

    private Mono<Void> measureAndPurge() {
        return outbox.backlog()
                .doOnNext(backlog -> {
                    pending.set(backlog.pending());
                    oldest.set(backlog.oldest());
                })
                .then(outbox.purgeSentBefore(clock.instant().minus(properties.retention()), PURGE_LIMIT))
                .then()
                .onErrorResume(error -> {
                    log.debug("outbox backlog not measured: {}", error.toString());
                    return Mono.empty();
                });
    }

    private double oldestAgeSeconds() {
        Instant since = oldest.get();
        return since == null ? 0 : Math.max(0, Duration.between(since, clock.instant()).toMillis() / 1000.0);
    }
}
