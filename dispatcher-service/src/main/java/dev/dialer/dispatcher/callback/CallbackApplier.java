package dev.dialer.dispatcher.callback;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.DialGivenBack;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.OpenAttempts;
import dev.dialer.dispatcher.attempt.Transition;
import dev.dialer.dispatcher.carrier.CallCanceller;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.outcome.Outcome;
import dev.dialer.dispatcher.outcome.OutcomeClassifier;
import dev.dialer.dispatcher.outcome.OutcomeMetrics;
import dev.dialer.dispatcher.outcome.OwnCancels;
import dev.dialer.dispatcher.outcome.Verdict;
import dev.dialer.dispatcher.pacing.Lanes;
import dev.dialer.dispatcher.pacing.PacingProperties;
import dev.dialer.dispatcher.pacing.TrunkGate;
import dev.dialer.dispatcher.policy.DialGate;
import dev.dialer.dispatcher.resilience.InfraRetry;
import dev.dialer.dispatcher.retry.RetryDecision;
import dev.dialer.dispatcher.retry.RetryMetrics;
import dev.dialer.dispatcher.retry.RetryPolicy;
import dev.dialer.dispatcher.retry.RetryProperties;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Applies a carrier status callback to its attempt and publishes what changed. Independent of HTTP, so a consumer of
 * a callbacks topic can call it too.
 *
 * <p>The attempt moves by a guarded transition ({@link AttemptLedger#transitionChange}): a late or repeated callback (a
 * second {@code ringing}, anything after a terminal status) changes nothing and publishes nothing. A transition that
 * happened publishes a {@code call.status} event; a terminal one also classifies the outcome and, if this caller is
 * the one that marks the request finished, publishes the request's single {@code call.final}.
 *
 * <p>A terminal outcome is first put to the {@link RetryPolicy}. A retryable one (busy, no-answer, transient failure)
 * with attempts left does not end the request: the attempt's terminal {@code call.status} event carries
 * {@code will_retry=true} and {@code next_attempt_at}, and the next attempt is written to {@code dispatch.schedule} in
 * the same statement that ends this one ({@link AttemptLedger#transitionAndSchedule}). Otherwise the request ends
 * ({@link RequestEnding}): a retryable outcome without attempts left and a declined call end {@code exhausted}, an
 * unreachable number ends {@code failed}. A capacity rejection is not an attempt and ends nothing: the attempt is
 * requeued under the same number ({@link #requeue}), until it was first queued longer than
 * {@code retry.carrier-unavailable-max-wait} ago, when the request ends {@code exhausted} with
 * {@code error.code=capacity}, or until the requeue would not be due before the request's {@code valid_until}, when it
 * ends {@code expired} (as a retry due past it does). A terminal callback frees the attempt's trunk slot once the
 * ledger has let it end or requeue the attempt, never before; one it refuses frees a slot only if no dial of the
 * attempt is in flight.
 *
 * <p>A callback names the dial of its attempt it is about (the tag's {@code dial}: an attempt is dialled again under
 * its number after a capacity rejection). One about an earlier dial than the one in flight, such as a repeated or
 * late capacity rejection of the first dial arriving once the second rings, changes nothing: it neither requeues the
 * attempt (which would dial the callee a third time while the second call rings), nor moves or ends it, nor frees its
 * trunk slot. The dispatcher that dialled knows the dial in flight ({@link OpenAttempts#laterDialThan}); the ledger's
 * guarded statements refuse such a callback wherever it is applied. The report of a SIP call taken over from a
 * dispatcher that stopped ({@link CarrierCallback#takenOver}) names the dial the call was, and it is also refused once
 * the attempt knows another call than the one it reports: another carrier placed the same dial after the SIP trunk
 * gave it up, and the kept call outlived it.
 *
 * <p>A Voice Gateway callback is bound to its call ({@link CarrierCallback#callBound}) the same way: its tag is only
 * what the call's application last wrote (jambonz's {@code tag} verb replaces it), so one that names an attempt whose
 * call is another than its {@code call_sid} moves, ends and stores nothing, frees no slot that call holds, and is
 * counted {@code other_call} and logged (decision 0125).
 *
 * <p>Once a cancel has reached the request ({@code AttemptLedger#endContext}), an attempt's end is reported
 * {@code canceled} (an answered call hung up stays {@code completed}) and ends the request {@code canceled}, never
 * retried: the 487 that follows our own cancel is not a no-answer. A retry is scheduled only if no cancel has reached
 * the request by then, read under a lock on the request in the retry's transaction: an end and a cancel that cross
 * never leave the request waiting for a retry that the dial-time gate would only cancel ({@link #ended}). A call that
 * is placed or rings although a cancel reached its request (the cancel's own order did not reach the carrier, or
 * crossed the dial) is cancelled at the carrier again ({@link #cancelAgain}).
 *
 * <p>An answering-machine result ({@link CarrierCallback#isAnsweringMachineResult()}) changes no status: it stores the
 * attempt's {@code answered_by} and, while the attempt is open, publishes a {@code call.status} event with the
 * attempt's current status and {@code answered_by}. The attempt's terminal event and the request's final event carry
 * the stored value too, however much later the call ends. A result that arrives after the attempt ended is stored
 * but published nowhere (the final event is the request's last) and counted {@code late}.
 *
 * <p>Delivery: an attempt's change and its event are committed in one transaction (the event goes to the outbox, which
 * a relay publishes), so a change is never applied without its event. A scheduled retry is committed with them.
 */
@Component
public class CallbackApplier {

    private static final Logger log = LoggerFactory.getLogger(CallbackApplier.class);

    /** What became of a callback. */
    public enum Result {
        /** The attempt moved and its events are published. */
        APPLIED,
        /** Late or repeated: the attempt had already moved past this status. */
        IGNORED,
        /** No such attempt was ever recorded. */
        UNKNOWN_ATTEMPT,
        /** Bound to another call than the attempt's ({@link CarrierCallback#callBound}): refused. */
        OTHER_CALL;

        String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final OutcomeClassifier CLASSIFIER = new OutcomeClassifier();

    private final AttemptLedger ledger;
    private final OpenAttempts openAttempts;
    private final CallEvents events;
    private final RetryPolicy retryPolicy;
    private final RetryMetrics retryMetrics;
    private final Clock clock;
    private final MeterRegistry registry;
    private final OutcomeMetrics outcomes;
    private final OwnCancels ownCancels;
    private final Lanes lanes;
    private final PacingProperties pacing;
    private final AnsweringMachineResults answeringMachine;
    private final RetryProperties retry;
    private final ObjectProvider<CallCanceller> canceller;
    private final StatusMoves moves;

    CallbackApplier(AttemptLedger ledger, OpenAttempts openAttempts, CallEvents events, RetryPolicy retryPolicy,
                    RetryMetrics retryMetrics, Clock clock, MeterRegistry registry, OwnCancels ownCancels, Lanes lanes,
                    PacingProperties pacing, AnsweringMachineResults answeringMachine, RetryProperties retry,
                    ObjectProvider<CallCanceller> canceller, StatusMoves moves) {
        this.moves = moves;
        this.answeringMachine = answeringMachine;
        // Looked up when first needed: the canceller's carrier (a SIP trunk) reports its calls' statuses here.
        this.canceller = canceller;
        this.retry = retry;
        this.openAttempts = openAttempts;
        for (String answeredBy : AnsweredBy.VALUES) {
            for (String result : new String[] {"applied", "repeated", "late", "unknown_attempt", "other_call"}) {
                registry.counter("dialer.dispatcher.answering.machine", "answered_by", answeredBy, "result", result);
            }
        }
        this.ownCancels = ownCancels;
        this.lanes = lanes;
        this.pacing = pacing;
        registry.counter("dialer.dispatcher.capacity.rejections");
        this.ledger = ledger;
        this.events = events;
        this.retryPolicy = retryPolicy;
        this.retryMetrics = retryMetrics;
        this.clock = clock;
        this.registry = registry;
        this.outcomes = new OutcomeMetrics(registry);
    }

    public Mono<Result> apply(CarrierCallback callback) {
        if (callback.isAnsweringMachineResult()) {
            return applyDetection(callback);
        }
        return ownCancels.reclassify(callback)
                .retryWhen(InfraRetry.brief("own cancel"))
                .flatMap(this::applyReclassified);
    }

    private Mono<Result> applyReclassified(CarrierCallback callback) {
        if (openAttempts.laterDialThan(callback.requestId(), callback.attempt(), callback.dial())) {
            log.info("{} callback for request {} attempt {} is about dial {}, which a later dial replaced; ignored",
                    callback.providerStatus(), callback.requestId(), callback.attempt(), callback.dial());
            count(callback.status().wire(), Result.IGNORED);
            return Mono.just(Result.IGNORED);
        }
        return openAttempts.command(callback.requestId(), callback.attempt())
                .retryWhen(InfraRetry.brief("find attempt"))
                .flatMap(command -> applyTo(command, callback))
                .defaultIfEmpty(Result.UNKNOWN_ATTEMPT)
                .doOnNext(result -> count(callback.status().wire(), result));
    }

    /**
     * Stores who answered and, while the attempt is open, publishes it in a {@code call.status} event carrying the
     * attempt's current status (one transaction). A repeated result changes nothing.
     */
    private Mono<Result> applyDetection(CarrierCallback detection) {
        return openAttempts.command(detection.requestId(), detection.attempt())
                .retryWhen(InfraRetry.brief("find attempt"))
                .flatMap(command -> storeDetection(command, detection))
                .defaultIfEmpty("unknown_attempt")
                .doOnNext(result -> {
                    if ("other_call".equals(result)) {
                        log.warn("answering-machine result {} of call {} names request {} attempt {}, whose call is "
                                + "another; refused", detection.answeredBy(), detection.providerCallId(),
                                detection.requestId(), detection.attempt());
                    }
                    if ("late".equals(result)) {
                        // The final event is the request's last word: a result after it is kept, not published.
                        log.info("answering-machine result {} for request {} attempt {} came after the attempt "
                                + "ended; kept, not published", detection.answeredBy(), detection.requestId(),
                                detection.attempt());
                    }
                    registry.counter("dialer.dispatcher.answering.machine", "answered_by", detection.answeredBy(),
                            "result", result).increment();
                })
                .map(result -> switch (result) {
                    case "applied" -> Result.APPLIED;
                    case "unknown_attempt" -> Result.UNKNOWN_ATTEMPT;
                    case "other_call" -> Result.OTHER_CALL;
                    default -> Result.IGNORED;
                });
    }

    /**
     * {@code applied}, {@code late} (the attempt had ended), {@code repeated} (nothing changed) or {@code other_call}
     * (bound to another call than the attempt's: nothing stored).
     */
    private Mono<String> storeDetection(CallCommand command, CarrierCallback detection) {
        Mono<String> stored = answeringMachine.record(detection)
                .flatMap(recorded -> {
                    AttemptStatus status = recorded.status();
                    if (recorded.otherCall()) {
                        return Mono.just("other_call");
                    }
                    return status.isTerminal() ? Mono.just("late") : events.emit(command, event -> event
                                    .attempt(detection.attempt())
                                    .status(status)
                                    .previousStatus(status.wire())
                                    .provider(detection.providerStatus(), detection.providerCallId())
                                    .answeredBy(detection.answeredBy()),
                            Retry.max(0)).thenReturn("applied");
                });
        return events.atomically(stored)
                .retryWhen(InfraRetry.brief("answered by"))
                .defaultIfEmpty("repeated");
    }

    /** Counts a callback that never reached {@link #apply} (e.g. a status the carrier does not document). */
    void countUnmapped() {
        count("unknown", Result.IGNORED);
    }

    /**
     * Counts a callback that never reached {@link #apply} because nothing names its attempt: its tag was replaced and
     * no attempt knows its call.
     */
    void countUnknown(CarrierCallback callback) {
        if (callback.isAnsweringMachineResult()) {
            registry.counter("dialer.dispatcher.answering.machine", "answered_by", callback.answeredBy(),
                    "result", Result.UNKNOWN_ATTEMPT.wire()).increment();
        } else {
            count(callback.status().wire(), Result.UNKNOWN_ATTEMPT);
        }
    }

    private Mono<Result> applyTo(CallCommand command, CarrierCallback callback) {
        if (!callback.status().isTerminal()) {
            return move(command, callback, callback.status())
                    .flatMap(changed -> (changed.cancelRequested() ? cancelAgain(callback) : Mono.<Void>empty())
                            .thenReturn(Result.APPLIED))
                    .switchIfEmpty(Mono.defer(() -> otherCall(callback)
                            .map(other -> other ? Result.OTHER_CALL : Result.IGNORED)));
        }
        if (callback.status() == AttemptStatus.COMPLETED && !AnsweredBy.askedFor(command)) {
            // An answered call ends as answered calls end whatever a cancel asked (endsCanceled), and without a
            // detection asked for nobody can have been detected: there is no context to read.
            return classified(command, callback, null);
        }
        return ledger.endContext(callback.requestId(), callback.attempt())
                .retryWhen(InfraRetry.brief("attempt end context"))
                .flatMap(context -> endsCanceled(context.cancelRequested(), callback.status())
                        ? ended(command, asItRang(callback, context.rang()), CANCELLED, context.answeredBy())
                        : classified(command, callback, context.answeredBy()));
    }

    /**
     * A refusal that reads as a capacity rejection after the dial rang is none ({@link #endedAfterRinging}): marked so
     * when a cancel ends the attempt, it frees its trunk slot without shrinking the limit, and the dial stays counted.
     */
    private static CarrierCallback asItRang(CarrierCallback callback, boolean rang) {
        return rang && capacityRejected(callback, CANCELLED) ? callback.afterRinging() : callback;
    }

    /**
     * A call that has just been placed or begun to ring although a cancel reached its request (as the transition's own
     * statement read the request's cancel mark) is cancelled at the carrier again: the cancel's own order may have
     * failed, or crossed the dial before the call had a carrier id. An answered call is never hung up. The callback is
     * applied whatever becomes of the order, without waiting for it (a failure is logged and counted by the
     * {@link CallCanceller}; the next early status, or the cancel's own retries, ask again): the order's outcome may
     * come only after this very status is applied (a SIP call's hang-up waits for its INVITE's outcome, which the
     * call's next step brings, and its steps wait for their statuses to be applied).
     */
    private Mono<Void> cancelAgain(CarrierCallback callback) {
        AttemptStatus status = callback.status();
        boolean early = status == AttemptStatus.INITIATED || status == AttemptStatus.RINGING;
        if (!early || callback.providerCallId() == null) {
            return Mono.empty();
        }
        return Mono.fromRunnable(() -> {
            log.info("request {} attempt {} is {} although a cancel reached it; cancelled at the carrier again",
                    callback.requestId(), callback.attempt(), status.wire());
            canceller.getObject().cancel(new CallRef(callback.requestId(), callback.attempt(),
                            callback.providerCallId()))
                    .subscribe(ignored -> { }, error -> log.warn("request {} attempt {} could not be cancelled again "
                            + "on its {} status: {}", callback.requestId(), callback.attempt(), status.wire(),
                            error.toString()));
        });
    }

    /** How an attempt ends once a cancel decides it: {@code canceled}, without a retry. */
    static final Outcome CANCELLED = new Outcome(Verdict.CANCELED, AttemptStatus.CANCELED);

    /**
     * Whether a cancel decides how the attempt ends: once a cancel reached its request, any end the carrier reports
     * (a 487 after our own cancel above all) is {@code canceled}, except an answered call's: a cancel never hangs up on
     * a person, so a call answered before the cancel could reach the carrier talks on and ends as answered calls end.
     */
    static boolean endsCanceled(boolean cancelRequested, AttemptStatus reported) {
        return cancelRequested && reported != AttemptStatus.COMPLETED;
    }

    /**
     * The carrier's outcome by the table; a capacity rejection is requeued rather than ended, unless the attempt was
     * first queued longer than {@code retry.carrier-unavailable-max-wait} ago: then the carrier has had no room for it
     * that long, and the request ends {@code exhausted} with {@code error.code=capacity} instead of cycling for ever.
     * One after the attempt rang (as the ledger says) is no capacity rejection: its reason is marked
     * {@link OutcomeClassifier#AFTER_RINGING} and it ends the attempt as its code does (a 503 is a transient failure).
     */
    private Mono<Result> classified(CallCommand command, CarrierCallback callback, String answeredBy) {
        Outcome outcome = CLASSIFIER.classify(callback.status(), callback.sipStatus(), callback.sipReason());
        if (outcome.verdict() != Verdict.CAPACITY) {
            return ended(command, callback, outcome, answeredBy);
        }
        return ledger.capacityContext(callback.requestId(), callback.attempt())
                .retryWhen(InfraRetry.brief("attempt capacity context"))
                .flatMap(context -> {
                    if (context.rang()) {
                        return endedAfterRinging(command, callback, answeredBy);
                    }
                    if (retryPolicy.expiresBy(command, clock.instant().plus(pacing.capacityRequeueDelay()))) {
                        // As a retry that could only expire: the request ends now, rather than announcing a dial that
                        // never comes.
                        return ended(command, callback, outcome, answeredBy, RequestEnding.EXPIRES_BEFORE_REQUEUE);
                    }
                    if (!context.queuedAt().isBefore(clock.instant().minus(retry.carrierUnavailableMaxWait()))) {
                        return requeue(command, callback);
                    }
                    return ended(command, callback, outcome, answeredBy);
                })
                .defaultIfEmpty(Result.UNKNOWN_ATTEMPT);
    }

    /**
     * A capacity refusal after the callee's phone rang: requeued under the same attempt it would ring again for one
     * attempt. Marked as the SIP trunk carrier marks it ({@link CarrierCallback#afterRinging}), it ends the attempt as
     * its code does.
     */
    private Mono<Result> endedAfterRinging(CallCommand command, CarrierCallback callback, String answeredBy) {
        CarrierCallback rang = callback.afterRinging();
        return ended(command, rang, CLASSIFIER.classify(rang.status(), rang.sipStatus(), rang.sipReason()),
                answeredBy);
    }

    /**
     * The attempt ends, if the ledger lets the callback end it: the request is retried or ended, and then the trunk
     * slot is freed ({@link #attemptEnded}).
     *
     * @param detected who answered, by an earlier answering-machine detection, if any; only an answered call keeps it
     */
    private Mono<Result> ended(CallCommand command, CarrierCallback callback, Outcome outcome, String detected) {
        return ended(command, callback, outcome, detected, null);
    }

    /**
     * @param instead how the request ends instead of as the outcome says, if not {@code null}: for an outcome that
     *                is not retried ({@link Verdict#CAPACITY}) only
     */
    private Mono<Result> ended(CallCommand command, CarrierCallback callback, Outcome outcome, String detected,
                               RequestEnding instead) {
        // An end the watchdog inferred from the status it claimed may be refused while the attempt goes on (news came
        // meanwhile): such an attempt is forgotten only once its end is committed.
        if (callback.from() == null) {
            openAttempts.ended(callback.requestId(), callback.attempt());
        }
        Instant endedAt = clock.instant();
        // The command on record is the request's first; the attempt that ended is the callback's.
        return retryPolicy.decideCounted(command, callback.attempt(), outcome.verdict(), endedAt)
                .flatMap(retry -> ended(command, callback, outcome, detected, instead, endedAt, retry));
    }

    private Mono<Result> ended(CallCommand command, CarrierCallback callback, Outcome outcome, String detected,
                               RequestEnding instead, Instant endedAt, RetryDecision retry) {
        String answeredBy = outcome.attemptStatus() == AttemptStatus.COMPLETED ? detected : null;
        Transition change = transition(callback, outcome.attemptStatus());
        // A capacity refusal that ends the attempt (its requeue would expire, it waited long enough, or a cancel
        // reached its request) rang nobody: the per-callee cap no longer counts it, nor does the preview, told by the
        // event's reason.
        boolean placedNothing = capacityRejected(callback, outcome);
        UnaryOperator<CallEvent.Builder> details = event -> {
            CallEvent.Builder status = statusDetails(callback, outcome.attemptStatus(), event)
                    .retry(retry.willRetry(), retry.dueAt())
                    .occurredAt(endedAt)
                    .answeredBy(answeredBy);
            return placedNothing ? status.reason(DialGivenBack.CAPACITY) : status;
        };
        if (!retry.willRetry()) {
            // The attempt's end, its event, the request's end and its final event: one statement, so a crash can never
            // leave an ended attempt whose request never gets its final.
            RequestEnding ending = instead != null ? instead
                    : retry.blockedBy() != null ? RequestEnding.blocked(retry.blockedBy())
                    : retry.heldByCap() ? RequestEnding.HELD_BY_CAP_PAST_VALID_UNTIL
                    : retry.expires() ? RequestEnding.EXPIRES_BEFORE_RETRY : RequestEnding.of(outcome);
            Mono<Optional<AttemptStatus>> end = events.endOn(command,
                    placedNothing ? ledger.notPlacedChange(change) : ledger.transitionChange(change), details,
                    ending.status(), finalDetails(callback, ending, answeredBy));
            // An end the cancel would have made canceled (not an answered call's, nor a cancel's own) is refused,
            // all of it undone, when a cancel reached the request since the end's context was read: under the
            // request's lock in the same transaction, so a cancel marked after finds the request ended (too late).
            boolean cancellable = outcome.attemptStatus() != AttemptStatus.COMPLETED && outcome != CANCELLED;
            // An answered call's detection comes to another hook than its end, and may be stored while the end goes
            // on from a context that had none: refused alike, and made again with it, so the final carries it.
            boolean detectable = outcome.attemptStatus() == AttemptStatus.COMPLETED && AnsweredBy.askedFor(command);
            Mono<Void> guard = cancellable ? ledger.notCancelled(callback.requestId())
                    : detectable ? ledger.detectedAsRead(callback.requestId(), callback.attempt(), answeredBy)
                    : null;
            return (guard == null ? end : events.atomically(end.flatMap(previous -> guard.thenReturn(previous))))
                    .retryWhen(InfraRetry.brief("attempt end"))
                    .doOnNext(previous -> {
                        forgetInferred(callback);
                        attemptEnded(callback, outcome);
                        if (ending.status() == FinalStatus.BLOCKED) {
                            retryPolicy.countBlocked(ending.errorCode());
                        }
                    })
                    .map(previous -> Result.APPLIED)
                    .switchIfEmpty(Mono.defer(() -> refused(callback)))
                    .onErrorResume(AttemptLedger.CancelledMeanwhile.class, crossed -> {
                        log.info("{} callback for request {} attempt {} crossed a cancel of the request; it ends "
                                + "canceled", callback.providerStatus(), callback.requestId(), callback.attempt());
                        return ended(command, callback, CANCELLED, detected);
                    })
                    .onErrorResume(AttemptLedger.DetectedMeanwhile.class, crossed -> {
                        log.info("{} callback for request {} attempt {} crossed its answering-machine result {}; it "
                                + "ends with it", callback.providerStatus(), callback.requestId(), callback.attempt(),
                                crossed.answeredBy());
                        return ended(command, callback, outcome, crossed.answeredBy(), instead, endedAt, retry);
                    });
        }
        // The attempt's end schedules the next attempt in the same statement; its event commits with them, and names
        // the time the retry's row holds: a later wait a copy of the next attempt wrote meanwhile is kept.
        return events.atomically(ledger.transitionAndSchedule(change, retry.nextAttempt(), retry.dueAt())
                        .flatMap(scheduled -> ledger.notCancelled(callback.requestId()).thenReturn(scheduled))
                        .flatMap(scheduled -> events.emit(command, event -> details.apply(event)
                                        .retry(true, scheduled.dueAt())
                                        .previousStatus(scheduled.previous().wire()), Retry.max(0))
                                .thenReturn(scheduled)))
                .retryWhen(InfraRetry.brief("attempt end"))
                .doOnNext(scheduled -> {
                    retryMetrics.scheduled();
                    forgetInferred(callback);
                    attemptEnded(callback, outcome);
                })
                .map(scheduled -> Result.APPLIED)
                .switchIfEmpty(Mono.defer(() -> refused(callback)))
                .onErrorResume(AttemptLedger.CancelledMeanwhile.class, cancelled -> {
                    log.info("{} callback for request {} attempt {} crossed a cancel of the request; it ends canceled, "
                            + "not retried", callback.providerStatus(), callback.requestId(), callback.attempt());
                    return ended(command, callback, CANCELLED, detected);
                });
    }

    /** An inferred end ({@link CarrierCallback#from}) was committed: the attempt is forgotten now, not before. */
    private void forgetInferred(CarrierCallback callback) {
        if (callback.from() != null) {
            openAttempts.ended(callback.requestId(), callback.attempt());
        }
    }

    /**
     * The attempt's end is committed: its trunk slot frees (a capacity rejection that ended the request also halves
     * the trunk's limit). Only now, and only here: a callback the ledger refused — a late one of an earlier dial,
     * which a dispatcher that does not know the attempt cannot tell apart, or a repeat — must not free the slot the
     * dial in flight holds under the same key, or the trunk would carry more calls than its limit.
     */
    private void attemptEnded(CarrierCallback callback, Outcome outcome) {
        if (capacityRejected(callback, outcome)) {
            if (outcome.verdict() == Verdict.CAPACITY) {
                log.warn("request {} attempt {} met the carrier's capacity limit and is not requeued (waited longer "
                        + "than {}, or past its valid_until by then); ended", callback.requestId(), callback.attempt(),
                        retry.carrierUnavailableMaxWait());
            }
            lanes.trunks().capacityRejected(slotKey(callback), callback.carrier());
            registry.counter("dialer.dispatcher.capacity.rejections").increment();
        } else {
            lanes.trunks().release(slotKey(callback), carrierCarried(callback, outcome));
        }
        outcomes.ended(outcome.attemptStatus(), callback.sipStatus());
    }

    /**
     * Whether the carrier refused the call for capacity, whatever the attempt's end became: one whose request a cancel
     * reached meanwhile ends {@code canceled}, but the refusal still tells the trunk's limit is too high, and halves
     * it as any other does (decision 0011). Only such a cancel puts another outcome in the classifier's place, so only
     * a {@code canceled} end is classified again.
     */
    static boolean capacityRejected(CarrierCallback callback, Outcome outcome) {
        return outcome.verdict() == Verdict.CAPACITY || (outcome.verdict() == Verdict.CANCELED
                && callback.status().isTerminal()
                && CLASSIFIER.classify(callback.status(), callback.sipStatus(), callback.sipReason()).verdict()
                        == Verdict.CAPACITY);
    }

    /**
     * Whether the attempt's end shows the carrier had room for the call, which grows the trunk's limit back (decision
     * 0011): the callee's side answered it, one way or another (answered, busy, no answer, declined, an unknown
     * number), or it was cancelled. A 5xx from the carrier, or a failure with no SIP code (nothing answered), shows no
     * room: the limit stays where a capacity rejection left it. Nor does an end the watchdog inferred for a call the
     * carrier never rang ({@link CarrierCallback#from} queued or initiated): the carrier knows no such call.
     */
    static boolean carrierCarried(CarrierCallback callback, Outcome outcome) {
        if (callback.from() == AttemptStatus.QUEUED || callback.from() == AttemptStatus.INITIATED) {
            return false;
        }
        Integer sip = callback.sipStatus();
        if (sip != null && sip >= 100 && sip <= 699) {
            return sip < 500 || sip >= 600;
        }
        // No SIP code (or none a SIP response has, as a 0 the carrier may write for none).
        return outcome.attemptStatus() != AttemptStatus.FAILED;
    }

    /**
     * The ledger refused the callback's end or requeue: a repeat, or one of an earlier dial than the one in flight. A
     * slot is held under the attempt's key only while a dial of it is in flight, so when none is (the attempt has
     * ended, or waits in the schedule) a slot still held there from before is freed: that of an end or requeue whose
     * commit went through but whose answer was lost, and whose retry the ledger then refused. Without that it would be
     * held until {@code slot-time-limit}. When a dial is in flight, its slot stays; so does one a lane took since the
     * attempt was requeued, for its next dial, before that dial's claim (a repeated capacity rejection of the dial
     * before arriving then).
     */
    private Mono<Result> refused(CarrierCallback callback) {
        return otherCall(callback).flatMap(other -> freeStaleSlot(callback)
                .map(result -> other ? Result.OTHER_CALL : result));
    }

    /**
     * Whether the ledger refused the carrier's callback because it is bound to another call than the one the attempt
     * knows ({@link CarrierCallback#callBound}): its tag, which any call's application can write, names an attempt
     * that is not its call's. Logged. Asked only after a refusal, of a bound callback that names its call. The report
     * of a SIP call taken over is the dialer's own, about a row that outlived its dial: refused as late, as before.
     */
    private Mono<Boolean> otherCall(CarrierCallback callback) {
        if (!callback.callBound() || callback.takenOver() || callback.providerCallId() == null) {
            return Mono.just(false);
        }
        return ledger.providerCallId(callback.requestId(), callback.attempt())
                .retryWhen(InfraRetry.brief("attempt call id"))
                .filter(known -> !known.equals(callback.providerCallId()))
                .map(known -> {
                    log.warn("{} callback of call {} names request {} attempt {}, whose call is {}; refused",
                            callback.providerStatus(), callback.providerCallId(), callback.requestId(),
                            callback.attempt(), known);
                    return true;
                })
                .onErrorResume(error -> Mono.just(false))
                .defaultIfEmpty(false);
    }

    /** {@link #refused}'s slot: freed when no dial of the attempt is in flight. */
    private Mono<Result> freeStaleSlot(CarrierCallback callback) {
        return ledger.noDialInFlight(callback.requestId(), callback.attempt())
                .retryWhen(InfraRetry.brief("attempt dial in flight"))
                .onErrorResume(error -> Mono.just(Optional.empty()))
                .map(standing -> {
                    boolean noDial = standing.isPresent();
                    if (noDial && standing.get().ended()) {
                        lanes.trunks().release(slotKey(callback), false);
                    } else if (noDial) {
                        lanes.trunks().releaseTakenBefore(slotKey(callback), standing.get().sinceNanos());
                    }
                    log.debug("{} callback for request {} attempt {} dial {} changed nothing: {}",
                            callback.providerStatus(), callback.requestId(), callback.attempt(),
                            callback.dial() == null ? "unnamed" : callback.dial(),
                            noDial ? "no dial of the attempt is in flight (its slot, if still held, is freed)"
                                    : "another dial of the attempt is in flight and keeps its slot");
                    return Result.IGNORED;
                });
    }

    /**
     * A capacity rejection is not an attempt: the attempt goes back to the schedule under the same number (reason
     * {@code capacity}, due after {@code capacity-requeue-delay}), a {@code call.deferred} event with
     * {@code reason=capacity} and {@code next_attempt_at} announces it, and the trunk's concurrency limit shrinks.
     * A repeated rejection changes nothing.
     */
    private Mono<Result> requeue(CallCommand command, CarrierCallback callback) {
        Instant due = clock.instant().plus(pacing.capacityRequeueDelay());
        Mono<Boolean> requeued = ledger.requeueForCapacity(callback.requestId(), callback.attempt(),
                        callback.providerCallId(), callback.dial(), due)
                .filter(Boolean::booleanValue)
                // As a retry: a cancel that reached the request since it was dialled ends it, not a requeue.
                .flatMap(done -> ledger.notCancelled(callback.requestId()).thenReturn(done))
                .flatMap(done -> events.deferred(command, DialGivenBack.CAPACITY, due, event -> event
                                .attempt(callback.attempt())
                                .provider(callback.providerStatus(), callback.providerCallId())
                                .sip(callback.sipStatus(), callback.sipReason()))
                        .thenReturn(done));
        return events.atomically(requeued)
                .retryWhen(InfraRetry.brief("capacity requeue"))
                .doOnNext(done -> {
                    openAttempts.ended(callback.requestId(), callback.attempt());
                    lanes.trunks().capacityRejected(slotKey(callback), callback.carrier());
                    registry.counter("dialer.dispatcher.capacity.rejections").increment();
                })
                .map(published -> Result.APPLIED)
                // The ledger refuses a dial that rang: its ringing may have been recorded since it was read.
                .switchIfEmpty(Mono.defer(() -> ledger.capacityContext(callback.requestId(), callback.attempt())
                        .retryWhen(InfraRetry.brief("attempt capacity context"))
                        .filter(AttemptLedger.CapacityContext::rang)
                        .flatMap(rang -> endedAfterRinging(command, callback, null))
                        .switchIfEmpty(Mono.defer(() -> refused(callback)))))
                .onErrorResume(AttemptLedger.CancelledMeanwhile.class, cancelled -> {
                    log.info("capacity rejection of request {} attempt {} crossed a cancel of the request; it ends "
                            + "canceled, not requeued", callback.requestId(), callback.attempt());
                    return ended(command, callback, CANCELLED, null);
                });
    }

    private static String slotKey(CarrierCallback callback) {
        return TrunkGate.slotKey(callback.requestId(), callback.attempt());
    }

    /**
     * The guarded transition and, if it happened, its {@code call.status} event, atomically, in a statement that may
     * carry other calls' non-final changes too ({@link StatusMoves}); emits what the change found.
     */
    private Mono<CallEvents.Changed> move(CallCommand command, CarrierCallback callback, AttemptStatus status) {
        return moves.move(command, transition(callback, status), event -> statusDetails(callback, status, event))
                .retryWhen(InfraRetry.brief("attempt transition"));
    }

    /** What a {@code call.status} event for {@code status} says about the callback that brought it. */
    private static CallEvent.Builder statusDetails(CarrierCallback callback, AttemptStatus status,
                                                   CallEvent.Builder event) {
        return withError(callback, event
                .attempt(callback.attempt())
                .status(status)
                .provider(callback.providerStatus(), callback.providerCallId())
                .sip(callback.sipStatus(), callback.sipReason())
                .durationSeconds(callback.durationSeconds()));
    }

    /** The dialer's own reason for ending the attempt, if it ended it (the reason phrase says more). */
    private static CallEvent.Builder withError(CarrierCallback callback, CallEvent.Builder event) {
        return callback.errorCode() == null ? event : event.error(callback.errorCode(), callback.sipReason());
    }

    private static Transition transition(CarrierCallback callback, AttemptStatus status) {
        return new Transition(callback.requestId(), callback.attempt(), status, callback.providerStatus(),
                callback.providerCallId(), callback.sipStatus(), callback.sipReason(), callback.dial(),
                callback.callBound(), callback.from());
    }

    /** What the request's {@code call.final} says when the callback's attempt ends it. */
    private static UnaryOperator<CallEvent.Builder> finalDetails(CarrierCallback callback, RequestEnding ending,
                                                                 String answeredBy) {
        return event -> {
            event.attempt(callback.attempt())
                    .provider(callback.providerStatus(), callback.providerCallId())
                    .sip(callback.sipStatus(), callback.sipReason())
                    .durationSeconds(callback.durationSeconds())
                    .answeredBy(answeredBy);
            if (ending.errorCode() == null && callback.errorCode() != null) {
                return event.error(callback.errorCode(), callback.sipReason());
            }
            if (ending.status() == FinalStatus.EXPIRED || ending.status() == FinalStatus.BLOCKED) {
                // As the dial-time policy's expiry or block says it.
                event.reason(ending.errorCode());
            }
            return ending.errorCode() == null ? event : event.error(ending.errorCode(), ending.errorMessage());
        };
    }

    private void count(String status, Result result) {
        registry.counter("dialer.dispatcher.callbacks", "status", status, "result", result.wire()).increment();
    }

    /**
     * How a request ends when its attempt ends and no further attempt follows.
     *
     * @param status       the final status
     * @param errorCode    {@code error.code} of the final event, if any
     * @param errorMessage {@code error.message} of the final event, if any
     */
    record RequestEnding(FinalStatus status, String errorCode, String errorMessage) {

        /** A retryable attempt whose next would not be due before the request's {@code valid_until}. */
        static final RequestEnding EXPIRES_BEFORE_RETRY = new RequestEnding(FinalStatus.EXPIRED, "valid_until",
                "valid_until passes before the next attempt could be made");

        /** A retry the callee's per-callee cap would hold until past the request's {@code valid_until}. */
        static final RequestEnding HELD_BY_CAP_PAST_VALID_UNTIL = new RequestEnding(FinalStatus.EXPIRED,
                "valid_until", "valid_until passes before the callee's daily cap (and the calling window after it) "
                + "lets the next attempt be made");

        /** A capacity rejection whose requeue would not be due before the request's {@code valid_until}. */
        static final RequestEnding EXPIRES_BEFORE_REQUEUE = new RequestEnding(FinalStatus.EXPIRED, "valid_until",
                "valid_until passes before the call could be placed again");

        /**
         * A retryable attempt whose next the dial-time policy would block now ({@code reason}): the number was put on
         * the DNC list while the attempt ran. Said as the policy says a block at dial time.
         */
        static RequestEnding blocked(String reason) {
            return new RequestEnding(FinalStatus.BLOCKED, reason, DialGate.describe(reason));
        }

        static RequestEnding of(Outcome outcome) {
            return switch (outcome.verdict()) {
                case ANSWERED -> new RequestEnding(FinalStatus.ANSWERED, null, null);
                case RETRYABLE, DECLINED -> new RequestEnding(FinalStatus.EXHAUSTED, null, null);
                case UNREACHABLE -> new RequestEnding(FinalStatus.FAILED, null, null);
                case CAPACITY -> new RequestEnding(FinalStatus.EXHAUSTED, DialGivenBack.CAPACITY,
                        "the carrier had no capacity for the call");
                case CANCELED -> new RequestEnding(FinalStatus.CANCELED, null, null);
            };
        }
    }
}
