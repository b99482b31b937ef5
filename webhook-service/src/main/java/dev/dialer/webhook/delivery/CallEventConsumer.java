package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.ContractViolation;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.db.RefusedStatements;
import dev.dialer.common.kafka.InOrderAcknowledger;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.KafkaSubscriber;
import dev.dialer.common.kafka.PartitionFlow;
import dev.dialer.common.kafka.PausingPartitions;
import dev.dialer.common.kafka.Topics;
import dev.dialer.common.trace.TraceParent;
import dev.dialer.webhook.directory.WebhookDirectory;
import io.r2dbc.spi.R2dbcBadGrammarException;
import io.r2dbc.spi.R2dbcDataIntegrityViolationException;
import io.r2dbc.spi.R2dbcException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.dao.InvalidDataAccessApiUsageException;
import org.springframework.dao.InvalidDataAccessResourceUsageException;
import org.springframework.transaction.CannotCreateTransactionException;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

/**
 * Consumes {@code dialer.call.events} in the {@value #GROUP} consumer group and makes the first try of every event to
 * each of its targets (see {@link TargetResolver}): the webhook it names, the account's webhooks subscribed to its
 * type, its {@code notify_url}, for {@code call.final} its {@code action_hook}, and for an answering-machine detection
 * its {@code amd_hook}. What does not succeed at once is stored in the durable retry table by the
 * {@link WebhookDeliverer}; there are no in-line retries. Every event is also kept in {@code webhook.events} for
 * replay.
 *
 * <p>Delivery guarantee: <b>at least once</b> per target. A record is acknowledged only once every target's first try
 * has ended and its outcome is durable (delivered, stored for a retry, or dead-lettered), and only after every
 * earlier record of its partition ({@link InOrderAcknowledger}), so a crash before that makes the next consumer try
 * it again. Up to {@value #IN_FLIGHT_PER_PARTITION} records of a partition are in flight at once and finish in any
 * order, so a slow endpoint holds one slot per try, never the partition; records with the same key (one call) go one
 * after another, which keeps a call's events in order (one waiting for its call's previous record holds no slot), and
 * a later event of a call whose earlier event is still in the retry table waits there behind it (see
 * {@link RetryStore}). A partition stops fetching while
 * {@value #MAX_UNACKNOWLEDGED_PER_PARTITION} of its records wait to be acknowledged (behind one that has not finished),
 * so what it holds in memory is bounded; the other partitions go on.
 *
 * <p>A record that cannot be read, or whose handling fails for good (a statement PostgreSQL refuses for its data at
 * every handling, or a defect), is not acknowledged until its copy is in {@code dialer.call.events.dlq}
 * ({@link BadRecords}), with the error's code ({@code not_json}, {@code schema_invalid}, {@code processing_error});
 * the records after it go on meanwhile.
 */
public final class CallEventConsumer {

    static final String GROUP = "dialer-webhook";
    private static final Logger log = LoggerFactory.getLogger(CallEventConsumer.class);
    private static final int MAX_POLL_RECORDS = 500;
    /**
     * Records of one partition handled at once: bounds what a slow endpoint can hold back before it is refused.
     * Twice an account's cap over all its endpoints ({@code max-concurrent-per-account}, 64): an instance that owns a
     * single partition (at full scale-out) keeps half of it for the other accounts while one account's tries hang. A
     * record waiting for the record before it of its call does not count: it takes its place only when that one is
     * done, or a slow endpoint's calls' later events would fill the partition behind their first.
     */
    static final int IN_FLIGHT_PER_PARTITION = 128;
    /**
     * Records of one partition received and not yet acknowledged at which it stops fetching, until half are: bounds
     * what waits behind a record that has not finished.
     */
    static final int MAX_UNACKNOWLEDGED_PER_PARTITION = 1_000;
    /**
     * How long a revocation waits for records already handed out to be acknowledged (kept short, as {@link
     * KafkaSubscriber} says why; reactor-kafka's default is a minute): long enough for a first try under way to end (a
     * name lookup of 5 s, 15 s, a body of 1 s by default, after waiting up to the lookup wait, 10 s, for a webhook not
     * known yet) and its outcome to be written; one not begun is read again by the partition's next owner, which sends
     * it once, and so may be one of more targets than are tried at once (16) still waiting its turn: at least once.
     */
    static final Duration REBALANCE_WAIT = Duration.ofSeconds(40);
    /** An event's targets tried at once. */
    private static final int MAX_TARGETS_IN_FLIGHT = 16;
    /** Handlings of a record whose statement PostgreSQL refuses, before the record goes to the DLQ. */
    static final int REFUSED_STATEMENT_TRIES = 5;

    private final KafkaSettings settings;
    private final WebhookDirectory directory;
    private final TargetResolver resolver;
    private final WebhookDeliverer deliverer;
    private final RetryStore store;
    private final EventStore events;
    private final Duration lookupWait;
    private final Duration orderingWait;
    private final DeliveryMetrics metrics;
    private final BadRecords badRecords;
    private final Clock clock;
    /** The last record in flight per key, so the next one of the key starts after it. */
    private final Map<String, Mono<Void>> keyTails = new ConcurrentHashMap<>();
    /** Each partition's records handled at once, {@value #IN_FLIGHT_PER_PARTITION} at most. */
    private final Map<Integer, ActiveLimit> handling = new ConcurrentHashMap<>();
    /** Each partition's acknowledger, by partition: a new assignment makes their pauses again. */
    private volatile boolean running;

    CallEventConsumer(KafkaSettings settings, WebhookDirectory directory, TargetResolver resolver,
                      WebhookDeliverer deliverer, RetryStore store, EventStore events, Duration lookupWait,
                      Duration orderingWait, DeliveryMetrics metrics, BadRecords badRecords, Clock clock) {
        this.settings = settings;
        this.directory = directory;
        this.resolver = resolver;
        this.deliverer = deliverer;
        this.store = store;
        this.events = events;
        this.lookupWait = lookupWait;
        this.orderingWait = orderingWait;
        this.metrics = metrics;
        this.badRecords = badRecords;
        this.clock = clock;
    }

    /** Consumes until cancelled; a consumer failure resubscribes inside the Kafka port. */
    public Mono<Void> run() {
        PausingPartitions partitions = new PausingPartitions(Topics.CALL_EVENTS, MAX_UNACKNOWLEDGED_PER_PARTITION);
        return partitions.handle(KafkaSubscriber.receive(settings, GROUP, List.of(Topics.CALL_EVENTS),
                                MAX_POLL_RECORDS, partitions.flow(), REBALANCE_WAIT),
                        MAX_UNACKNOWLEDGED_PER_PARTITION,
                        record -> afterSameKey(record, handled(record, partitions.flow())))
                .doOnSubscribe(subscription -> running = true)
                .doFinally(signal -> running = false)
                .then();
    }

    /** Whether the consumer is subscribed and has not stopped. */
    public boolean isRunning() {
        return running;
    }

    /**
     * The record's handling, once its partition has room for it ({@link #IN_FLIGHT_PER_PARTITION}) and the call's
     * event before it is done; none if its partition was revoked meanwhile. Records are handed over as they arrive and
     * wait here for their turn, behind a partition's 128 tries (endpoints that hang up to their time-out) or their
     * call's previous event: one whose turn comes after a revocation is its partition's next owner's, which reads it
     * again from the last commit, and sending it here too would send it twice, the two copies in any order.
     */
    Mono<Void> handled(InboundRecord record, PartitionFlow flow) {
        return handling.computeIfAbsent(record.partition(), partition -> new ActiveLimit(IN_FLIGHT_PER_PARTITION))
                .run(Mono.defer(() -> flow.fetchedBeforeRevocation(record) ? revokedMeanwhile(record)
                        : handle(record)));
    }

    private Mono<Void> revokedMeanwhile(InboundRecord record) {
        log.debug("call event at {}-{}@{} not handled: its partition was revoked while it waited for its turn",
                record.topic(), record.partition(), record.offset());
        return Mono.empty();
    }

    /** Runs {@code work} once the record before it with the same key has finished; emits the record. */
    private Mono<InboundRecord> afterSameKey(InboundRecord record, Mono<Void> work) {
        String key = Objects.requireNonNullElse(record.key(), "");
        Sinks.Empty<Void> done = Sinks.empty();
        Mono<Void> tail = done.asMono();
        Mono<Void> previous = keyTails.put(key, tail);
        return Objects.requireNonNullElse(previous, Mono.<Void>empty())
                .then(work)
                .doFinally(signal -> {
                    keyTails.remove(key, tail);
                    done.tryEmitEmpty();
                })
                .thenReturn(record);
    }

    /**
     * Handles the record until it is settled. It is counted read once, before its handlings: counted at each, a
     * record handled again while PostgreSQL is away would keep the count rising while nothing is delivered, hiding a
     * stalled consumer from the alert that compares events published with events read.
     */
    Mono<Void> handle(InboundRecord record) {
        Mono<Void> settled = Mono.defer(() -> deliver(record))
                // A statement PostgreSQL refuses for this record's data (a constraint, a bad value) is refused again:
                // tried a few times, then the record goes to the DLQ as below, rather than hold its partition for
                // good. (A target's own delivery refused so is dead-lettered in firstTry, and the record goes on.)
                .retryWhen(Retry.backoff(REFUSED_STATEMENT_TRIES, Duration.ofMillis(200))
                        .filter(CallEventConsumer::isRefusedStatement)
                        .doBeforeRetry(signal -> log.warn("call event at {}-{}@{} not settled, PostgreSQL refused a "
                                + "statement; handling it again: {}", record.topic(), record.partition(),
                                record.offset(), signal.failure().toString())))
                // PostgreSQL unreachable (for the event kept, or the webhook looked up; a target's outcome is written
                // again in firstTry, on its own): the record is handled again (at least once) and its partition waits
                // rather than lose it. Any other error is a bug: logged, and the record goes to the DLQ.
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200)).maxBackoff(Duration.ofSeconds(30))
                        .filter(CallEventConsumer::isStoreFailure)
                        .doBeforeRetry(signal -> storeUnavailable(record, signal.failure())))
                .onErrorResume(error -> unexpected(record, error));
        return Mono.fromRunnable(metrics::consumed).then(settled);
    }

    private Mono<Void> deliver(InboundRecord record) {
        CallEvent event;
        try {
            event = read(record);
        } catch (ContractViolation violation) {
            // A bad record must not stop the consumer: it is acknowledged once its copy is in the DLQ (and counted).
            return badRecords.send(record, violation);
        }
        Mono<Void> kept = events.keep(new EventStore.StoredEvent(event.eventId(), event.accountId(),
                event.eventType().wire(), event.occurredAt() == null ? clock.instant() : event.occurredAt(),
                record.value()));
        String traceparent = TraceParent.ifValid(record.headers().get(TraceParent.HEADER));
        Mono<Void> delivered = namedWebhook(event, record.value(), traceparent)
                .flatMap(webhook -> {
                    // One look at the directory for both: a webhook whose record it applies between two looks would
                    // otherwise be neither tried now (not known at the first) nor stored for later (known at the other).
                    // The named webhook not known at its look is stored for later already, whatever this look finds:
                    // tried now as a subscriber as well, it would get the event twice.
                    Subscribers subscribers = Subscribers.of(event, directory.subscribers(event.accountId(),
                            event.eventType().wire()), directory::current, directory::deleted, webhook.isEmpty());
                    return Flux.fromIterable(subscribers.notKnownYet())
                            .concatMap(id -> later(event, Target.Kind.SUBSCRIPTION, id, record.value(), traceparent))
                            .then(Mono.fromSupplier(() -> resolver.resolve(event, webhook.orElse(null),
                                    subscribers.known())));
                })
                .flatMapMany(Flux::fromIterable)
                .map(target -> DeliveryTask.first(event.eventId(), event.eventType().wire(), target,
                        event.requestId(), event.accountId(), record.value(), traceparent))
                .flatMap(this::firstTry, MAX_TARGETS_IN_FLIGHT)
                .then();
        // Kept first: were keeping it to fail after the tries, the record would be handled again and every target
        // that had the event would get it twice.
        return kept.then(delivered);
    }

    /**
     * The first try, unless an earlier event of the call is still retrying to this target (then it waits behind) or
     * this event's delivery to the target already waits in the retry table (its record handled a second time: the
     * stored delivery is the one that goes on).
     */
    private Mono<Void> firstTry(DeliveryTask task) {
        Retry untilStored = untilStored(task);
        return store.waiting(task)
                .flatMap(waiting -> switch (waiting) {
                    case NONE -> deliverer.deliver(task, untilStored);
                    case BEHIND -> holdBack(task);
                    case STORED -> Mono.fromRunnable(metrics::alreadyStored);
                })
                // Refused for this delivery's own data (a retry row too large for its index, say), it would be refused
                // at every handling of the record: this target is given up, and the event's other targets go on.
                .onErrorResume(CallEventConsumer::isRefusedStatement,
                        error -> deliverer.unstorable(task, error).retryWhen(untilStored))
                // PostgreSQL unreachable before the try: this target alone is handled again. After the try its outcome
                // is written again in the deliverer, without another try; handling the whole record again would resend
                // the event to the targets that had it, and an error here would cancel the others' tries in flight.
                .retryWhen(untilStored);
    }

    /**
     * Until PostgreSQL takes the target's outcome, backing off as the record's own handling does: the record is not
     * acknowledged meanwhile (at least once), and its partition's later records go on up to its in-flight bound.
     */
    private Retry untilStored(DeliveryTask task) {
        return Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200)).maxBackoff(Duration.ofSeconds(30))
                .filter(CallEventConsumer::isStoreFailure)
                .doBeforeRetry(signal -> log.warn("event {} to {} {} not settled, PostgreSQL unavailable; storing its "
                        + "outcome again: {}", task.eventId(), task.target().kind().tag(), task.target().id(),
                        signal.failure().toString()));
    }

    /**
     * Stores the delivery behind the earlier one of its call to the same target, to go once that one is done, or the
     * ordering wait after that one's first try at the latest ({@link RetryStore#save}).
     */
    private Mono<Void> holdBack(DeliveryTask task) {
        metrics.heldBack();
        return store.save(task, 0, clock.instant(), orderingWait);
    }

    /**
     * The event's named webhook if it is known. One known to be deleted is counted as skipped here. One never seen,
     * even after {@code lookupWait} (its record may be later still: the directory's reader behind the topic while a
     * partition leader is elected), is stored for a try after the ordering wait: delivered then if the directory knows
     * the webhook by that time, dead-lettered ({@code unknown_webhook}, replayable) if not, never dropped with the
     * record acknowledged and nothing kept ({@link #later}).
     */
    private Mono<Optional<WebhookConfig>> namedWebhook(CallEvent event, byte[] payload, String traceparent) {
        if (event.webhookId() == null) {
            return Mono.just(Optional.empty());
        }
        return directory.find(event.webhookId(), lookupWait)
                .map(Optional::of)
                .switchIfEmpty(Mono.defer(() -> {
                    if (directory.deleted(event.webhookId())) {
                        metrics.outcome(Target.Kind.WEBHOOK, "skipped", Reason.UNKNOWN_WEBHOOK);
                        return Mono.just(Optional.empty());
                    }
                    return later(event, Target.Kind.WEBHOOK, event.webhookId(), payload, traceparent)
                            .thenReturn(Optional.<WebhookConfig>empty());
                }));
    }

    /**
     * The event's subscribed webhooks, each looked up once: those the directory knows (of the event's account), and
     * those it does not know yet, whose delivery is stored as a named one's is ({@link #namedWebhook}): a subscription
     * and its webhook are records of their own, on partitions read apart, so the subscription can be known first. A
     * webhook known to be deleted is in neither (its subscriptions go with it), nor is the event's named webhook when
     * it was not known at its own look ({@code namedStored}: stored already, as the named one), even if it is by now.
     */
    record Subscribers(List<WebhookConfig> known, List<String> notKnownYet) {

        static Subscribers of(CallEvent event, Set<String> ids, Function<String, WebhookConfig> current,
                              Predicate<String> deleted, boolean namedStored) {
            List<WebhookConfig> known = new ArrayList<>();
            List<String> notKnownYet = new ArrayList<>();
            for (String id : ids) {
                if (namedStored && id.equals(event.webhookId())) {
                    continue;
                }
                WebhookConfig webhook = current.apply(id);
                if (webhook != null) {
                    if (event.accountId().equals(webhook.accountId())) {
                        known.add(webhook);
                    }
                } else if (!id.equals(event.webhookId()) && !deleted.test(id)) {
                    notKnownYet.add(id);
                }
            }
            return new Subscribers(List.copyOf(known), List.copyOf(notKnownYet));
        }
    }

    /**
     * Stores the event's delivery to a webhook not known yet for a try after the ordering wait, held behind an earlier
     * row of its call's as a held-back event is, for at most the ordering wait past its due time, or past the earlier
     * row's first try if that comes later ({@link RetryStore#save}): two events of a call stored so, the later could
     * otherwise be tried while the earlier waits out a failed try.
     */
    private Mono<Void> later(CallEvent event, Target.Kind kind, String webhookId, byte[] payload,
                             String traceparent) {
        metrics.outcome(kind, "retrying", Reason.UNKNOWN_WEBHOOK);
        DeliveryTask later = DeliveryTask.first(event.eventId(), event.eventType().wire(),
                Target.storedWebhook(kind, webhookId), event.requestId(), event.accountId(), payload, traceparent);
        return store.save(later, 0, clock.instant().plus(orderingWait), orderingWait);
    }

    /** The record's event; throws when it holds none. */
    private static CallEvent read(InboundRecord record) {
        if (record.value() == null || record.value().length == 0) {
            throw new ContractViolation(ContractViolation.Code.NOT_JSON, "empty value");
        }
        CallEvent event = Contract.read(record.value(), CallEvent.class);
        if (event == null || event.eventId() == null || event.accountId() == null || event.eventType() == null) {
            throw new ContractViolation(ContractViolation.Code.SCHEMA_INVALID,
                    "event_id, event_type or account_id missing");
        }
        return event;
    }

    /**
     * Whether PostgreSQL could not be reached or written: handling the work again may well succeed. A transaction that
     * could not begin (no connection) is one, though Spring does not call it a data access failure.
     */
    static boolean isStoreFailure(Throwable error) {
        return error instanceof CannotCreateTransactionException
                || (error instanceof DataAccessException || error instanceof R2dbcException
                || error instanceof TimeoutException) && !isRefusedStatement(error);
    }

    /**
     * Whether PostgreSQL refused the statement for what it says or holds (a constraint, a value, a limit), not for
     * being away: sent again, it is refused again. Told by the exception's type, or by its SQLSTATE's class, since the
     * driver reports some such refusals as resource failures (54000, an index row too large, as a non-transient
     * resource exception, which reads like a lost connection).
     */
    static boolean isRefusedStatement(Throwable error) {
        return error instanceof DataIntegrityViolationException
                || error instanceof InvalidDataAccessResourceUsageException
                || error instanceof InvalidDataAccessApiUsageException
                || error instanceof R2dbcDataIntegrityViolationException || error instanceof R2dbcBadGrammarException
                || RefusedStatements.isRefused(error);
    }

    private void storeUnavailable(InboundRecord record, Throwable error) {
        log.warn("call event at {}-{}@{} not settled, PostgreSQL unavailable; handling it again: {}",
                record.topic(), record.partition(), record.offset(), error.toString());
    }

    /**
     * Handling the record failed for good: it goes to the DLQ ({@code processing_error}), to be published again to
     * the topic once the cause is put right, and is then acknowledged, so that its partition goes on. Its targets may
     * have had the event already (the failure came after their tries): published again, it reaches them again, with
     * the same {@code webhook-id}.
     */
    private Mono<Void> unexpected(InboundRecord record, Throwable error) {
        // Refused statements' tries run out with an error that says only that: the refusal is what tells the cause.
        Throwable cause = Exceptions.isRetryExhausted(error) && error.getCause() != null ? error.getCause() : error;
        log.error("handling call event at {}-{}@{} failed; a copy goes to {}", record.topic(), record.partition(),
                record.offset(), Topics.CALL_EVENTS_DLQ, cause);
        return badRecords.send(record, new ContractViolation(ContractViolation.Code.PROCESSING_ERROR,
                "handling failed: " + cause));
    }
}
