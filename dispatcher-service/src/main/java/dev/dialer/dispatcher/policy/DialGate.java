package dev.dialer.dispatcher.policy;

import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.CarrierOptions;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.common.policy.DialPolicy;
import dev.dialer.common.policy.PolicyDecision;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.resilience.InfraRetry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * The dial-time policy, asked before an attempt is recorded and dialled — for a fresh command, and again for every
 * command a wait brings back (a retry, a calling window, a paused campaign), so cancel, DNC, TTL, cap and window are
 * always checked at the moment of dialling.
 *
 * <ul>
 *   <li>a cancelled request (or one of a cancelled campaign, accepted before the cancel) ends {@code canceled};</li>
 *   <li>then {@link DialPolicy} decides, a paused campaign first: its call waits in {@code dispatch.schedule} (reason
 *       {@code paused}) until a resume releases it, looked at again every {@code pause-recheck} in case a resume was
 *       missed and at its {@code valid_until} at the latest (the retry scheduler keeps it while the campaign is still
 *       paused and its {@code valid_until} has not passed: {@link KnownControls#paused}), or ends {@code expired} once
 *       {@code valid_until} passed; BLOCK ends the request {@code blocked} (the reason in {@code reason} and
 *       {@code error.code}), EXPIRE ends it {@code expired}, DEFER makes the call wait (reason {@code window} or
 *       {@code cap}) and announces {@code call.deferred} with {@code next_attempt_at}, DIAL lets it through.</li>
 * </ul>
 *
 * <p>The per-callee cap is read here without a lock, and other lanes, partitions and dispatchers may dial the same
 * callee before this command's attempt is claimed: where the account has a cap, {@link #claim} counts again, and
 * claims only within it.
 *
 * <p>Guarantees: a wait and its {@code call.deferred} event are committed together; an ending is the request's single
 * final event ({@link CallEvents#finishOnce}). Nothing is decided before the policy topics have been read in full.
 * PostgreSQL outages are waited out, as for the rest of the command's handling.
 */
@Component
public class DialGate {

    private static final Logger log = LoggerFactory.getLogger(DialGate.class);
    static final Duration CAP_PERIOD = Duration.ofHours(24);

    private final PolicyViews views;
    private final PolicyLedger policyLedger;
    private final AttemptLedger attempts;
    private final CallEvents events;
    private final PolicyProperties properties;
    private final PolicyMetrics metrics;
    private final Clock clock;
    private final TransactionalOperator transactions;

    DialGate(PolicyViews views, PolicyLedger policyLedger, AttemptLedger attempts, CallEvents events,
             PolicyProperties properties, PolicyMetrics metrics, Clock clock,
             ReactiveTransactionManager transactionManager) {
        this.views = views;
        this.policyLedger = policyLedger;
        this.attempts = attempts;
        this.events = events;
        this.properties = properties;
        this.metrics = metrics;
        this.clock = clock;
        this.transactions = TransactionalOperator.create(transactionManager);
    }

    /** What the claim of a cleared command's attempt ({@link #claim}) came to. */
    public sealed interface Claim {

        /** The attempt is claimed under dial {@code number}: the carrier must be asked for it now. */
        record Dial(int number) implements Claim {
        }

        /**
         * The policy no longer lets the call through at the claim (the callee's cap was reached since {@link #clear}
         * let the command through, or its calling window closed, its {@code valid_until} passed or its number went on
         * the DNC list while the attempt was being recorded): the attempt was not claimed, and the call waits (or
         * ended) as {@link #clear} would have made it, with its event.
         */
        record Held() implements Claim {
        }
    }

    /** The policy's facts held in memory no longer let the call through at its claim. */
    private static final class NotDialableNow extends RuntimeException {
        /** What the policy decided; null when a cancel reached the request. */
        private final PolicyDecision decision;

        NotDialableNow(PolicyDecision decision) {
            super(decision == null ? "canceled" : decision.verdict() + " " + decision.reason(), null, false, false);
            this.decision = decision;
        }
    }

    /**
     * @return whether the command may go on to be recorded and dialled; {@code false} when the policy ended the
     *         request, made the call wait, or the request has ended already
     */
    public Mono<Boolean> clear(CallCommand command) {
        // The request is recorded first (once), so that the policy may end it or make it wait.
        return views.ready()
                .then(Mono.defer(() -> attempts.recordRequest(command)))
                .retryWhen(InfraRetry.untilRecovered("record request"))
                .flatMap(state -> {
                    if (!state.meetsPolicy()) {
                        // A redelivery of an attempt claimed before: the attempt ledger recognises it and it is not
                        // dialled again.
                        return Mono.just(true);
                    }
                    if (state.finalStatus() != null) {
                        log.debug("request {} has ended ({}); attempt {} not made", command.requestId(),
                                state.finalStatus(), command.attempt());
                        return Mono.just(false);
                    }
                    if (state.attemptUnclaimed()) {
                        return decideUnclaimed(command);
                    }
                    return decide(command);
                });
    }

    /**
     * Whether {@link #claim} counts the callee's dials for the command (its account has a per-callee cap): when not, a
     * claim checks no more than recording the attempt does, and the two may be one statement
     * ({@link AttemptLedger#newClaimedAttempt}).
     */
    public boolean countsAtClaim(CallCommand command) {
        return views.settingsOf(command.accountId()).perCalleeDailyCap() != null;
    }

    /**
     * Claims the attempt of a command {@link #clear} let through, and recorded since, for dialling
     * ({@link AttemptLedger#claimDial}). Where the account has a per-callee cap, the callee's dials are counted again
     * and the attempt claimed in one transaction, holding the callee's advisory lock ({@link PolicyLedger#lockCallee})
     * from the count to the commit: of any number of claims for one callee, on any lane or dispatcher, each counts the
     * dials of those before it, so the cap is never exceeded. A claim the cap refuses leaves its attempt waiting under
     * its number, and the call is deferred as {@link #clear} defers it (same decision, wait and event).
     *
     * @return the dial to place, or that the cap held the call; empty when nothing was claimed (the attempt was claimed
     *         before, or its request has ended or been cancelled)
     */
    public Mono<Claim> claim(CallCommand command) {
        Integer cap = views.settingsOf(command.accountId()).perCalleeDailyCap();
        // The claim's own mark: a claim run again after its commit went unacknowledged finds the attempt claimed, and
        // tells its own claim, which it dials, from another copy's (AttemptLedger#ownClaim).
        UUID token = UUID.randomUUID();
        Mono<Claim> claimed;
        if (cap == null) {
            claimed = Mono.defer(() -> {
                        dialableNow(command, clock.instant());
                        return attempts.claimDial(command.requestId(), command.attempt(), token)
                                .switchIfEmpty(Mono.defer(() -> attempts.ownClaim(command.requestId(),
                                        command.attempt(), token)));
                    })
                    .retryWhen(InfraRetry.untilRecovered("claim attempt"))
                    .map(Claim.Dial::new);
        } else {
            claimed = transactions.transactional(Mono.defer(() -> claimWithinCap(command, cap, token,
                            clock.instant())))
                    .retryWhen(InfraRetry.untilRecovered("claim attempt within the callee's cap"))
                    .flatMap(counted -> {
                        if (counted.dial() != null) {
                            return Mono.just(new Claim.Dial(counted.dial()));
                        }
                        Mono<Boolean> waits = counted.held() ? Mono.just(true) : waitingAlready(command);
                        return waits.filter(Boolean::booleanValue)
                                .flatMap(held -> heldByCap(command, counted.dials(), cap, counted.now()));
                    });
        }
        return claimed
                .doOnNext(claim -> {
                    if (claim instanceof Claim.Dial) {
                        dialClaimed();
                    }
                })
                .onErrorResume(NotDialableNow.class, refused -> heldAtClaim(command, refused.decision));
    }

    /**
     * Counts a dial the policy let through as its attempt is claimed: by {@link #claim}, or with the attempt's record
     * in one statement where {@link #stillClear} is asked instead. A call {@link #clear} lets through and its claim
     * then holds, or finds claimed by another copy, is no dial.
     */
    public void dialClaimed() {
        metrics.decided("dial", null);
    }

    /**
     * The policy's facts held in memory (a cancel of the request or its campaign, the DNC list, the calling window,
     * {@code valid_until}, a campaign's pause), asked again as the attempt is claimed, each time the claim is tried:
     * {@link #clear} decided before the attempt was recorded, and a PostgreSQL outage waited out in between may have
     * lasted past a window's end or the request's {@code valid_until}, or past a cancel this dispatcher has read while
     * the mark the claim itself checks ({@code cancel_requested_at}) is still to be written. The cap is counted again
     * by the claim itself where the account has one.
     *
     * @throws NotDialableNow when the call may not be dialled now
     */
    private void dialableNow(CallCommand command, Instant now) {
        if (cancelledInView(command)) {
            throw new NotDialableNow(null);
        }
        PolicyDecision decision = inMemory(command, now);
        if (decision.verdict() != PolicyDecision.Verdict.DIAL) {
            throw new NotDialableNow(decision);
        }
    }

    /**
     * Whether a call brought back at {@code at} could only end {@code expired}: its {@code valid_until} has passed by
     * then (whatever else the policy would answer first: a number on the DNC list is blocked, not expired), or passes
     * before its calling window next opens (the window as the account's settings name it now). A wait ending then is
     * not announced, the request ends now: a retry ({@link dev.dialer.dispatcher.retry.RetryPolicy}), a capacity
     * requeue and a requeue of a call no carrier took alike. Asked as if the call's campaign ran: a pause can only put
     * the call later, and a call that could not be dialled before its {@code valid_until} even then never will be.
     */
    public boolean expiresBy(CallCommand command, Instant at) {
        return command.expiredAt(at) || decide(command, views.settingsOf(command.accountId()), null, at, false)
                .verdict() == PolicyDecision.Verdict.EXPIRE;
    }

    /**
     * Why the dial-time policy would block the request's next attempt now, if it would: its number is on the
     * account's DNC list, or its caller ID or flow no longer allowed ({@code null}: it would not block it). Asked of
     * a retry before it is announced, so that a number listed while its attempt rang ends {@code blocked} with that
     * attempt, rather than being told it will be retried and blocked when the retry comes due. What the policy
     * answers before a block (a campaign's pause) is left to the retry's own time.
     */
    public String blockedNow(CallCommand command) {
        PolicyDecision decision = decide(command, views.settingsOf(command.accountId()), null, clock.instant(), false);
        return decision.verdict() == PolicyDecision.Verdict.BLOCK ? decision.reason() : null;
    }

    /** Counts a request ended {@code blocked} as its attempt ended ({@link #blockedNow}), once it has. */
    public void blockedAtAttemptEnd(String reason) {
        metrics.decided("block", reason);
    }

    /**
     * Whether the account's per-callee cap, the callee's dials made so far counted, would hold a call brought back at
     * {@code at} until past its request's {@code valid_until}, or until past it the calling window that opens after
     * the cap frees: then the call could only end {@code expired}. False without a {@code valid_until} or a cap (no
     * count is made then). Asked of a retry {@link #expiresBy} lets come back, before it is announced, and as it is,
     * as if the call's campaign ran; the claim counts the cap again, under the callee's lock, when the call comes back.
     */
    public Mono<Boolean> capHoldsPastValidUntil(CallCommand command, Instant at) {
        AccountSettings settings = views.settingsOf(command.accountId());
        if (command.validUntil() == null || settings.perCalleeDailyCap() == null) {
            return Mono.just(false);
        }
        // Retried briefly, as the attempt's end it comes before: a callback is not held through an outage.
        return decideCounted(command, settings, at, false, InfraRetry.brief("callee dials"))
                .map(decision -> decision.verdict() == PolicyDecision.Verdict.EXPIRE);
    }

    /**
     * Whether the policy's facts held in memory still let a command {@link #clear} let through be dialled now: asked
     * where an attempt is recorded and claimed in one statement, without {@link #claim}, each time that statement is
     * tried. When not, the command is put to {@link #clear} again, which makes it wait or ends it.
     */
    public boolean stillClear(CallCommand command) {
        return !cancelledInView(command) && inMemory(command, clock.instant()).verdict() == PolicyDecision.Verdict.DIAL;
    }

    /** Whether a cancel of the request, or one of its campaign covering it, is in this dispatcher's view. */
    private boolean cancelledInView(CallCommand command) {
        return CallControls.cancelled(command, views.requestControl(command.requestId()),
                views.campaignControl(command.accountId(), command.campaign()));
    }

    /** The policy's decision at {@code at} on what this dispatcher holds in memory, without the callee's dials. */
    private PolicyDecision inMemory(CallCommand command, Instant at) {
        return decide(command, views.settingsOf(command.accountId()), null, at);
    }

    /**
     * The policy refused the call at its claim: the attempt waits under its number, as one the cap held does, and the
     * call waits or ends as {@link #clear} would have made it ({@code decision} null: a cancel reached it, and it ends
     * {@code canceled}). Empty when the attempt could not be held and does not wait (claimed before, or its request
     * ended or was cancelled): nothing was claimed.
     */
    private Mono<Claim> heldAtClaim(CallCommand command, PolicyDecision decision) {
        log.info("request {} attempt {}: the policy no longer lets the call through at its claim ({}); not dialled",
                command.requestId(), command.attempt(),
                decision == null ? "canceled" : decision.verdict() + " " + decision.reason());
        return Mono.defer(() -> attempts.holdUnclaimed(command.requestId(), command.attempt()))
                .retryWhen(InfraRetry.untilRecovered("hold unclaimed attempt"))
                .flatMap(held -> held ? Mono.just(true) : waitingAlready(command))
                .filter(Boolean::booleanValue)
                .flatMap(held -> (decision == null ? cancel(command) : act(command, decision))
                        .thenReturn((Claim) new Claim.Held()));
    }

    /**
     * What a claim within the cap found: the dial it claimed, or (when the cap refused it) the callee's dials it
     * counted, as of {@code now}, and whether the hold made the attempt wait; empty when the attempt was not claimable.
     */
    private record CountedClaim(Integer dial, List<Instant> dials, Instant now, boolean held) {
    }

    /** In the claim's transaction: the policy's facts, the callee's lock, its dials, then the claim or the wait. */
    private Mono<CountedClaim> claimWithinCap(CallCommand command, int cap, UUID token, Instant now) {
        dialableNow(command, now);
        // Looked for under the callee's lock, as the count is read (a claim committed while the lock was awaited is
        // seen): a run after one whose commit went unacknowledged would count its own claim among the callee's dials.
        Mono<CountedClaim> own = Mono.defer(() -> attempts.ownClaim(command.requestId(), command.attempt(), token)
                .map(dial -> new CountedClaim(dial, List.of(), now, false)));
        return policyLedger.lockCallee(command.accountId(), command.to())
                .then(own)
                .switchIfEmpty(Mono.defer(() -> policyLedger.dialsSince(command.accountId(), command.to(),
                                now.minus(CAP_PERIOD))
                        .collectList()
                        .flatMap(dials -> dials.size() < cap
                                ? attempts.claimDial(command.requestId(), command.attempt(), token)
                                        .map(dial -> new CountedClaim(dial, dials, now, false))
                                        .switchIfEmpty(own)
                                : attempts.holdUnclaimed(command.requestId(), command.attempt())
                                        .map(held -> new CountedClaim(null, dials, now, held)))));
    }

    /**
     * The cap was reached between {@link #clear} and the claim (another call to the callee was dialled meanwhile):
     * the policy decides again with the dials the claim counted, as {@link #clear} would have. The cap frees after
     * {@code now} (every counted dial is younger than a day), so the call waits or ends; it is never let through.
     */
    private Mono<Claim> heldByCap(CallCommand command, List<Instant> dials, int cap, Instant now) {
        log.info("request {} attempt {}: the callee's cap was reached after the policy let the call through; not "
                + "dialled", command.requestId(), command.attempt());
        PolicyDecision decision = decide(command, views.settingsOf(command.accountId()),
                capFreesAt(dials, cap, now), now);
        return act(command, decision).thenReturn(new Claim.Held());
    }

    /**
     * The attempt was recorded and never claimed: its dispatcher stopped in between, or another copy of the command is
     * on its way to the claim right now. The attempt is first taken from claimers ({@link AttemptLedger#holdUnclaimed}:
     * it waits under its number, as a requeued one does), so that exactly one of the two goes on: if the other copy
     * claimed it first, this one is a duplicate; otherwise this one meets the policy, and a dial claims it back.
     */
    private Mono<Boolean> decideUnclaimed(CallCommand command) {
        return Mono.defer(() -> attempts.holdUnclaimed(command.requestId(), command.attempt()))
                .retryWhen(InfraRetry.untilRecovered("hold unclaimed attempt"))
                .flatMap(held -> held ? decide(command) : decideIfWaiting(command));
    }

    /**
     * The hold found the attempt no longer claimable. Either another copy of the command claimed it, and this one is
     * a duplicate the ledger recognises; or the attempt waits under its number, held by this very hold (its commit
     * was acknowledged too late and it ran again) or by another copy's. A command for a waiting attempt meets the
     * policy, as {@link #clear} makes it do: otherwise the claim that takes the attempt back would dial it unchecked
     * (a number put on the DNC list meanwhile, a calling window that closed). Two copies that both meet it are told
     * apart by that claim, which only one of them makes.
     */
    private Mono<Boolean> decideIfWaiting(CallCommand command) {
        return waitingAlready(command).flatMap(waiting -> waiting ? decide(command) : Mono.just(true));
    }

    /**
     * Whether the attempt of a command a hold ({@link AttemptLedger#holdUnclaimed}) found no longer claimable waits to
     * be dialled under its number, its request still open: held by this very hold, whose commit was acknowledged too
     * late so that it ran again and found its own work, or by another copy's. A hold that made the attempt wait must be
     * followed by the wait's row or the request's end, or nothing would ever bring the call back.
     */
    private Mono<Boolean> waitingAlready(CallCommand command) {
        return Mono.defer(() -> attempts.recordRequest(command))
                .retryWhen(InfraRetry.untilRecovered("record request"))
                .map(state -> state.finalStatus() == null && state.attemptWaiting());
    }

    private Mono<Boolean> decide(CallCommand command) {
        Instant now = clock.instant();
        CallControl campaignControl = views.campaignControl(command.accountId(), command.campaign());
        if (CallControls.cancelled(command, views.requestControl(command.requestId()), campaignControl)) {
            return cancel(command);
        }
        AccountSettings settings = views.settingsOf(command.accountId());
        if (CallControls.paused(campaignControl)) {
            // The policy decides it without the callee's dials: it waits for the resume, or expires.
            return act(command, decide(command, settings, null, now));
        }
        return decideCounted(command, settings, now, paused(command), InfraRetry.untilRecovered("callee dials"))
                .flatMap(decision -> act(command, decision));
    }

    private PolicyDecision decide(CallCommand command, AccountSettings settings, Instant capFreesAt, Instant now) {
        return decide(command, settings, capFreesAt, now, paused(command));
    }

    /** Whether the call's campaign is paused, as this dispatcher's view of the controls says. */
    private boolean paused(CallCommand command) {
        return CallControls.paused(views.campaignControl(command.accountId(), command.campaign()));
    }

    private PolicyDecision decide(CallCommand command, AccountSettings settings, Instant capFreesAt, Instant now,
                                  boolean paused) {
        return DialPolicy.decide(new DialPolicy.Facts(command.callerId(), command.to(), command.campaign(),
                command.validUntil(), settings, views.onDncList(command.accountId(), command.to()), capFreesAt, now,
                paused, command.applications(), CarrierOptions.assertedCallers(command.carrierOptions())));
    }

    private Mono<Boolean> act(CallCommand command, PolicyDecision decision) {
        return switch (decision.verdict()) {
            // Counted as the attempt is claimed (claim, dialClaimed): the claim may still hold it.
            case DIAL -> Mono.just(true);
            // A paused call is looked at again every pause-recheck (a resume releases it at once), and by its
            // valid_until at the latest, so that it expires on time: the pause does not stop the request's clock.
            case DEFER -> PolicyDecision.PAUSED.equals(decision.reason())
                    ? defer(command, Reasons.PAUSED, Reasons.PAUSED,
                            command.byValidUntil(clock.instant().plus(properties.pauseRecheck())), null,
                            describe(decision.reason()))
                    : defer(command, Reasons.rowReason(decision.reason()), decision.reason(),
                            decision.notBefore(), decision.notBefore(), describe(decision.reason()));
            case BLOCK -> end(command, FinalStatus.BLOCKED, "block", decision.reason(), describe(decision.reason()));
            case EXPIRE -> end(command, FinalStatus.EXPIRED, "expire", decision.reason(), describe(decision.reason()));
        };
    }

    /**
     * The policy's decision at {@code at}, the callee's dials counted against the account's per-callee cap: a count in
     * PostgreSQL, made only where the account has a cap, tried again as {@code retry} says.
     */
    private Mono<PolicyDecision> decideCounted(CallCommand command, AccountSettings settings, Instant at,
                                              boolean paused, Retry retry) {
        Integer cap = settings.perCalleeDailyCap();
        if (cap == null) {
            return Mono.fromSupplier(() -> decide(command, settings, null, at, paused));
        }
        return policyLedger.dialsSince(command.accountId(), command.to(), at.minus(CAP_PERIOD))
                .collectList()
                .retryWhen(retry)
                .map(dials -> decide(command, settings, capFreesAt(dials, cap, at), at, paused));
    }

    /**
     * With {@code dials} the callee's dials of the last 24 hours, oldest first: null while fewer than {@code cap},
     * otherwise the instant enough of them are older than 24 hours for one more call. A cap of zero or less blocks
     * every call, so the answer is a day from {@code now}.
     */
    static Instant capFreesAt(List<Instant> dials, int cap, Instant now) {
        if (cap <= 0) {
            // A cap of zero never frees: look again in a day (the setting may have changed) unless valid_until ends it.
            return now.plus(CAP_PERIOD);
        }
        if (dials.size() < cap) {
            return null;
        }
        return dials.get(dials.size() - cap).plus(CAP_PERIOD);
    }

    /** The call waits in {@code dispatch.schedule} until {@code dueAt}; the wait and its event commit together. */
    private Mono<Boolean> defer(CallCommand command, String rowReason, String eventReason, Instant dueAt,
                                Instant nextAttemptAt, String message) {
        // A request that ended meanwhile (a cancel) neither waits nor announces a wait after its final event, nor does
        // one whose attempt another copy of the command is dialling; a wait already announced (a copy of the command,
        // a transaction run again after its commit) is not announced again.
        Mono<PolicyLedger.Scheduled> wait = policyLedger.schedule(command, rowReason, dueAt)
                .flatMap(scheduled -> scheduled != PolicyLedger.Scheduled.WAITS ? Mono.just(scheduled)
                        : events.deferred(command, eventReason, nextAttemptAt, event -> event).thenReturn(scheduled));
        return events.atomically(wait)
                .retryWhen(InfraRetry.untilRecovered("defer call"))
                .doOnNext(scheduled -> {
                    switch (scheduled) {
                        case REQUEST_ENDED -> log.info("request {} attempt {} ended before it could wait ({}); "
                                + "nothing scheduled", command.requestId(), command.attempt(), eventReason);
                        case WAITED_ALREADY -> log.info("request {} attempt {} already waits ({}); a copy of its "
                                + "command changes nothing", command.requestId(), command.attempt(), eventReason);
                        case DIALLING -> log.info("request {} attempt {}: not made to wait ({}), an attempt of the "
                                + "request is being dialled (by another copy of its command); its end decides",
                                command.requestId(), command.attempt(), eventReason);
                        case WAITS -> {
                            metrics.decided("defer", eventReason);
                            log.debug("request {} attempt {} waits ({}) until {}", command.requestId(),
                                    command.attempt(), eventReason, dueAt);
                        }
                    }
                })
                .thenReturn(false);
    }

    private Mono<Boolean> cancel(CallCommand command) {
        return end(command, FinalStatus.CANCELED, "cancel", "canceled", null);
    }

    /**
     * Ends the request by policy; when it had ended already, or one of its attempts is being dialled (by another copy
     * of this command, which decided before this one), nothing changes and this copy dials nothing. Counted only when
     * it ended the request: a decision that changed nothing is none of the policy's.
     */
    private Mono<Boolean> end(CallCommand command, FinalStatus status, String verdict, String reason, String message) {
        return events.finish(command, status,
                        event -> message == null ? event.reason(reason) : event.reason(reason).error(reason, message),
                        InfraRetry.untilRecovered("policy final"))
                .doOnNext(ended -> {
                    if (ended) {
                        metrics.decided(verdict, reason);
                        log.debug("request {} ended {} by policy ({})", command.requestId(), status.wire(), reason);
                    } else {
                        log.info("request {} not ended {} by policy ({}): it ended already, or an attempt of it is "
                                + "being dialled, whose end ends it", command.requestId(), status.wire(), reason);
                    }
                })
                .thenReturn(false);
    }

    /** What a final event's {@code error.message} says of the policy's {@code reason}. */
    public static String describe(String reason) {
        return switch (reason) {
            case PolicyDecision.DNC -> "the number is on the account's do-not-call list";
            case PolicyDecision.CALLER_ID_NOT_ALLOWED -> "the account may not call from this caller ID";
            case PolicyDecision.FLOW_NOT_ALLOWED -> "the account's calls may not run this flow";
            case PolicyDecision.VALID_UNTIL -> "valid_until passed before the call could be placed";
            case PolicyDecision.CALLEE_CAP -> "the callee's daily call cap is reached";
            case PolicyDecision.CALLING_WINDOW -> "outside the recipient's calling window";
            case PolicyDecision.PAUSED -> "the campaign is paused";
            default -> reason;
        };
    }
}
