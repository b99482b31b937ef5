package dev.dialer.dispatcher.event;

import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import dev.dialer.common.trace.TraceParent;
import dev.dialer.dispatcher.resilience.Heartbeat;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
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
 * Publishes {@code dispatch.outbox} to {@code dialer.call.events}, keyed by request id, and deletes what Kafka
 * acknowledged (or marks it sent, when {@code retention} keeps published events for a while). It runs when woken by a
 * new event and every {@code poll-interval}; each round holds a PostgreSQL advisory lock for its transaction, so one
 * relay publishes at a time across all dispatchers and a request's events reach the topic in {@code sequence_number}
 * order.
 *
 * <p>Delivery: at least once per event, in order per request. An event Kafka did not take stays unsent and is
 * published again later; an event is published again when Kafka acknowledged it but the relay could not record that
 * (a crash or database failure in between), or acknowledged it after the patience — a copy with the same
 * {@code event_id} and {@code sequence_number}, which consumers drop. An event larger than a record of the topic may be
 * is never published: it is moved to {@code dispatch.outbox_rejected} (decision 0115).
 *
 * <p>A round publishes its events together and waits {@code publish-patience} for each to be acknowledged; those that
 * are not (a partition without a leader, or with too few in-sync replicas) stay unsent, the rest are deleted, and the
 * partitions of the events left are taken as stalled, in {@code dispatch.stalled_event_partitions}, which every
 * dispatcher's relay reads at each round. Meanwhile the rounds hold those partitions' events
 * ({@code dispatch.outbox.held_partition}), and every later event of a request with one held, instead of publishing
 * them, and read past them: one such partition neither holds every other request's events nor has them published
 * again and again, and one relay's finding spares the others the patience. Once {@code stalled-hold} has passed, each
 * round frees the partition's oldest held events, a batch, to be read in their order and tried; any not acknowledged,
 * it is stalled again; once none is held, its stall ends (decision 0169).
 *
 * <p>A round that has not ended after {@code round-timeout} (a connection that hangs without failing, a commit that
 * never answers) is given up like a failed one: cancelling it rolls its transaction back where the connection still
 * allows, and the next round takes its events again. Whether the outbox still moves (a round of this relay completed,
 * or the oldest unsent event changed while another relay held the lock) is what its health component reads.
 */
@Component
public class OutboxRelay {

    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);
    private static final int PURGE_LIMIT = 1_000;
    /**
     * Most purge statements in one housekeeping tick: enough to keep up with any rate events are written at (with the
     * default poll interval, 100,000 a second), bounded so that a backlog of sent rows is worked off over several.
     */
    private static final int PURGE_BATCHES = 50;
    /** Room for a record's own bytes beside its key and value: headers, lengths, its batch's header. */
    private static final int RECORD_ROOM = 1024;

    private final Outbox outbox;
    private final TransactionalOperator transactions;
    private final Function<List<OutboundRecord>, Flux<KafkaPublisher.Outcome>> publish;
    /** How many partitions {@code dialer.call.events} has, as the producer knows it. */
    private final Mono<Integer> partitionCount;
    /** The partitions taken as stalled at the last round, and until when (for the gauge). */
    private final Map<Integer, Instant> stalled = new ConcurrentHashMap<>();
    private final OutboxProperties properties;
    private final Clock clock;
    private final Sinks.Many<Boolean> wakeups = Sinks.many().multicast().directBestEffort();
    private final AtomicLong pending = new AtomicLong();
    private final AtomicReference<Instant> oldest = new AtomicReference<>();
    private final Counter published;
    private final Counter failures;
    private final Counter roundTimeouts;
    private final Counter purged;
    private final Counter rejected;
    private final Counter unacknowledged;
    private final int maxEventBytes;
    private final Timer lag;
    private final Heartbeat progress;

    @Autowired
    OutboxRelay(Outbox outbox, ReactiveTransactionManager transactionManager, KafkaPublisher publisher,
                OutboxProperties properties, Clock clock, MeterRegistry registry) {
        this(outbox, TransactionalOperator.create(transactionManager), publisher::publishEach,
                Mono.defer(() -> publisher.partitionCount(Topics.CALL_EVENTS)), properties, clock, registry,
                Math.min(publisher.maxRecordBytes(), Topics.MAX_EVENT_BYTES));
    }

    OutboxRelay(Outbox outbox, TransactionalOperator transactions,
                Function<List<OutboundRecord>, Flux<KafkaPublisher.Outcome>> publish, Mono<Integer> partitionCount,
                OutboxProperties properties, Clock clock, MeterRegistry registry) {
        this(outbox, transactions, publish, partitionCount, properties, clock, registry, Topics.MAX_EVENT_BYTES);
    }

    /** @param maxEventBytes the largest record the events topic and the producer both take */
    OutboxRelay(Outbox outbox, TransactionalOperator transactions,
                Function<List<OutboundRecord>, Flux<KafkaPublisher.Outcome>> publish, Mono<Integer> partitionCount,
                OutboxProperties properties, Clock clock, MeterRegistry registry, int maxEventBytes) {
        this.maxEventBytes = maxEventBytes;
        this.outbox = outbox;
        this.transactions = transactions;
        this.publish = publish;
        this.partitionCount = partitionCount;
        this.properties = properties;
        this.clock = clock;
        this.published = Counter.builder("dialer.dispatcher.outbox.published")
                .description("Call events the outbox relay published to Kafka").register(registry);
        this.failures = Counter.builder("dialer.dispatcher.outbox.failures")
                .description("Relay rounds that failed, or left events Kafka did not acknowledge, to be repeated")
                .register(registry);
        this.unacknowledged = Counter.builder("dialer.dispatcher.outbox.unacknowledged")
                .description("Call events Kafka did not acknowledge within publish-patience, left to be published "
                        + "again").register(registry);
        Gauge.builder("dialer.dispatcher.outbox.stalled.partitions", stalled, Map::size)
                .description("Partitions of the events topic whose events the relay leaves for stalled-hold: they "
                        + "took none within publish-patience").register(registry);
        this.roundTimeouts = Counter.builder("dialer.dispatcher.outbox.round.timeouts")
                .description("Relay rounds given up after round-timeout (also counted as failures)")
                .register(registry);
        this.purged = Counter.builder("dialer.dispatcher.outbox.purged")
                .description("Published call events deleted once past their retention (0 when none is kept)")
                .register(registry);
        this.rejected = Counter.builder("dialer.dispatcher.outbox.rejected")
                .description("Call events too large for the events topic, moved to dispatch.outbox_rejected")
                .register(registry);
        this.lag = Timer.builder("dialer.dispatcher.outbox.lag")
                .description("From an event's commit to its publication").register(registry);
        Gauge.builder("dialer.dispatcher.outbox.pending", pending, AtomicLong::get)
                .description("Call events committed but not yet published (counted up to 100,000)")
                .register(registry);
        Gauge.builder("dialer.dispatcher.outbox.oldest.age", this, OutboxRelay::oldestAgeSeconds)
                .description("Seconds the oldest unpublished call event has waited (0 when none)")
                .baseUnit("seconds").register(registry);
        this.progress = new Heartbeat(clock, registry, "dialer.dispatcher.outbox.progress.age",
                "Seconds since this relay last completed a round or saw the unsent events move "
                        + "(0 while it is stopped)");
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
        return Flux.merge(relay, housekeeping)
                // Counted from the start: the first round is due within one poll interval.
                .doOnSubscribe(subscription -> progress.beat())
                .doFinally(progress::stop);
    }

    /**
     * Whether events wait and the outbox has not moved for {@code staleAfter}: no round of this relay completed, and
     * no other relay was seen to send any. False while the relay is not running (its health tells that apart).
     */
    boolean stalledFor(Duration staleAfter) {
        return pending.get() > 0 && progress.staleFor(staleAfter);
    }

    /** When the outbox last moved as far as this relay can tell; {@code null} while it is not running. */
    Instant lastProgress() {
        return progress.last();
    }

    /** Unsent events at the last measurement. */
    long pending() {
        return pending.get();
    }

    /** Rounds until the outbox is empty (or a round fails or is given up); completes empty. */
    Mono<Void> drain() {
        return round()
                .expand(round -> round.sent() >= properties.batchSize() ? round() : Mono.empty())
                .then()
                .onErrorResume(this::failed);
    }

    /**
     * One round in one transaction: lock, read a batch, publish it, delete it (or mark it sent); given up after
     * {@code round-timeout}, commit included. Emits whether it held the lock and how many it sent.
     */
    private Mono<Round> round() {
        Mono<Round> round = outbox.tryRelayLock(properties.roundTimeout())
                .flatMap(locked -> locked ? relayBatch() : Mono.just(Round.LOCKED_ELSEWHERE));
        return transactions.transactional(round)
                // The round's value as its transaction completes, after the commit: what it moved is told then.
                .flux().takeLast(1).next()
                .timeout(properties.roundTimeout(), Mono.error(RoundTimedOut::new))
                .doOnNext(this::completed);
    }

    /**
     * A round committed. One that did not get the lock says nothing of the outbox: the one holding it may be the one
     * stuck.
     */
    private void completed(Round round) {
        if (round.locked() && round.moved()) {
            progress.beat();
        }
        round.rejected().forEach(this::rejected);
    }

    private Mono<Void> failed(Throwable error) {
        failures.increment();
        if (error instanceof RoundTimedOut) {
            roundTimeouts.increment();
            log.warn("outbox relay round had not ended after {} (a database connection or Kafka send that hangs); "
                    + "given up, the next round takes its events again", properties.roundTimeout());
        } else {
            log.warn("outbox relay round failed; repeated on the next one: {}", error.toString());
        }
        return Mono.empty();
    }

    /**
     * Reads the stalled partitions, tries again a batch of the oldest held events of each whose stall has ended
     * ({@link Outbox#tryAgain}: a batch each round until none is held, whether Kafka took the last or not yet, so that
     * a long backlog is freed in steps; one with none held is stalled no longer), then reads and publishes a batch.
     */
    private Mono<Round> relayBatch() {
        Instant now = clock.instant();
        return outbox.stalledPartitions()
                .flatMap(known -> {
                    stalled.keySet().retainAll(known.keySet());
                    stalled.putAll(known);
                    Set<Integer> holding = new HashSet<>();
                    List<Integer> ended = new ArrayList<>();
                    known.forEach((partition, until) -> (until.isAfter(now) ? holding : ended).add(partition));
                    return Flux.fromIterable(ended)
                            .concatMap(partition -> outbox.tryAgain(partition, properties.batchSize())
                                    .flatMap(freed -> freed > 0 ? Mono.empty()
                                            : outbox.takesEvents(partition).then(Mono.fromRunnable(() -> {
                                                stalled.remove(partition);
                                                log.info("{} partition {} takes events again: none of its events "
                                                        + "is held any longer", Topics.CALL_EVENTS, partition);
                                            }))))
                            .then(Mono.defer(() -> known.isEmpty() ? Mono.just(0) : partitionCount))
                            .flatMap(count -> relayBatch(new Stalled(holding, count), known.isEmpty()));
                });
    }

    /**
     * @param noneHeld whether no partition is stalled, so that no event is held either: a round that finds nothing to
     *                 publish moved the outbox only then (with events held, the outbox waits on them)
     */
    private Mono<Round> relayBatch(Stalled stalledNow, boolean noneHeld) {
        if (stalledNow.partitions() > 0 && stalledNow.holding().size() >= stalledNow.partitions()) {
            // Every partition stalled (Kafka away): nothing to read until a stall ends.
            return Mono.just(Round.NOTHING_TAKEN);
        }
        return outbox.unsent(properties.batchSize())
                .collectList()
                .flatMap(batch -> batch.isEmpty() ? Mono.just(Round.relayed(0, List.of(), noneHeld))
                        : publishAndMark(batch, stalledNow));
    }

    /**
     * The partitions whose events are held when a round began (not those whose oldest held events it tries again), and
     * the events topic's partition count (0 while none is stalled).
     */
    private record Stalled(Set<Integer> holding, int partitions) {

        /** The partition of the request's events; -1 while none is stalled (not needed). */
        int partitionOf(String requestId) {
            return partitions == 0 ? -1 : KafkaPublisher.partitionOf(requestId, partitions);
        }
    }

    /**
     * Publishes the batch and deletes (or marks) what Kafka took; an event too large for the topic is moved aside
     * first ({@link #moveAside}): published, it would fail the whole batch, in every round, for ever. An event of a
     * stalled partition, or behind an earlier event of its request held, is held ({@link Outbox#hold}).
     */
    private Mono<Round> publishAndMark(List<Outbox.PendingEvent> batch, Stalled stalledNow) {
        List<Outbox.PendingEvent> publishable = new ArrayList<>(batch.size());
        List<OutboundRecord> records = new ArrayList<>(batch.size());
        List<Outbox.PendingEvent> tooLarge = new ArrayList<>();
        List<Long> held = new ArrayList<>();
        List<Integer> heldFor = new ArrayList<>();
        for (Outbox.PendingEvent event : batch) {
            int partition = stalledNow.partitionOf(event.requestId());
            Integer holdFor = event.heldBehind() != null ? event.heldBehind()
                    : stalledNow.holding().contains(partition) ? Integer.valueOf(partition) : null;
            if (holdFor != null) {
                held.add(event.id());
                heldFor.add(holdFor);
                continue;
            }
            // A span of the request's trace for each event, so that webhook-service's deliveries join the trace.
            String traceparent = TraceParent.continued(event.traceparent());
            OutboundRecord record = new OutboundRecord(Topics.CALL_EVENTS, event.requestId(),
                    event.payload().getBytes(StandardCharsets.UTF_8),
                    traceparent == null ? Map.of() : Map.of(TraceParent.HEADER, traceparent));
            if (record.value().length + record.key().length() + RECORD_ROOM > maxEventBytes) {
                tooLarge.add(event);
            } else {
                publishable.add(event);
                records.add(record);
            }
        }
        Mono<Boolean> published = records.isEmpty() ? Mono.just(false) : publish.apply(records)
                .take(properties.publishPatience())
                .collectList()
                .timeout(properties.publishTimeout())
                .flatMap(outcomes -> marked(publishable, outcomes));
        Mono<Void> holding = held.isEmpty() ? Mono.empty()
                : outbox.hold(held.toArray(Long[]::new), heldFor.toArray(Integer[]::new));
        // The outbox moved when Kafka took some event, or one was moved aside; holding events alone is no progress.
        return moveAside(tooLarge).then(holding).then(published)
                .map(taken -> Round.relayed(batch.size(), tooLarge, taken || !tooLarge.isEmpty()));
    }

    /**
     * Deletes (or marks) the events Kafka acknowledged; those it did not stay unsent, held with their partitions
     * ({@link #stall}). Emits whether Kafka took any.
     */
    private Mono<Boolean> marked(List<Outbox.PendingEvent> publishable, List<KafkaPublisher.Outcome> outcomes) {
        boolean[] acknowledged = new boolean[publishable.size()];
        Exception failure = null;
        for (KafkaPublisher.Outcome outcome : outcomes) {
            if (outcome.failure() == null) {
                acknowledged[outcome.index()] = true;
            } else if (failure == null) {
                failure = outcome.failure();
            }
        }
        List<Outbox.PendingEvent> sent = new ArrayList<>(publishable.size());
        List<Outbox.PendingEvent> left = new ArrayList<>();
        for (int i = 0; i < acknowledged.length; i++) {
            (acknowledged[i] ? sent : left).add(publishable.get(i));
        }
        Long[] ids = sent.stream().map(Outbox.PendingEvent::id).toArray(Long[]::new);
        Mono<Void> marked = ids.length == 0 ? Mono.empty()
                : properties.keepsSent() ? outbox.markSent(ids) : outbox.deleteSent(ids);
        Exception firstFailure = failure;
        return marked.then(Mono.fromRunnable(() -> sent(sent)))
                .then(left.isEmpty() ? Mono.empty() : Mono.defer(() -> stall(left, firstFailure)))
                .thenReturn(!sent.isEmpty());
    }

    /**
     * Takes the partitions of the events Kafka did not acknowledge as stalled for {@code stalled-hold}, for every
     * relay, and holds those events for them; counts the round as failed.
     */
    private Mono<Void> stall(List<Outbox.PendingEvent> left, Exception failure) {
        failures.increment();
        unacknowledged.increment(left.size());
        Instant until = clock.instant().plus(properties.stalledHold());
        return partitionCount.flatMap(partitions -> {
            Integer[] heldFor = left.stream().map(event -> KafkaPublisher.partitionOf(event.requestId(), partitions))
                    .toArray(Integer[]::new);
            Integer[] found = Arrays.stream(heldFor).distinct().toArray(Integer[]::new);
            for (Integer partition : found) {
                if (stalled.put(partition, until) == null) {
                    log.warn("{} partition {} acknowledged no event within {} ({}); its events are held, tried again "
                                    + "from {}, the others go on", Topics.CALL_EVENTS, partition,
                            properties.publishPatience(), failure == null ? "no answer" : failure.toString(), until);
                }
            }
            return outbox.stall(found, until)
                    .then(outbox.hold(left.stream().map(Outbox.PendingEvent::id).toArray(Long[]::new), heldFor));
        });
    }

    /**
     * Events no topic record can hold (a carrier's text or a command's field larger than any bound foreseen): moved to
     * {@code dispatch.outbox_rejected} in the round's transaction. Their requests' webhooks miss them; every other
     * event goes on being published. They are logged and counted once the round has committed ({@link #completed}):
     * a round that fails takes the move back, and the next one moves them again.
     */
    private Mono<Void> moveAside(List<Outbox.PendingEvent> tooLarge) {
        if (tooLarge.isEmpty()) {
            return Mono.empty();
        }
        Long[] ids = tooLarge.stream().map(Outbox.PendingEvent::id).toArray(Long[]::new);
        return outbox.reject(ids, rejectionReason());
    }

    private void rejected(Outbox.PendingEvent event) {
        rejected.increment();
        log.error("event {} of request {} ({} characters) is {}; moved to dispatch.outbox_rejected, not published",
                event.id(), event.requestId(), event.payload().length(), rejectionReason());
    }

    private String rejectionReason() {
        return "larger than the " + maxEventBytes + " bytes a " + Topics.CALL_EVENTS + " record may have";
    }

    private void sent(List<Outbox.PendingEvent> batch) {
        Instant now = clock.instant();
        published.increment(batch.size());
        batch.forEach(event -> lag.record(Duration.between(event.createdAt(), now).abs()));
    }

    /** One housekeeping tick: the backlog measured for the gauges, then the kept events past retention purged. */
    Mono<Void> measureAndPurge() {
        return outbox.backlog()
                .doOnNext(this::measured)
                .then(Mono.defer(this::purge))
                // Like a round, a measurement on a hung connection would stop every later one (and the purge).
                .timeout(properties.roundTimeout())
                .onErrorResume(this::notMeasured);
    }

    /**
     * Deletes the kept events past their retention, a batch at a time until a batch comes back short (at most
     * {@link #PURGE_BATCHES}): one batch a tick fell behind once events were written faster than two thousand a
     * second.
     */
    private Mono<Void> purge() {
        if (!properties.keepsSent()) {
            return Mono.empty();
        }
        Instant before = clock.instant().minus(properties.retention());
        return Flux.range(0, PURGE_BATCHES)
                .concatMap(batch -> outbox.purgeSentBefore(before, PURGE_LIMIT), 1)
                .doOnNext(purged::increment)
                .takeUntil(deleted -> deleted < PURGE_LIMIT)
                .then();
    }

    /** The oldest unsent event changing is how another relay, holding the lock, is seen at work. */
    private void measured(Outbox.Backlog backlog) {
        if (backlog.pending() == 0 || !Objects.equals(backlog.oldest(), oldest.get())) {
            progress.beat();
        }
        pending.set(backlog.pending());
        oldest.set(backlog.oldest());
    }

    private Mono<Void> notMeasured(Throwable error) {
        if (error instanceof TimeoutException) {
            log.warn("outbox backlog not measured, or kept events not purged, within {}; again next poll",
                    properties.roundTimeout());
        } else {
            log.debug("outbox backlog not measured, or kept events not purged: {}", error.toString());
        }
        return Mono.empty();
    }


    private double oldestAgeSeconds() {
        return ageSeconds(oldest.get());
    }


    private double ageSeconds(Instant since) {
        return since == null ? 0 : Math.max(0, Duration.between(since, clock.instant()).toMillis() / 1000.0);
    }

    /**
     * How a round ended: whether it held the relay lock, how many events it read, and whether the outbox moved (some
     * event taken by Kafka or moved aside, or none to send and none held; holding events is no progress).
     */
    private record Round(boolean locked, int sent, List<Outbox.PendingEvent> rejected, boolean moved) {

        static final Round LOCKED_ELSEWHERE = new Round(false, 0, List.of(), false);
        static final Round NOTHING_TAKEN = new Round(true, 0, List.of(), false);

        static Round relayed(int sent, List<Outbox.PendingEvent> rejected, boolean moved) {
            return new Round(true, sent, rejected, moved);
        }
    }

    /** A round still running after {@code round-timeout}. */
    private static final class RoundTimedOut extends RuntimeException {

        RoundTimedOut() {
            super("round timed out", null, false, false);
        }
    }
}
