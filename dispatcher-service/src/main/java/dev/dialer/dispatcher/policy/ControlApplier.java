package dev.dialer.dispatcher.policy;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.CarrierOptions;
import dev.dialer.common.contract.EventType;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.dispatcher.carrier.CallCanceller;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.dispatcher.carrier.CarrierProperties;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.resilience.InfraRetry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Acts on cancels, pauses and resumes as they are read from {@code dialer.call.control}, for the calls the dial-time
 * gate will not see again: those waiting in {@code dispatch.schedule} and those live at the carrier. (Calls still
 * queued in {@code dialer.call.commands} meet the control at the gate.)
 *
 * <ul>
 *   <li>request cancel: the request is marked cancelled, so no attempt of it is recorded from now on; a waiting
 *       request ends {@code canceled} at once; a call still being placed or ringing is cancelled at the carrier, and
 *       its end is reported {@code canceled} when the carrier's callback comes; one the dispatcher has not seen yet
 *       is cancelled by the gate when its command arrives ({@code pending}). A {@code pending} cancel is acted on
 *       again by the next dispatcher that reads it: the request's owner may have recorded and dialled it meanwhile,
 *       its view not having read the cancel yet, and the call is then cancelled at the carrier as any other. An order the carrier did not take (it
 *       could not be reached, or refused it) is given again, backing off, until the call ends, is answered, or has
 *       rung its ring timeout; a call whose attempt ended while the cancel was on its way is looked at again as a
 *       waiting request is (its retry, if any, is dropped);</li>
 *   <li>too late: a request that has ended already (also one that ended otherwise while the cancel was on its way)
 *       is left as it is, and one whose call has been answered is not hung up (nobody is cut off mid-sentence
 *       because a cancel crossed the answer) and ends as answered calls end. Either way one
 *       {@code call.cancel_rejected} event (reason {@code too_late}, status {@code in-progress} or the final status)
 *       says so, counted {@code dialer.dispatcher.controls{outcome=too_late}};</li>
 *   <li>campaign cancel: the same for every open request of the campaign accepted up to the cancel; once settled,
 *       swept again by each dispatcher that reads it ({@link #sweep});</li>
 *   <li>campaign resume: the campaign's paused calls become due at once, and on each dispatcher once more
 *       {@code release-again-after} after it read the resume ({@link #releaseLater}); a pause needs no action here.</li>
 * </ul>
 *
 * <p>Delivery: every dispatcher reads every control, from the topic's beginning at each start; the first to claim a
 * control in {@code dispatch.applied_controls} acts on it, once, renewing its claim while it acts. The others look at
 * the control again once a claim's lease ({@code control-claim-lease}) has passed: a claimant that stopped mid-way
 * (its claim no longer renewed) is taken over then, by a dispatcher that runs on or one that restarted. A failed
 * action (a hang-up still refused once the call's ring timeout has passed among them) gives the claim back, and the
 * dispatcher that gave it back looks at it again itself, after a claim's lease and then twice as long after each
 * failure, up to {@link #MAX_LOOK_AGAIN} (one dispatcher alone would otherwise leave it until its next start; another
 * that found it claimed meanwhile looks again too, and the claim lets one act); the gate still applies the control
 * to every call it sees, and a call that rings
 * although its request was cancelled is cancelled again by the callback path. A
 * {@code call.cancel_rejected} event's id is derived from the control's id and the request's and recorded in
 * {@code dispatch.cancel_rejections} by the statement that stores the event, so a control acted on again finds the id
 * recorded and adds no event: one per control record and request, for as long as the request is in the ledger.
 */
@Component
class ControlApplier {

    static final String APPLIED = "applied";
    static final String HUNG_UP = "hung_up";
    static final String TOO_LATE = "too_late";
    static final String PENDING = "pending";
    static final String FAILED = "failed";
    static final List<String> OUTCOMES = List.of(APPLIED, HUNG_UP, TOO_LATE, PENDING, FAILED);
    /** The {@code reason} of a {@code call.cancel_rejected} event. */
    static final String TOO_LATE_REASON = "too_late";
    private static final Duration PROVIDER_ID_POLL = Duration.ofMillis(100);
    private static final Duration HANG_UP_BACKOFF = Duration.ofMillis(250);
    private static final Duration HANG_UP_MAX_BACKOFF = Duration.ofSeconds(5);
    /**
     * How long one statement (or one order to the carrier) of a control's work may take. A connection that hangs
     * without failing (a primary gone without a reset) would otherwise hold the work for good while its claim, renewed
     * on other connections, never lapses: no other dispatcher would act on the control, and the request might ring on
     * unmarked. Timed out, a statement is tried again where a retry is set, or the control is given back.
     */
    static final Duration STATEMENT_TIMEOUT = Duration.ofSeconds(30);
    /** How long reading the ids of a campaign's open requests may take (one statement, many rows). */
    static final Duration OPEN_REQUESTS_TIMEOUT = Duration.ofMinutes(5);
    private static final int CAMPAIGN_CONCURRENCY = 8;
    /** The longest wait before a control given back after a failure is looked at again. */
    static final Duration MAX_LOOK_AGAIN = Duration.ofMinutes(15);

    private static final Logger log = LoggerFactory.getLogger(ControlApplier.class);

    /** The looks again waiting for their time (see {@link #lookAgain}), disposed when the controls stop. */
    private final Disposable.Composite looks = Disposables.composite();

    private final PolicyViews views;
    private final PolicyLedger ledger;
    private final CallEvents events;
    private final CallCanceller canceller;
    private final PolicyProperties properties;
    private final PolicyMetrics metrics;
    private final Clock clock;
    private final CarrierProperties carrier;

    ControlApplier(PolicyViews views, PolicyLedger ledger, CallEvents events, CallCanceller canceller,
                   PolicyProperties properties, PolicyMetrics metrics, Clock clock, CarrierProperties carrier) {
        this.carrier = carrier;
        this.views = views;
        this.ledger = ledger;
        this.events = events;
        this.canceller = canceller;
        this.properties = properties;
        this.metrics = metrics;
        this.clock = clock;
    }

    /**
     * Acts on each control read, {@code control-concurrency} at a time; runs until cancelled, never errors. A control
     * found claimed by another dispatcher is looked at again once a claim's lease has passed, without holding a place
     * among those acted upon meanwhile.
     */
    Flux<Void> run() {
        return views.controls()
                .flatMap(control -> apply(control).then(Mono.<Void>fromRunnable(() -> releaseLater(control))),
                        properties.controlConcurrency())
                .doFinally(signal -> looks.dispose());
    }

    Mono<Void> apply(CallControl control) {
        return apply(control, 0);
    }

    /** Acts on the control; {@code failures}: how many times in a row this dispatcher's work on it failed. */
    private Mono<Void> apply(CallControl control, int failures) {
        String requestId = control.scope() == CallControl.Scope.REQUEST ? control.requestId() : null;
        return bounded(ledger.claimControl(control.controlId(), requestId, properties.controlClaimLease()))
                .retryWhen(InfraRetry.untilRecovered("claim control"))
                .onErrorResume(error -> notClaimed(control, error, failures + 1))
                .flatMap(claim -> switch (claim) {
                    case CLAIMED -> acted(control, failures);
                    case HELD -> Mono.fromRunnable(() -> lookAgain(control, properties.controlClaimLease(), failures));
                    case SETTLED -> isCampaignCancel(control) ? sweep(control)
                            : isCampaignResume(control) ? releaseAgain(control) : Mono.<Void>empty();
                });
    }

    /**
     * A campaign resume read releases the campaign's paused calls once more {@code release-again-after} later, on each
     * dispatcher, while it is still the campaign's latest control: a gate here that read the campaign as paused just
     * before the resume reached this dispatcher's view writes its call as paused after the release (on the dispatcher
     * that acted on the resume too), and the call would wait a {@code pause-recheck}.
     */
    private void releaseLater(CallControl control) {
        if (isCampaignResume(control)) {
            later(properties.releaseAgainAfter(), () -> releaseAgain(control));
        }
    }

    private static boolean isCampaignCancel(CallControl control) {
        return control.scope() == CallControl.Scope.CAMPAIGN && control.action() == CallControl.Action.CANCEL;
    }

    private static boolean isCampaignResume(CallControl control) {
        return control.scope() == CallControl.Scope.CAMPAIGN && control.action() == CallControl.Action.RESUME;
    }

    /**
     * A resume settled by another dispatcher (or by this one before it restarted) releases the campaign's paused calls
     * again on each dispatcher that reads it, while it is still the campaign's latest control here: this dispatcher's
     * view may have been a moment behind the one that acted on it, and meanwhile its scheduler kept a released call
     * paused for another {@code pause-recheck}, or its gate parked a new one as paused. One indexed update; a release
     * that finds nothing is not counted as acting on the control.
     */
    private Mono<Void> releaseAgain(CallControl control) {
        CallControl latest = views.campaignControl(control.accountId(), control.campaign());
        if (latest == null || !latest.controlId().equals(control.controlId())) {
            return Mono.empty();
        }
        return bounded(ledger.releasePaused(control.accountId(), control.campaign(), clock.instant()))
                .retryWhen(InfraRetry.brief("release paused calls"))
                .doOnNext(released -> {
                    if (released > 0) {
                        log.info("campaign resume {} released again: {} paused calls", control.controlId(),
                                released);
                    }
                })
                .onErrorResume(error -> {
                    log.warn("campaign resume {} could not release paused calls again: {}", control.controlId(),
                            error.toString());
                    return Mono.empty();
                })
                .then();
    }

    /**
     * A campaign cancel settled before (by another dispatcher, or by this one before it restarted) is swept again by
     * each dispatcher that reads it: the campaign's open requests accepted before it are cancelled. The caller ID's
     * owner may have recorded and dialled one with a view of the control topic a moment behind the dispatcher that
     * acted on the cancel (decision 0110). A sweep that finds no open request costs one query; it is not counted as
     * acting on the control.
     */
    private Mono<Void> sweep(CallControl control) {
        return cancelOpenRequests(control)
                .doOnNext(outcomes -> {
                    if (!outcomes.isEmpty()) {
                        log.info("campaign cancel {} swept again: {} open requests reached", control.controlId(),
                                outcomes.size());
                    }
                })
                .onErrorResume(error -> {
                    log.warn("campaign cancel {} could not be swept again: {}", control.controlId(), error.toString());
                    return Mono.empty();
                })
                .then();
    }

    /** Acts on a control this dispatcher claimed, renewing the claim meanwhile, and settles it. */
    private Mono<Void> acted(CallControl control, int failures) {
        Duration lease = properties.controlClaimLease();
        return Mono.defer(() -> {
                    Disposable renewing = Flux.interval(lease.dividedBy(3), lease.dividedBy(3))
                            .onBackpressureDrop()
                            .concatMap(tick -> bounded(ledger.renewControl(control.controlId()))
                                    .onErrorResume(error -> {
                                        log.warn("claim on control {} not renewed: {}", control.controlId(),
                                                error.toString());
                                        return Mono.empty();
                                    }))
                            .subscribe();
                    return act(control).doFinally(signal -> renewing.dispose());
                })
                .flatMap(outcome -> bounded(ledger.settleControl(control.controlId(), outcome)).thenReturn(outcome))
                .doOnNext(outcome -> metrics.controlled(control.action().wire(), outcome))
                .onErrorResume(error -> giveBack(control, error, failures + 1))
                .then();
    }

    /**
     * Looks at the control again after {@code delay}: by then its claimant settled it, or stopped (its claim lapsed:
     * taken over here), or gave it back after a failure (acted on here).
     */
    private void lookAgain(CallControl control, Duration delay, int failures) {
        later(delay, () -> apply(control, failures));
    }

    /** Runs {@code work} after {@code delay}, unless the controls stop first. */
    private void later(Duration delay, Supplier<Mono<Void>> work) {
        AtomicReference<Disposable> look = new AtomicReference<>();
        Disposable started = Mono.delay(delay)
                .then(Mono.defer(work))
                .doFinally(signal -> {
                    Disposable done = look.get();
                    if (done != null) {
                        looks.remove(done);
                    }
                })
                .subscribe();
        look.set(started);
        if (started.isDisposed() || !looks.add(started)) {
            // Ended already, or the controls stopped meanwhile (then adding disposed it).
            looks.remove(started);
        }
    }

    private Mono<String> act(CallControl control) {
        if (control.scope() == CallControl.Scope.REQUEST) {
            return cancelRequest(control, control.requestId());
        }
        return switch (control.action()) {
            case CANCEL -> cancelCampaign(control);
            case RESUME -> bounded(ledger.releasePaused(control.accountId(), control.campaign(), clock.instant()))
                    // Its rows are locked in no set order, and a scheduler tick may lock some of them meanwhile: a
                    // deadlock PostgreSQL breaks is tried again here rather than left to the control's next look.
                    .retryWhen(InfraRetry.brief("release paused calls"))
                    .doOnNext(released -> log.info("campaign resumed: {} paused calls released", released))
                    .thenReturn(APPLIED);
            case PAUSE -> Mono.just(APPLIED);
        };
    }

    /**
     * Cancels each open request of the campaign; one that fails (its call could not be cancelled at the carrier)
     * does not stop the others, and gives the control back once they are done, so it is acted on again.
     */
    private Mono<String> cancelCampaign(CallControl control) {
        return cancelOpenRequests(control)
                .flatMap(outcomes -> {
                    long failed = outcomes.stream().filter(FAILED::equals).count();
                    log.info("campaign cancelled: {} open requests reached, {} failed", outcomes.size(), failed);
                    return failed == 0 ? Mono.just(APPLIED) : Mono.error(new IllegalStateException(
                            failed + " of the campaign's open requests could not be cancelled"));
                });
    }

    /**
     * Cancels each open request of the campaign accepted up to the cancel; emits each one's outcome. Their ids are read
     * first, within {@link #OPEN_REQUESTS_TIMEOUT} (a read on a connection that hangs would hold the control for
     * good), then cancelled: a stream read while they are cancelled cannot be bounded so, since its rows wait for the
     * cancels, which may take minutes.
     */
    private Mono<List<String>> cancelOpenRequests(CallControl control) {
        return ledger.openRequestsOf(control.accountId(), control.campaign())
                .filter(command -> CallControls.acceptedBy(command.createdAt(), control.issuedAt()))
                .map(CallCommand::requestId)
                .collectList()
                .timeout(OPEN_REQUESTS_TIMEOUT)
                .flatMapMany(Flux::fromIterable)
                .flatMap(requestId -> cancelRequest(control, requestId)
                        .onErrorResume(error -> {
                            log.warn("campaign cancel could not cancel request {}: {}", requestId,
                                    error.toString());
                            return Mono.just(FAILED);
                        }), CAMPAIGN_CONCURRENCY)
                .collectList();
    }

    /**
     * Marks the request cancelled, then ends it if it waits, or ends its live call at the carrier; tells the cancel
     * came too late when the request ended already or its call is answered.
     */
    private Mono<String> cancelRequest(CallControl control, String requestId) {
        return bounded(ledger.markCancelRequested(requestId))
                .flatMap(target -> target.tooLate()
                        ? tooLate(control, requestId, target)
                        : endOrHangUp(control, requestId))
                .defaultIfEmpty(PENDING);
    }

    private Mono<String> tooLate(CallControl control, String requestId, PolicyLedger.CancelTarget target) {
        if (FinalStatus.CANCELED.wire().equals(target.finalStatus())) {
            // Cancelled already (by the gate, when this cancel was pending, or by this very control acted on before):
            // nothing was refused.
            log.info("cancel of request {}: it ended canceled already", requestId);
            return Mono.just(APPLIED);
        }
        if (!target.finalStatus().isEmpty()) {
            log.info("cancel of request {} came too late: it ended {}", requestId, target.finalStatus());
            return reject(control, requestId, target.lastAttempt(), target.finalStatus());
        }
        log.info("cancel of request {} came too late: attempt {} is answered", requestId, target.answeredAttempt());
        return reject(control, requestId, target.answeredAttempt(), AttemptStatus.IN_PROGRESS.wire());
    }

    /**
     * Stores the request's {@code call.cancel_rejected} event under an id derived from the control and the request,
     * in one statement with the id's row in {@code dispatch.cancel_rejections}: one event however often the control is
     * acted on (the statement stores nothing when the id is recorded). The outbox's unique {@code event_id} still
     * refuses an id whose event waits to be published but was stored without its row (by an older version).
     */
    private Mono<String> reject(CallControl control, String requestId, Integer attempt, String status) {
        String eventId = CancelRejections.eventId(control.controlId(), requestId);
        return bounded(ledger.command(requestId))
                .flatMap(command -> bounded(events.emitOn(command, ledger.cancelRejection(requestId, eventId),
                                event -> event
                                        .eventId(eventId)
                                        .type(EventType.CANCEL_REJECTED)
                                        .attempt(attempt == null ? command.attempt() : attempt)
                                        .status(status)
                                        .reason(TOO_LATE_REASON)))
                        .retryWhen(InfraRetry.untilRecovered("cancel rejected event"))
                        .switchIfEmpty(Mono.fromRunnable(() -> log.debug(
                                "cancel rejection {} of request {} was stored before", eventId, requestId))))
                .onErrorResume(DataIntegrityViolationException.class, refused -> {
                    log.debug("cancel rejection {} of request {} not stored: its event waits in the outbox, or the "
                            + "request has left the ledger: {}", eventId, requestId, refused.toString());
                    return Mono.empty();
                })
                .thenReturn(TOO_LATE);
    }

    private Mono<String> endOrHangUp(CallControl control, String requestId) {
        return bounded(ledger.liveAttempts(requestId).collectList())
                .flatMap(live -> live.isEmpty()
                        ? endWaiting(control, requestId)
                        : Flux.fromIterable(live).concatMap(attempt -> endLive(control, attempt)).last());
    }

    /**
     * No call is live: the request waits (or is between attempts), so it ends here; unless it ended otherwise while
     * the cancel was on its way (an attempt's end that crossed the cancel), which makes the cancel too late.
     */
    private Mono<String> endWaiting(CallControl control, String requestId) {
        return bounded(ledger.waitingCommand(requestId))
                // Each try bounded, not the whole: an outage is waited out, as before, a hung try is tried again.
                .flatMap(command -> events.finishOnce(command, FinalStatus.CANCELED, event -> event,
                        InfraRetry.untilRecovered("cancel final"), STATEMENT_TIMEOUT))
                .then(bounded(ledger.dropWaits(requestId)))
                // Marking again keeps the mark as it is, and tells how the request ended.
                .then(bounded(ledger.markCancelRequested(requestId)))
                .flatMap(target -> target.tooLate() && !FinalStatus.CANCELED.wire().equals(target.finalStatus())
                        ? tooLate(control, requestId, target)
                        : Mono.just(APPLIED))
                .defaultIfEmpty(APPLIED);
    }

    /**
     * Cancels a live call at the carrier once the carrier's id of it is known (it may be being placed right now); a
     * call answered in the meantime is left to talk, and the cancel withdrawn: too late. An order that fails (the
     * carrier could not be reached or refused it, or no id came within {@code hang-up-wait}) is given again, backing
     * off, as long as the call may still ring: until its ring timeout, counted from the cancel (plus
     * {@code hang-up-wait} for a call that was being placed then), has passed; the carrier ends an unanswered call
     * itself by then. After that the error gives the control back.
     */
    private Mono<String> endLive(CallControl control, PolicyLedger.LiveAttempt attempt) {
        Instant cancelled = control.issuedAt() != null ? control.issuedAt() : clock.instant();
        return bounded(ledger.command(attempt.requestId()))
                .map(this::ringTimeout)
                .defaultIfEmpty(carrier.ringTimeout())
                .flatMap(ring -> Mono.defer(() -> endLiveOnce(control, attempt))
                        .retryWhen(whileItMayRing(attempt, cancelled.plus(ring).plus(properties.hangUpWait()))));
    }

    private Mono<String> endLiveOnce(CallControl control, PolicyLedger.LiveAttempt attempt) {
        return withProviderId(attempt)
                .flatMap(live -> live.map(found -> found.status() == AttemptStatus.IN_PROGRESS
                                ? answeredMeanwhile(control, found)
                                : hangUpAtCarrier(control, found))
                        .orElseGet(() -> endedMeanwhile(control, attempt)));
    }

    /**
     * The attempt ended (or went back to wait for a carrier) after the request's live attempts were read: the
     * request is looked at again as one with no live call, so a retry it was given meanwhile is dropped and it ends
     * {@code canceled}, or the cancel is too late for the end it had.
     */
    private Mono<String> endedMeanwhile(CallControl control, PolicyLedger.LiveAttempt attempt) {
        log.info("cancel of request {}: attempt {} ended while the cancel was on its way", attempt.requestId(),
                attempt.attempt());
        return endWaiting(control, attempt.requestId());
    }

    /** How long the call may ring before the carrier ends it: the command's own {@code timeout}, else the default. */
    private Duration ringTimeout(CallCommand command) {
        Long seconds = CarrierOptions.seconds(command.carrierOptions(), "timeout");
        return seconds != null ? Duration.ofSeconds(seconds) : carrier.ringTimeout();
    }

    private Retry whileItMayRing(PolicyLedger.LiveAttempt attempt, Instant giveUpAt) {
        return Retry.backoff(Long.MAX_VALUE, HANG_UP_BACKOFF)
                .maxBackoff(HANG_UP_MAX_BACKOFF)
                .filter(error -> clock.instant().isBefore(giveUpAt))
                .doBeforeRetry(signal -> log.warn("cancel of request {} attempt {} failed (try {}); trying again "
                                + "until {}: {}", attempt.requestId(), attempt.attempt(), signal.totalRetries() + 1,
                        giveUpAt, signal.failure().toString()));
    }

    private Mono<String> answeredMeanwhile(CallControl control, PolicyLedger.LiveAttempt answered) {
        log.info("cancel of request {} came too late: attempt {} was answered meanwhile", answered.requestId(),
                answered.attempt());
        return bounded(ledger.withdrawCancel(answered.requestId()))
                .then(reject(control, answered.requestId(), answered.attempt(), AttemptStatus.IN_PROGRESS.wire()));
    }

    /**
     * The carrier is asked to end the call (the routing carrier finds the one that placed it); a call that ended in
     * the meantime is left alone, and its own final callback settles the request. An order that could not be given is
     * an error, never taken for a call that is over.
     */
    private Mono<String> hangUpAtCarrier(CallControl control, PolicyLedger.LiveAttempt live) {
        return bounded(canceller.cancel(new CallRef(live.requestId(), live.attempt(), live.providerCallId())))
                .defaultIfEmpty(false)
                // Answered between the ledger's read and the carrier's: a person is on the line, the cancel is late.
                .flatMap(answered -> answered ? answeredMeanwhile(control, live) : Mono.just(HUNG_UP))
                .doOnNext(outcome -> log.info("cancel of request {} attempt {}: {} at the carrier", live.requestId(),
                        live.attempt(), outcome));
    }

    /**
     * The attempt as it is now, with its carrier id; empty optional when it is no longer live (it ended, or went back
     * to wait for a carrier); an error when it got no id within {@code hang-up-wait}.
     */
    private Mono<Optional<PolicyLedger.LiveAttempt>> withProviderId(PolicyLedger.LiveAttempt attempt) {
        // Read again after each pause (never on a timer that could outrun a slow read), until it has an id or ended.
        return bounded(ledger.liveAttempt(attempt.requestId(), attempt.attempt()))
                .map(Optional::of)
                .defaultIfEmpty(Optional.empty())
                .filter(live -> live.isEmpty() || live.get().providerCallId() != null)
                .repeatWhenEmpty(reads -> reads.delayElements(PROVIDER_ID_POLL))
                .timeout(properties.hangUpWait(), Mono.error(() -> new IllegalStateException("attempt "
                        + attempt.attempt() + " got no carrier id within " + properties.hangUpWait())));
    }

    /** One statement of a control's work, or one order to the carrier, within {@link #STATEMENT_TIMEOUT}. */
    private static <T> Mono<T> bounded(Mono<T> statement) {
        return statement.timeout(STATEMENT_TIMEOUT);
    }

    /**
     * Gives the claim back after a failure and looks at the control again: after a claim's lease, twice as long after
     * each further failure in a row, never longer than {@link #MAX_LOOK_AGAIN}.
     */
    private Mono<String> giveBack(CallControl control, Throwable error, int failures) {
        Duration delay = lookAgainAfter(properties.controlClaimLease(), failures);
        log.warn("control {} ({} {}) failed ({} in a row); it is tried again in {}: {}", control.controlId(),
                control.action().wire(), control.scope().wire(), failures, delay, error.toString());
        metrics.controlled(control.action().wire(), FAILED);
        return bounded(ledger.releaseControl(control.controlId()))
                .onErrorResume(releaseError -> Mono.empty())
                .doFinally(signal -> lookAgain(control, delay, failures))
                .then(Mono.empty());
    }

    /**
     * The claim failed otherwise than for a moment (a grant missing, a statement the database refuses): the control is
     * looked at again, backing off as after a failed action. Its error ended {@link #run}, and with it the policy
     * views' readers of the DNC list, the account settings and the controls ({@code PolicyViewsLifecycle} follows them
     * together): the dispatcher went on dialling by views frozen until its restart, numbers added to the DNC list
     * since among them. Nothing is given back: the claim, if it was made, is this dispatcher's and lapses.
     */
    private Mono<PolicyLedger.ControlClaim> notClaimed(CallControl control, Throwable error, int failures) {
        Duration delay = lookAgainAfter(properties.controlClaimLease(), failures);
        log.warn("control {} ({} {}) could not be claimed ({} in a row); it is looked at again in {}: {}",
                control.controlId(), control.action().wire(), control.scope().wire(), failures, delay,
                error.toString());
        metrics.controlled(control.action().wire(), FAILED);
        lookAgain(control, delay, failures);
        return Mono.empty();
    }

    /** The wait before the {@code failures}-th failure in a row is followed by another look. */
    static Duration lookAgainAfter(Duration lease, int failures) {
        Duration delay = lease;
        for (int i = 1; i < failures && delay.compareTo(MAX_LOOK_AGAIN) < 0; i++) {
            delay = delay.multipliedBy(2);
        }
        return delay.compareTo(MAX_LOOK_AGAIN) < 0 ? delay : MAX_LOOK_AGAIN;
    }
}
