package dev.dialer.dispatcher.policy;

import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallControl;
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
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The dial-time policy, asked before an attempt is recorded and dialled — for a fresh command, and again for every
 * command a wait brings back (a retry, a calling window, a paused campaign), so cancel, DNC, TTL, cap and window are
 * always checked at the moment of dialling.
 *
 * <ul>
 *   <li>a cancelled request (or one of a cancelled campaign, accepted before the cancel) ends {@code canceled};</li>
 *   <li>a paused campaign's call waits in {@code dispatch.schedule} (reason {@code paused}) until a resume releases
 *       it, looked at again every {@code pause-recheck} in case a resume was missed;</li>
 *   <li>then {@link DialPolicy} decides: BLOCK ends the request {@code blocked} (the reason in {@code reason} and {@code error.code}),
 *       EXPIRE ends it {@code expired}, DEFER makes the call wait (reason {@code window} or {@code cap}) and announces
 *       {@code call.deferred} with {@code next_attempt_at}, DIAL lets it through.</li>
 * </ul>
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

    DialGate(PolicyViews views, PolicyLedger policyLedger, AttemptLedger attempts, CallEvents events,
             PolicyProperties properties, PolicyMetrics metrics, Clock clock) {
        this.views = views;
        this.policyLedger = policyLedger;
        this.attempts = attempts;
        this.events = events;
        this.properties = properties;
        this.metrics = metrics;
        this.clock = clock;
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
                    if (state.attemptRecorded() && !state.attemptWaiting()) {
                        // A redelivery: the attempt ledger recognises it and it is not dialled again.
                        return Mono.just(true);
                    }
                    if (state.finalStatus() != null) {
                        log.debug("request {} has ended ({}); attempt {} not made", command.requestId(),
                                state.finalStatus(), command.attempt());
                        return Mono.just(false);
                    }
                    return decide(command);
                });
    }

    private Mono<Boolean> decide(CallCommand command) {
        Instant now = clock.instant();
        CallControl campaignControl = views.campaignControl(command.accountId(), command.campaign());
        if (CallControls.cancelled(command, views.requestControl(command.requestId()), campaignControl)) {
            return cancel(command);
        }
        if (CallControls.paused(campaignControl)) {
            return defer(command, Reasons.PAUSED, Reasons.PAUSED, now.plus(properties.pauseRecheck()), null,
                    "the campaign is paused");
        }
        AccountSettings settings = views.settingsOf(command.accountId());
        return calleeCapFreesAt(command, settings, now)
                .map(Optional::of)
                .defaultIfEmpty(Optional.empty())
                .map(capFreesAt -> DialPolicy.decide(new DialPolicy.Facts(command.callerId(), command.to(),
                        command.campaign(), command.validUntil(), settings,
                        views.onDncList(command.accountId(), command.to()), capFreesAt.orElse(null), now)))
                .flatMap(decision -> act(command, decision));
    }

    private Mono<Boolean> act(CallCommand command, PolicyDecision decision) {
        return switch (decision.verdict()) {
            case DIAL -> {
                metrics.decided("dial", null);
                yield Mono.just(true);
            }
            case DEFER -> defer(command, Reasons.rowReason(decision.reason()), decision.reason(),
                    decision.notBefore(), decision.notBefore(), describe(decision.reason()));
            case BLOCK -> end(command, FinalStatus.BLOCKED, "block", decision.reason(), describe(decision.reason()));
            case EXPIRE -> end(command, FinalStatus.EXPIRED, "expire", decision.reason(), describe(decision.reason()));
        };
    }

    /** When the per-callee cap lets this callee be called again; empty when the cap is not reached (or not set). */
    private Mono<Instant> calleeCapFreesAt(CallCommand command, AccountSettings settings, Instant now) {
        Integer cap = settings.perCalleeDailyCap();
        if (cap == null) {
            return Mono.empty();
        }
        return policyLedger.dialsSince(command.accountId(), command.to(), now.minus(CAP_PERIOD))
                .collectList()
                .retryWhen(InfraRetry.untilRecovered("callee dials"))
                .mapNotNull(dials -> capFreesAt(dials, cap, now));
    }

    /**
     * With {@code dials} the callee's attempts of the last 24 hours, oldest first: null while fewer than {@code cap},
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
        Mono<Void> wait = policyLedger.schedule(command, rowReason, dueAt)
                .then(events.deferred(command, eventReason, nextAttemptAt, event -> event))
                .then();
        return events.atomically(wait)
                .retryWhen(InfraRetry.untilRecovered("defer call"))
                .then(Mono.fromRunnable(() -> {
                    metrics.decided("defer", eventReason);
                    log.info("request {} attempt {} waits ({}) until {}", command.requestId(), command.attempt(),
                            eventReason, dueAt);
                }))
                .thenReturn(false);
    }

    private Mono<Boolean> cancel(CallCommand command) {
        return end(command, FinalStatus.CANCELED, "cancel", "canceled", null);
    }

    private Mono<Boolean> end(CallCommand command, FinalStatus status, String verdict, String reason, String message) {
        return events.finishOnce(command, status,
                        event -> message == null ? event.reason(reason) : event.reason(reason).error(reason, message),
                        InfraRetry.untilRecovered("policy final"))
                .then(Mono.fromRunnable(() -> {
                    metrics.decided(verdict, reason);
                    log.info("request {} ended {} by policy ({})", command.requestId(), status.wire(), reason);
                }))
                .thenReturn(false);
    }

    private static String describe(String reason) {
        return switch (reason) {
            case PolicyDecision.DNC -> "the number is on the account's do-not-call list";
            case PolicyDecision.CALLER_ID_NOT_ALLOWED -> "the account may not call from this caller ID";
            case PolicyDecision.VALID_UNTIL -> "valid_until passed before the call could be placed";
            case PolicyDecision.CALLEE_CAP -> "the callee's daily call cap is reached";
            case PolicyDecision.CALLING_WINDOW -> "outside the recipient's calling window";
            default -> reason;
        };
    }
}
