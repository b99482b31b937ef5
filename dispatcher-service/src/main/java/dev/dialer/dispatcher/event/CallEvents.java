package dev.dialer.dispatcher.event;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.EventType;
import dev.dialer.common.contract.FinalStatus;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.springframework.stereotype.Component;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionContext;
import org.springframework.transaction.reactive.TransactionSynchronization;
import org.springframework.transaction.reactive.TransactionSynchronizationManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Writes call events for {@code dialer.call.events} into the outbox ({@code dispatch.outbox}), each with the request's
 * next {@code sequence_number} and a {@code previous_status}: the attempt's status before a transition, and otherwise
 * (a deferral, a final decided by policy or a cancel, an attempt's first event) the status of the request's latest
 * event, if it had one. The {@link OutboxRelay} publishes them, keyed by request id, in order per request.
 * Never carries the request's variables ({@link CallEvent} has no field for them).
 *
 * <p>An event is stored in the same PostgreSQL transaction as the change it reports: {@link #finishOnce} ends the
 * request and stores its final event in one statement, and a caller that changes state and then {@link #emit}s wraps
 * both in {@link #atomically}. A committed change therefore always has its event, whatever happens to Kafka or to
 * this process afterwards.
 */
@Component
public class CallEvents {

    private final Outbox outbox;
    private final OutboxRelay relay;
    private final TransactionalOperator transactions;
    private final MeterRegistry registry;

    CallEvents(Outbox outbox, OutboxRelay relay, ReactiveTransactionManager transactionManager,
               MeterRegistry registry) {
        this.outbox = outbox;
        this.relay = relay;
        this.transactions = TransactionalOperator.create(transactionManager);
        this.registry = registry;
        // Registered up front, so dashboards see zeros rather than missing series.
        for (EventType type : EventType.values()) {
            registry.counter("dialer.dispatcher.events", "type", type.wire());
        }
    }

    /**
     * Builds the event ({@code details} fills in what happened) and stores it in the outbox, joining the caller's
     * transaction if there is one. Infrastructure errors are retried by {@code retry} (outside a transaction only: a
     * failed statement aborts the caller's transaction, which the caller repeats as a whole, so inside one pass
     * {@code Retry.max(0)}); when it gives up, the error is the statement's own, not Reactor's retry exhaustion.
     *
     * @return the stored event, with its sequence number, once committed (or once written, inside a transaction)
     */
    public Mono<CallEvent> emit(CallCommand command, UnaryOperator<CallEvent.Builder> details, Retry retry) {
        return Mono.defer(() -> {
                    Draft draft = Draft.of(command, details);
                    // One statement: atomic on its own, and part of the caller's transaction when there is one.
                    return outbox.append(draft.event()).map(draft::stored);
                })
                .retryWhen(retry)
                .onErrorMap(Exceptions::isRetryExhausted, CallEvents::cause)
                .flatMap(this::stored);
    }

    /**
     * Makes {@code change} and, if it happened, stores its event in the same statement: what a change and its event
     * in {@link #atomically} do, in one round trip and without a transaction of its own. The event's
     * {@code previous_status} is the status {@code change} returned. Infrastructure errors are retried by the caller
     * (a repeated change that happened the first time does not happen again, so stores nothing).
     *
     * @return the status before the change (empty {@link Optional} when it had none), when it happened; empty when it
     *         did not
     */
    public Mono<Optional<AttemptStatus>> emitOn(CallCommand command, StateChange change,
                                                UnaryOperator<CallEvent.Builder> details) {
        return changeOn(command, change, details).map(Changed::previous);
    }

    /**
     * {@link #emitOn}, also telling whether a cancel had reached the request when the change was made: read by the same
     * statement from the request's row it updates, so a caller that must act on a cancel (a call placed although its
     * request was cancelled) needs no read of its own.
     *
     * @return what the change found, when it happened; empty when it did not
     */
    public Mono<Changed> changeOn(CallCommand command, StateChange change, UnaryOperator<CallEvent.Builder> details) {
        return Mono.defer(() -> {
            Draft draft = Draft.of(command, details);
            return outbox.appendOn(change, draft.event()).flatMap(appended -> changed(draft, appended));
        });
    }

    /**
     * {@link #changeOn} for several requests, one change each, in one statement: one round trip and one commit for
     * all of them, each change and its event atomic as in {@link #changeOn}, the changes independent of each other
     * (one that does not happen stores nothing and leaves the others alone).
     *
     * @param changes the changes; they bind the requests' ids in the order of {@code each}
     * @param each    per request, in that order: its command and what its event says
     * @return what each change that happened found, by request id (a request whose change did not happen is absent)
     */
    public Mono<Map<String, Changed>> changeOnEach(StateChanges changes, List<Change> each) {
        return Mono.defer(() -> {
            Map<String, Draft> drafts = new HashMap<>();
            List<CallEvent> events = new ArrayList<>(each.size());
            for (Change change : each) {
                Draft draft = Draft.of(change.command(), change.details());
                drafts.put(change.command().requestId(), draft);
                events.add(draft.event());
            }
            return outbox.appendOnEach(changes, events)
                    .concatMap(stored -> changed(drafts.get(stored.requestId()), stored.appended())
                            .map(found -> Map.entry(stored.requestId(), found)))
                    .collectMap(Map.Entry::getKey, Map.Entry::getValue);
        });
    }

    /**
     * One request's part of {@link #changeOnEach}.
     *
     * @param command the request's command
     * @param details what its event says
     */
    public record Change(CallCommand command, UnaryOperator<CallEvent.Builder> details) {
    }

    /** What the change that stored {@code draft} found; the stored event is counted and the relay woken. */
    private Mono<Changed> changed(Draft draft, Outbox.Appended appended) {
        return stored(draft.builder().previousStatus(appended.previousStatus()).sequence(appended.sequence()).build())
                .thenReturn(new Changed(Optional.ofNullable(appended.previousStatus()).map(AttemptStatus::fromWire),
                        appended.cancelRequested()));
    }

    /**
     * What a change that happened found: the attempt's status before it, and whether a cancel had reached the request.
     *
     * @param previous        the status before (empty when the attempt had none)
     * @param cancelRequested whether the request's cancel mark was set when the change was made
     */
    public record Changed(Optional<AttemptStatus> previous, boolean cancelRequested) {
    }

    /**
     * Ends the request with {@code status} and stores its {@code call.final}, but only if this call is the one that
     * ended it (the PostgreSQL transition from no final status): a request gets exactly one final event however many
     * paths reach an end. Not while one of its attempts is being dialled: that attempt's end ends the request. The
     * request's row is locked first, in a transaction with the change. {@code details} fills in the rest; type, status
     * and {@code will_retry=false} are set here.
     */
    public Mono<Void> finishOnce(CallCommand command, FinalStatus status, UnaryOperator<CallEvent.Builder> details,
                                 Retry retry) {
        return finish(command, status, details, retry).then();
    }

    /**
     * As {@link #finishOnce}, each try given up after {@code eachTry} (a connection that hangs without failing) and
     * tried again as {@code retry} says ({@link java.util.concurrent.TimeoutException} is transient to it).
     */
    public Mono<Void> finishOnce(CallCommand command, FinalStatus status, UnaryOperator<CallEvent.Builder> details,
                                 Retry retry, Duration eachTry) {
        return finish(command, status, details, retry, eachTry).then();
    }

    /** As {@link #finishOnce}; emits whether this call ended the request. */
    public Mono<Boolean> finish(CallCommand command, FinalStatus status, UnaryOperator<CallEvent.Builder> details,
                                Retry retry) {
        return finish(command, status, details, retry, null);
    }

    private Mono<Boolean> finish(CallCommand command, FinalStatus status, UnaryOperator<CallEvent.Builder> details,
                                 Retry retry, Duration eachTry) {
        Mono<CallEvent> once = Mono.defer(() -> {
            Draft draft = Draft.ofFinal(command, status, details);
            return transactions.transactional(outbox.lockRequest(command.requestId())
                    .then(outbox.finishWith(status, draft.event()))).map(draft::stored);
        });
        return (eachTry == null ? once : once.timeout(eachTry))
                .retryWhen(retry)
                .onErrorMap(Exceptions::isRetryExhausted, CallEvents::cause)
                .flatMap(this::stored)
                .hasElement();
    }

    /**
     * Ends an attempt and, unless another path ended the request first, the request: makes {@code change} (the
     * attempt's terminal transition) and, if it happened, stores its {@code call.status} event ({@code attemptDetails},
     * with the status before as {@code previous_status}) and, if the request had no final status, ends it with
     * {@code status} and stores its {@code call.final} ({@code finalDetails}, completed as {@link #finishOnce} does)
     * after it. One statement: all of it commits together, without a transaction of its own, and a repeated change
     * stores nothing. Infrastructure errors are retried by the caller.
     *
     * @return the attempt's status before the change (empty {@link Optional} when it had none), when it happened;
     *         empty when it did not
     */
    public Mono<Optional<AttemptStatus>> endOn(CallCommand command, StateChange change,
                                               UnaryOperator<CallEvent.Builder> attemptDetails, FinalStatus status,
                                               UnaryOperator<CallEvent.Builder> finalDetails) {
        return Mono.defer(() -> {
            Draft attempt = Draft.of(command, attemptDetails);
            // The request's status before its end is the attempt's end the same statement stores.
            String attemptEnd = attempt.event().status();
            Draft ending = Draft.ofFinal(command, status,
                    event -> finalDetails.apply(event).previousStatus(attemptEnd));
            return outbox.endOn(change, attempt.event(), status, ending.event()).flatMap(ended -> stored(
                            attempt.builder().previousStatus(ended.previousStatus()).sequence(ended.attemptSequence())
                                    .build())
                    .then(ended.finalSequence() == null ? Mono.empty()
                            : stored(ending.withSequence(ended.finalSequence())))
                    .thenReturn(Optional.ofNullable(ended.previousStatus()).map(AttemptStatus::fromWire)));
        });
    }

    /**
     * Stores the {@code call.deferred} event of a request made to wait for {@code reason} until
     * {@code nextAttemptAt}, inside the caller's transaction (the wait and its event commit together, and the caller
     * repeats the whole on an outage). Type, status, {@code will_retry=true}, {@code next_attempt_at} and the reason
     * are set here; {@code details} fills in the rest.
     */
    public Mono<CallEvent> deferred(CallCommand command, String reason, Instant nextAttemptAt,
                                    UnaryOperator<CallEvent.Builder> details) {
        return emit(command, event -> details.apply(event
                        .type(EventType.DEFERRED)
                        .status("deferred")
                        .retry(true, nextAttemptAt)
                        .reason(reason)),
                Retry.max(0));
    }

    /**
     * Runs {@code change} — a state change followed by the {@link #emit} that reports it — in one transaction: both
     * are committed, or neither. The relay is woken once it is committed.
     */
    public <T> Mono<T> atomically(Mono<T> change) {
        return transactions.transactional(change).doOnSuccess(done -> relay.wake());
    }

    /**
     * The error behind exhausted retries. Inside a transaction callers pass {@code Retry.max(0)}; its exhaustion must
     * surface as the statement's own error, so that the caller's retry of the whole transaction can tell an outage
     * (retried) from a defect.
     */
    private static Throwable cause(Throwable exhausted) {
        return exhausted.getCause() != null ? exhausted.getCause() : exhausted;
    }

    /**
     * {@code event}, once stored: counted and the relay woken now, or, when it was written inside a transaction, once
     * that transaction commits (a transaction rolled back and repeated counts its events once, and one rolled back
     * for good none).
     */
    private Mono<CallEvent> stored(CallEvent event) {
        return Mono.deferContextual(context -> context.hasKey(TransactionContext.class)
                        ? TransactionSynchronizationManager.forCurrentTransaction()
                        : Mono.empty())
                .filter(TransactionSynchronizationManager::isSynchronizationActive)
                .map(transaction -> {
                    transaction.registerSynchronization(new TransactionSynchronization() {
                        @Override
                        public Mono<Void> afterCommit() {
                            return Mono.fromRunnable(() -> count(event));
                        }
                    });
                    return event;
                })
                .switchIfEmpty(Mono.fromSupplier(() -> {
                    count(event);
                    return event;
                }));
    }

    private void count(CallEvent event) {
        registry.counter("dialer.dispatcher.events", "type", event.eventType().wire()).increment();
        relay.wake();
    }

    /** An event built once, so its id and time stay the same when the sequence number is filled in. */
    private record Draft(CallEvent.Builder builder, CallEvent event) {

        static Draft of(CallCommand command, UnaryOperator<CallEvent.Builder> details) {
            CallEvent.Builder builder = details.apply(CallEvent.about(command));
            CallEvent first = builder.build();
            builder.eventId(first.eventId()).occurredAt(first.occurredAt());
            return new Draft(builder, builder.build());
        }

        /** A {@code call.final} with {@code status}: type, status and {@code will_retry=false} set here. */
        static Draft ofFinal(CallCommand command, FinalStatus status, UnaryOperator<CallEvent.Builder> details) {
            return of(command, event -> details.apply(event
                    .type(EventType.FINAL)
                    .status(status)
                    .retry(false, null)));
        }

        CallEvent withSequence(long sequence) {
            return builder.sequence(sequence).build();
        }

        /** The event as stored: its sequence number, and the request's status before it unless it had its own. */
        CallEvent stored(Outbox.Appended appended) {
            if (event.previousStatus() == null && appended.previousStatus() != null) {
                builder.previousStatus(appended.previousStatus());
            }
            return withSequence(appended.sequence());
        }
    }
}
