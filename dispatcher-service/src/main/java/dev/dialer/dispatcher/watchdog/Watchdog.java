package dev.dialer.dispatcher.watchdog;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CarrierOptions;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.QuietAttempt;
import dev.dialer.dispatcher.attempt.Transition;
import dev.dialer.dispatcher.callback.CallbackApplier;
import dev.dialer.dispatcher.callback.CarrierCallback;
import dev.dialer.dispatcher.callback.SipStatusReports;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.dispatcher.carrier.CallReport;
import dev.dialer.dispatcher.carrier.Carrier;
import dev.dialer.dispatcher.carrier.CarrierProperties;
import dev.dialer.dispatcher.carrier.sip.SipTrunkProperties;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.outcome.OutcomeMetrics;
import dev.dialer.dispatcher.pacing.Lanes;
import dev.dialer.dispatcher.pacing.TrunkGate;
import dev.dialer.dispatcher.resilience.InfraRetry;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Reconciles attempts that went quiet: every {@code poll-interval} it claims (leased, {@code FOR UPDATE SKIP LOCKED})
 * the attempts that reached the carrier, have not ended, and had neither news nor their dial for ring timeout + time
 * limit + margin, and asks the carrier about each.
 * <ul>
 *   <li>The carrier knows the call: its answer is applied by the {@link CallbackApplier} as if a callback had come
 *       (same outcome table, retries and events); a call it reports still alive counts as news, while the call may
 *       still last (its own ring timeout and time limit since it was dialled, and the margin).</li>
 *   <li>The carrier reports a call alive that cannot be any more: jambonz keeps its record of a call as the call's
 *       last status change left it, 12 hours when that change had a final SIP status, and the changes it never
 *       posted (a final status lost) are the ones it never recorded either. The call is hung up, in case, and ends
 *       as it stood: {@code completed} when it was answered, {@code no-answer} when it rang.</li>
 *   <li>The carrier knows no such call (or never named it: its create-call answer was lost and no callback came, and
 *       the attempt's own ring timeout and time limit have passed since its dial, and the margin; until then it cannot
 *       be asked and waits, counted {@code awaiting_life}): an attempt on record as answered ends {@code completed}
 *       (the call was answered, and has ended since); otherwise the attempt and the request end {@code canceled} if a
 *       cancel reached the request; else the attempt ends {@code failed} and the request ends {@code failed} with
 *       {@code error.code=status_timeout}, through the single-final path, and its trunk slot frees: here, and, when
 *       another dispatcher owns the caller ID's partition (and holds the slot), there, through a copy of the end on
 *       {@code dialer.carrier.callbacks} that its ledger refuses as late ({@link SipStatusReports#endedHere}); so
 *       does every end the watchdog commits.</li>
 *   <li>The carrier cannot be asked (its API down, refusing the account, or answering what the dialer cannot read):
 *       nothing changes; the attempt is claimed again once its lease lapses. Once {@code give-up-after} has passed
 *       since the call's life ended (its dial, its own ring timeout and time limit, and the margin: the carrier has
 *       ended it by then), the watchdog stops waiting for the carrier's word: the attempt ends as one the carrier no
 *       longer knows (above), logged and counted {@code dialer.dispatcher.watchdog.given.up}, so that its request
 *       still gets its final event.</li>
 * </ul>
 *
 * <p>A poll claims {@code batch-size} attempts at a time and claims again at once while its claims come back full
 * and it could reconcile some of them, so the calls of a dispatcher that died with thousands in progress are settled
 * at the rate the carrier answers, not {@code batch-size} per {@code poll-interval}. A full claim of which nothing
 * could be reconciled (the carrier cannot be asked) ends the poll: its attempts wait for their leases to lapse.
 *
 * <p>Every answer is about the dial the claim found and the call the carrier was asked about, and is applied bound to
 * them ({@link CarrierCallback#callBound}, the claimed dial): between the claim and the answer the attempt may have
 * been requeued after a capacity rejection and dialled again, and an answer about the earlier call must not end,
 * move or touch the later one. Such an answer changes nothing, frees no slot the later dial holds, and is logged and
 * counted {@code outcome=other_call}. What the watchdog infers rather than hears (a call the carrier no longer knows
 * ends as it stood when claimed; one it reports alive past its life ends as answered or not) holds only while the
 * attempt is still in the status claimed: a callback that came between the claim and the end (long delayed, from a
 * carrier that has forgotten the call since) is not overridden by it, and the end is counted
 * {@code outcome=news_meanwhile}, the attempt left to its next news or the next claim.
 *
 * <p>Delivery: at least once per quiet attempt (a crash mid-way leaves the lease to lapse); the guarded transitions
 * and the request's single-final marker make a repeat harmless.
 */
@Component
public class Watchdog {

    private static final Logger log = LoggerFactory.getLogger(Watchdog.class);
    static final String STATUS_TIMEOUT = "status_timeout";
    static final String OTHER_CALL = "other_call";
    static final String NEWS_MEANWHILE = "news_meanwhile";
    static final String RANG_GONE = "rang_gone";
    static final String CARRIER_ERROR = "carrier_error";
    static final String LEDGER_ERROR = "ledger_error";
    static final String GIVEN_UP = "dialer.dispatcher.watchdog.given.up";
    /** Why a call counts as unknown to the carrier, as the end paths' logs say. */
    private static final String NO_SUCH_CALL = "the carrier knows no such call";
    private static final String NOT_ASKED = "the carrier could not be asked until give-up-after had passed";
    private static final String NEVER_TOLD = "the carrier's id of the call was never learnt";
    static final String AWAITING_LIFE = "awaiting_life";
    static final int CONCURRENCY = 8;

    private final AttemptLedger ledger;
    private final Carrier carrier;
    private final CallbackApplier applier;
    private final CallEvents events;
    private final WatchdogProperties properties;
    private final Duration quietFor;
    private final Duration defaultRing;
    private final Duration defaultLimit;
    private final Clock clock;
    private final MeterRegistry registry;
    private final OutcomeMetrics outcomes;
    private final WatchdogHeartbeat heartbeat;
    private final Lanes lanes;
    private final SipStatusReports owners;

    @Autowired
    Watchdog(AttemptLedger ledger, Carrier carrier, CallbackApplier applier, CallEvents events,
             WatchdogProperties properties, CarrierProperties carrierProperties, SipTrunkProperties sip, Clock clock,
             MeterRegistry registry, WatchdogHeartbeat heartbeat, Lanes lanes, SipStatusReports owners) {
        this(ledger, carrier, applier, events, properties, CallDefaults.of(carrierProperties, sip), clock, registry,
                heartbeat, lanes, owners);
    }

    Watchdog(AttemptLedger ledger, Carrier carrier, CallbackApplier applier, CallEvents events,
             WatchdogProperties properties, CallDefaults defaults, Clock clock, MeterRegistry registry,
             WatchdogHeartbeat heartbeat, Lanes lanes, SipStatusReports owners) {
        this.heartbeat = heartbeat;
        this.lanes = lanes;
        this.owners = owners;
        this.ledger = ledger;
        this.carrier = carrier;
        this.applier = applier;
        this.events = events;
        this.properties = properties;
        this.quietFor = defaults.ringTimeout().plus(defaults.timeLimit()).plus(properties.margin());
        this.defaultRing = defaults.ringTimeout();
        this.defaultLimit = defaults.timeLimit();
        this.clock = clock;
        this.registry = registry;
        this.outcomes = new OutcomeMetrics(registry);
        for (String outcome : new String[] {"carrier_answered", "still_alive", "stale_alive", "answered_gone",
                RANG_GONE, "status_timeout", "canceled", CARRIER_ERROR, LEDGER_ERROR, OTHER_CALL, NEWS_MEANWHILE,
                AWAITING_LIFE}) {
            registry.counter("dialer.dispatcher.watchdog.reconciled", "outcome", outcome);
        }
        registry.counter(GIVEN_UP);
    }

    /**
     * Runs until cancelled; errors are logged per poll and per attempt and never end it. Each finished poll is noted
     * in the {@link WatchdogHeartbeat} its health component reads.
     */
    public Flux<Void> run() {
        return Flux.interval(properties.pollInterval())
                .onBackpressureDrop()
                // Beats after each claim that was made, so a long poll (the calls of a dispatcher that died, claim
                // after claim) is not taken for a stalled one; a claim that failed is no sign of life.
                .concatMap(tick -> claims().filter(claim -> !claim.failed())
                        .doOnNext(claim -> heartbeat.polled()).then(), 1)
                .doOnSubscribe(subscription -> heartbeat.started())
                .doFinally(heartbeat::stopped);
    }

    /** One poll: the quiet attempts claimed and reconciled, claim after claim while they come back full. */
    Mono<Void> reconcileQuiet() {
        return claims().then();
    }

    /** The poll's claims, one after another. */
    private Flux<Claim> claims() {
        return reconcileClaim().expand(claim -> claim.done() ? Mono.empty() : reconcileClaim());
    }

    /**
     * What one claim came to.
     *
     * @param done   whether the poll is done: the claim was not full, none of its attempts could be reconciled, or it
     *               failed
     * @param failed whether it failed (the claim or its reconciling errored, or outlasted its lease)
     */
    private record Claim(boolean done, boolean failed) {
    }

    /**
     * One claim's attempts reconciled, within the claim's lease: past it another dispatcher may claim the same
     * attempts, and a statement or a carrier that hangs would otherwise hold every later poll of this one for good.
     */
    private Mono<Claim> reconcileClaim() {
        return Flux.defer(() -> {
                    Instant now = clock.instant();
                    return ledger.claimQuiet(now.minus(quietFor), now, now.plus(properties.lease()),
                                    properties.batchSize())
                            .flatMap(this::reconcile, CONCURRENCY);
                })
                .collectList()
                .timeout(properties.lease())
                .map(reconciled -> new Claim(reconciled.size() < properties.batchSize() || !reconciled.contains(true),
                        false))
                .onErrorResume(error -> {
                    log.warn("could not claim or reconcile quiet attempts; trying again next poll: {}",
                            error.toString());
                    return Mono.just(new Claim(true, true));
                });
    }

    /**
     * Emits whether the attempt was reconciled (false: the carrier could not be asked, or what it said could not be
     * recorded: counted {@code carrier_error} and {@code ledger_error} apart, so that a PostgreSQL outage does not
     * read as the carrier's).
     */
    private Mono<Boolean> reconcile(QuietAttempt quiet) {
        CallRef ref = new CallRef(quiet.requestId(), quiet.attempt(), quiet.providerCallId());
        Mono<Boolean> reconciled = quiet.providerCallId() == null
                ? Mono.defer(() -> unknownOnceItsLifeIsOver(quiet, NEVER_TOLD))
                : carrier.status(ref)
                .onErrorMap(NotAsked::new)
                .flatMap(report -> applyReport(quiet, report).thenReturn(true))
                .switchIfEmpty(Mono.defer(() -> unknownOnceItsLifeIsOver(quiet, NO_SUCH_CALL)))
                .onErrorResume(NotAsked.class, error -> pastGivingUp(quiet)
                        ? givenUp(quiet, error.getCause()).thenReturn(true) : Mono.error(error));
        return reconciled
                .onErrorResume(error -> {
                    boolean notAsked = error instanceof NotAsked;
                    log.warn("request {} attempt {} could not be reconciled ({}); again after its lease: {}",
                            quiet.requestId(), quiet.attempt(), notAsked ? "the carrier could not be asked"
                                    : "what the carrier said could not be recorded",
                            (notAsked ? error.getCause() : error).toString());
                    count(notAsked ? CARRIER_ERROR : LEDGER_ERROR);
                    return Mono.just(false);
                });
    }

    /**
     * An attempt whose call the carrier never named (its create-call answer was lost, and no callback came), so that
     * it cannot be asked about it, or whose call it no longer knows. It ends as a call the carrier does not know
     * ({@link #unknownToTheCarrier}) once its own life is over (its dial, its own ring timeout and time limit, and the
     * margin), not at the quiet period, which the defaults make: a call given a longer time limit may still talk, its
     * callbacks lost, and its end would free its trunk slot and announce the call's end hours early. A carrier may
     * forget a call that still talks: jambonz keeps an answered call's record 12 hours after its last change, and posts
     * nothing between the answer and the end. Until then nothing changes, counted {@code awaiting_life}, and its lease
     * runs till then (emits false: not reconciled).
     *
     * @param carrierSaid why the call counts as unknown, for the log: {@link #NEVER_TOLD} or {@link #NO_SUCH_CALL}
     */
    private Mono<Boolean> unknownOnceItsLifeIsOver(QuietAttempt quiet, String carrierSaid) {
        Instant lifeEnd = lifeEnd(quiet);
        if (lifeEnd == null || clock.instant().isAfter(lifeEnd)) {
            return unknownToTheCarrier(quiet, carrierSaid).thenReturn(true);
        }
        log.info("request {} attempt {} was {} and had no news for {}; {}, so it waits for the end of its own ring "
                + "timeout and time limit, {}", quiet.requestId(), quiet.attempt(), quiet.status().wire(), quietFor,
                carrierSaid, lifeEnd);
        count(AWAITING_LIFE);
        // Leased till then: claimed at every lease, such attempts (first in the claims' order, since nothing touches
        // them) would fill the claims of an outage's aftermath and keep the other quiet attempts waiting.
        return ledger.leaseWatchUntil(quiet.requestId(), quiet.attempt(), quiet.dial(), lifeEnd).thenReturn(false);
    }

    /**
     * The carrier could not be asked about an attempt whose call has been over for {@code give-up-after}: it ends as a
     * call the carrier no longer knows ({@link #unknownToTheCarrier}). What the ledger cannot record is counted
     * {@code ledger_error}, and the attempt is claimed again.
     */
    private Mono<Void> givenUp(QuietAttempt quiet, Throwable cause) {
        log.warn("request {} attempt {} was {}; the carrier could not be asked about it ({}) for {} past the call's "
                        + "ring timeout and time limit: it ends as a call the carrier no longer knows",
                quiet.requestId(), quiet.attempt(), quiet.status().wire(), cause.toString(),
                properties.giveUpAfter());
        registry.counter(GIVEN_UP).increment();
        return unknownToTheCarrier(quiet, NOT_ASKED);
    }

    /** The carrier could not be asked about a quiet attempt. */
    private static final class NotAsked extends RuntimeException {
        NotAsked(Throwable cause) {
            super(cause.toString(), cause, false, false);
        }
    }

    private Mono<Void> applyReport(QuietAttempt quiet, CallReport report) {
        CarrierCallback callback = bound(quiet, calledId(quiet, report), report.status(), report.providerStatus(),
                report.sipStatus(), report.sipReason(), report.durationSeconds(), null);
        log.info("request {} attempt {} was quiet; the carrier says {}", quiet.requestId(), quiet.attempt(),
                report.providerStatus());
        if (!report.status().isTerminal() && pastItsLife(quiet)) {
            return staleAlive(quiet, report);
        }
        Mono<CallbackApplier.Result> applied = applier.apply(callback);
        if (report.status().isTerminal()) {
            return applied.flatMap(result -> counted(quiet, callback, result, "carrier_answered"));
        }
        // News of the call asked about, and of no later one: the attempt is touched only while it is on that dial.
        return applied.flatMap(result -> result == CallbackApplier.Result.OTHER_CALL ? Mono.just(false)
                        : ledger.touch(quiet.requestId(), quiet.attempt(), quiet.dial()))
                .flatMap(touched -> {
                    if (!touched) {
                        logLeft(quiet);
                    }
                    count(touched ? "still_alive" : OTHER_CALL);
                    return Mono.<Void>empty();
                });
    }

    /**
     * The watchdog's report on the call it asked about, as that call's callback would have been, but bound to it: of
     * the dial the claim found, and changing the attempt only while the attempt's call is that one (or not known).
     *
     * @param from the status the report was inferred from ({@link CarrierCallback#from}), not what the carrier said:
     *             the report changes the attempt only while it is still in that status, so that news that came since
     *             the claim (a callback long delayed) is not overridden by a guess made before it; {@code null} for the
     *             carrier's own word
     */
    private static CarrierCallback bound(QuietAttempt quiet, String callId, AttemptStatus status,
                                         String providerStatus, Integer sipStatus, String sipReason,
                                         Integer durationSeconds, AttemptStatus from) {
        return new CarrierCallback(quiet.requestId(), quiet.attempt(), status, providerStatus, callId, sipStatus,
                sipReason, durationSeconds, null, null, quiet.dial(), false, true, from);
    }

    /** The call the carrier was asked about: the stored id, else (never so for the carriers here) the one it gave. */
    private static String calledId(QuietAttempt quiet, CallReport report) {
        return quiet.providerCallId() != null ? quiet.providerCallId() : report.providerCallId();
    }

    /**
     * Counts {@code outcome} for a report the applier took or refused as late, {@code other_call} (logged) when it
     * refused it because the attempt had left the call asked about (it was dialled again, waits to be, or holds
     * another call under the same dial), or {@code news_meanwhile} (logged) when it refused an inferred end because
     * news moved the attempt on since the claim.
     */
    private Mono<Void> counted(QuietAttempt quiet, CarrierCallback report, CallbackApplier.Result result,
                               String outcome) {
        return whyRefused(quiet, report, result)
                .flatMap(refusal -> {
                    count(refusal == Refusal.NONE ? outcome : refusal.outcome);
                    return endedHere(report, result);
                });
    }

    /**
     * A report the applier took that ended the attempt here: the caller ID's owner, when another dispatcher is, gets a
     * copy and frees the trunk slot it holds for the call ({@link SipStatusReports#endedHere}). Where the copy cannot
     * be sent, the owner's hold lapses as it did before, logged.
     */
    private Mono<Void> endedHere(CarrierCallback end, CallbackApplier.Result result) {
        if (result != CallbackApplier.Result.APPLIED || !end.status().isTerminal()) {
            return Mono.empty();
        }
        return ledger.findCommand(end.requestId(), end.attempt())
                .flatMap(command -> owners.endedHere(end, command.callerId()))
                .onErrorResume(error -> notHandedOn(end, error));
    }

    private Mono<Void> endedHere(CarrierCallback end, CallCommand command) {
        return owners.endedHere(end, command.callerId())
                .onErrorResume(error -> notHandedOn(end, error));
    }

    /** The end is recorded; only its copy for the owner is not: logged, and the owner's hold lapses as before. */
    private Mono<Void> notHandedOn(CarrierCallback end, Throwable error) {
        return Mono.fromRunnable(() -> log.warn("request {} attempt {} ended here, and its copy for the caller ID's "
                + "owner could not be appended: that owner holds the call's trunk slot until its hold lapses",
                end.requestId(), end.attempt(), error));
    }

    /** Why the ledger refused a report it could have taken, as far as it matters here. */
    private enum Refusal {
        /** Taken, or refused as late (the attempt ended meanwhile) or as about no attempt on record. */
        NONE(null),
        /** The attempt left the dial or call asked about. */
        OTHER_CALL(Watchdog.OTHER_CALL),
        /** The attempt is still on that dial but moved on since the claim: a callback came meanwhile. */
        NEWS(NEWS_MEANWHILE);

        private final String outcome;

        Refusal(String outcome) {
            this.outcome = outcome;
        }
    }

    /**
     * Why the applier refused the report (read from the ledger when it says only that it ignored it); logged. Only a
     * report inferred from the status claimed ({@link CarrierCallback#from}) is refused for news that came since.
     */
    private Mono<Refusal> whyRefused(QuietAttempt quiet, CarrierCallback report, CallbackApplier.Result result) {
        Mono<Refusal> refusal = switch (result) {
            case APPLIED, UNKNOWN_ATTEMPT -> Mono.just(Refusal.NONE);
            case OTHER_CALL -> Mono.just(Refusal.OTHER_CALL);
            case IGNORED -> ledger.standing(quiet.requestId(), quiet.attempt())
                    .retryWhen(InfraRetry.brief("attempt standing"))
                    .map(standing -> refusal(quiet, standing, report.from() != null))
                    .defaultIfEmpty(Refusal.NONE)
                    .onErrorResume(error -> Mono.just(Refusal.NONE));
        };
        return refusal.doOnNext(why -> {
            if (why == Refusal.OTHER_CALL) {
                logLeft(quiet);
            } else if (why == Refusal.NEWS) {
                logNews(quiet);
            }
        });
    }

    /**
     * @param inferred whether the refused report was inferred from the status claimed ({@link CarrierCallback#from}):
     *                 only such a report is refused for news that came since
     */
    private static Refusal refusal(QuietAttempt quiet, AttemptLedger.Standing standing, boolean inferred) {
        if (standing.leftDial(quiet.dial())) {
            return Refusal.OTHER_CALL;
        }
        return inferred && !standing.status().isTerminal() && standing.status() != quiet.status() ? Refusal.NEWS
                : Refusal.NONE;
    }

    private void logNews(QuietAttempt quiet) {
        log.info("request {} attempt {} was {} when claimed and has had news since; the watchdog's end of it changes "
                + "nothing", quiet.requestId(), quiet.attempt(), quiet.status().wire());
    }

    private void logLeft(QuietAttempt quiet) {
        log.warn("request {} attempt {}: the carrier's answer about dial {} (call {}) came after the attempt left that "
                + "call; it changes nothing", quiet.requestId(), quiet.attempt(), quiet.dial(),
                quiet.providerCallId() == null ? "unknown" : quiet.providerCallId());
    }

    /**
     * Whether the attempt's call cannot be alive any more: its dial is older than the call's own ring timeout and
     * time limit ({@code carrier_options}, else the carrier's defaults), and the margin. False when the dial's time is
     * not known.
     */
    private boolean pastItsLife(QuietAttempt quiet) {
        return pastItsLifeBy(quiet, Duration.ZERO);
    }

    /** Whether {@code give-up-after} has passed since the end of the call's life ({@link #pastItsLife}). */
    private boolean pastGivingUp(QuietAttempt quiet) {
        return pastItsLifeBy(quiet, properties.giveUpAfter());
    }

    private boolean pastItsLifeBy(QuietAttempt quiet, Duration since) {
        Instant lifeEnd = lifeEnd(quiet);
        return lifeEnd != null && clock.instant().isAfter(lifeEnd.plus(since));
    }

    /** When the call's life ends ({@link #pastItsLife}); null when the dial's time is not known. */
    private Instant lifeEnd(QuietAttempt quiet) {
        if (quiet.carrierAskedAt() == null) {
            return null;
        }
        return quiet.carrierAskedAt().plus(seconds(quiet, "timeout", defaultRing))
                .plus(seconds(quiet, "timeLimit", defaultLimit)).plus(properties.margin());
    }

    /** An option as the carriers read it ({@link CarrierOptions#seconds}); else the default. */
    private static Duration seconds(QuietAttempt quiet, String option, Duration fallback) {
        Long seconds = CarrierOptions.seconds(quiet.carrierOptions(), option);
        return seconds != null ? Duration.ofSeconds(seconds) : fallback;
    }

    /**
     * The carrier reports alive a call that cannot be: its record is stale (its final status was lost, and never
     * recorded). The carrier is asked to cancel it, in case it still rings ({@link Carrier#hangUp} leaves an answered
     * call to talk: the carrier's own time limit ends that one), and the attempt ends as it stood: answered calls
     * {@code completed}, the others {@code no-answer} (the carrier cancels a call that rings past its ring timeout).
     */
    private Mono<Void> staleAlive(QuietAttempt quiet, CallReport report) {
        boolean answered = report.status() == AttemptStatus.IN_PROGRESS || quiet.status() == AttemptStatus.IN_PROGRESS;
        AttemptStatus ended = answered ? AttemptStatus.COMPLETED : AttemptStatus.NO_ANSWER;
        log.warn("request {} attempt {}: the carrier still reports {} past the call's own ring timeout and time limit; "
                + "its record is stale: hung up and ended {}", quiet.requestId(), quiet.attempt(),
                report.providerStatus(), ended.wire());
        CallRef ref = new CallRef(quiet.requestId(), quiet.attempt(), report.providerCallId() != null
                ? report.providerCallId() : quiet.providerCallId());
        return carrier.hangUp(ref)
                .onErrorResume(error -> {
                    log.info("request {} attempt {}: hanging up the stale call failed ({}); it ends all the same",
                            quiet.requestId(), quiet.attempt(), error.toString());
                    return Mono.just(false);
                })
                // The carrier's raw status is what it reported (the call alive), not the end inferred from it.
                .then(Mono.defer(() -> appliedAndCounted(quiet, bound(quiet, calledId(quiet, report), ended,
                        report.providerStatus(), null, null, null, quiet.status()), "stale_alive")));
    }

    /**
     * A call the carrier does not know ends: {@code canceled} when a cancel reached its request (the cancel's order to
     * the carrier may have failed, or crossed a create-call request that timed out: either way the customer asked for
     * the request to end, and it ends as cancelled requests end, through the callback path's outcome for a cancel),
     * as it stood when it was answered or ringing ({@link #goneAsItStood}), else with {@code status_timeout}.
     *
     * @param carrierSaid why the call counts as unknown, for the log: {@link #NO_SUCH_CALL}, {@link #NEVER_TOLD} or
     *                    {@link #NOT_ASKED}
     */
    private Mono<Void> unknownToTheCarrier(QuietAttempt quiet, String carrierSaid) {
        if (quiet.status() == AttemptStatus.IN_PROGRESS) {
            return goneAsItStood(quiet, AttemptStatus.COMPLETED, "answered_gone", carrierSaid);
        }
        return ledger.endContext(quiet.requestId(), quiet.attempt())
                .retryWhen(InfraRetry.brief("attempt end context"))
                .flatMap(context -> context.cancelRequested() ? cancelled(quiet, carrierSaid)
                        : quiet.status() == AttemptStatus.RINGING
                        ? goneAsItStood(quiet, AttemptStatus.NO_ANSWER, RANG_GONE, carrierSaid)
                        : statusTimeout(quiet, carrierSaid));
    }

    /**
     * A call the carrier no longer knows, on record as answered or ringing, ends as it stood, as one it still reported
     * alive past its life would ({@link #staleAlive}): an answered one {@code completed}, as a callback that came would
     * have ended it (its talk time is not known), a ringing one {@code no-answer}, nothing saying it was answered.
     * jambonz forgets a call 12 hours after its last recorded change when that change was final, an hour after when
     * it was not: a ringing call whose end was never posted (a feature server restarted mid-ring) is gone by the time
     * the watchdog asks.
     */
    private Mono<Void> goneAsItStood(QuietAttempt quiet, AttemptStatus ended, String outcome, String carrierSaid) {
        log.warn("request {} attempt {} was {}, had no news for {} and {}; it ends {}", quiet.requestId(),
                quiet.attempt(), quiet.status().wire(), quietFor, carrierSaid, ended.wire());
        // No carrier status: the carrier said nothing of the call.
        return appliedAndCounted(quiet, bound(quiet, quiet.providerCallId(), ended, null, null, null, null,
                quiet.status()), outcome);
    }

    /** The report applied, and counted as {@link #counted} says. */
    private Mono<Void> appliedAndCounted(QuietAttempt quiet, CarrierCallback report, String outcome) {
        return applier.apply(report).flatMap(result -> counted(quiet, report, result, outcome));
    }

    private Mono<Void> cancelled(QuietAttempt quiet, String carrierSaid) {
        log.info("request {} attempt {} had no news for {}, {} and a cancel reached the request; it ends canceled",
                quiet.requestId(), quiet.attempt(), quietFor, carrierSaid);
        // Only from the status claimed: a call answered meanwhile ends as answered calls do, a cancel or not. Its
        // slot is freed by the applier, not as a success when the carrier never rang it
        // (CallbackApplier.carrierCarried).
        CarrierCallback ended = bound(quiet, quiet.providerCallId(), AttemptStatus.CANCELED, null, null, null, null,
                quiet.status());
        return applier.apply(ended)
                .flatMap(result -> whyRefused(quiet, ended, result).flatMap(refusal -> {
                    if (refusal != Refusal.NONE) {
                        count(refusal.outcome);
                    } else if (result == CallbackApplier.Result.APPLIED) {
                        count("canceled");
                    }
                    return endedHere(ended, result);
                }));
    }

    /**
     * The attempt ends {@code failed} and the request ends {@code failed} with {@code error.code=status_timeout}: the
     * attempt's transition, its {@code call.status} event and the request's {@code call.final} are committed in one
     * statement. A failure leaves all three undone, and the attempt is claimed again once its lease lapses; an
     * attempt that moved meanwhile (a late callback: the transition holds only from the status claimed) is left to the
     * path that moved it, counted {@code news_meanwhile}. Refused because the attempt has ended (this very statement,
     * committed but its answer lost and then tried again, or a late end), its slot is freed all the same: no callback
     * will come to free it. Refused because the attempt left the dial and call asked about (the transition is bound to
     * them), it changes nothing and its slot, the later dial's, stays.
     */
    private Mono<Void> statusTimeout(QuietAttempt quiet, String carrierSaid) {
        log.warn("request {} attempt {} had no news for {} and {}; failed with {}", quiet.requestId(),
                quiet.attempt(), quietFor, carrierSaid, STATUS_TIMEOUT);
        String message = "no status from the carrier for " + quietFor;
        String slotKey = TrunkGate.slotKey(quiet.requestId(), quiet.attempt());
        return ledger.findCommand(quiet.requestId(), quiet.attempt())
                .retryWhen(InfraRetry.brief("find attempt"))
                .flatMap(command -> failAndFinish(command, quiet, message)
                        .retryWhen(InfraRetry.brief("fail attempt"))
                        .switchIfEmpty(Mono.defer(() -> ledger.standing(quiet.requestId(), quiet.attempt())
                                .retryWhen(InfraRetry.brief("attempt standing"))
                                .flatMap(standing -> notFailed(quiet, standing, slotKey, command))
                                .then(Mono.empty())))
                        .flatMap(failed -> {
                            // Nothing else will end it: no callback comes for a call the carrier does not know.
                            lanes.trunks().release(slotKey, false);
                            count(STATUS_TIMEOUT);
                            return endedHere(failedHere(quiet), command);
                        }))
                // A cancel marked since the end's context was read: the request ends canceled, as it would have.
                .onErrorResume(AttemptLedger.CancelledMeanwhile.class, crossed -> cancelled(quiet, carrierSaid));
    }

    /** The failure {@link #statusTimeout} commits, as the copy for the caller ID's owner names it. */
    private static CarrierCallback failedHere(QuietAttempt quiet) {
        return bound(quiet, quiet.providerCallId(), AttemptStatus.FAILED, null, null, null, null, quiet.status());
    }

    /**
     * What {@link #statusTimeout} does when the ledger refused the failure: see there. An attempt that has ended (this
     * very failure, its answer lost) frees its slot here and at the caller ID's owner.
     */
    private Mono<Void> notFailed(QuietAttempt quiet, AttemptLedger.Standing standing, String slotKey,
                                 CallCommand command) {
        if (standing.status().isTerminal()) {
            lanes.trunks().release(slotKey, false);
            return endedHere(failedHere(quiet), command);
        }
        if (refusal(quiet, standing, true) == Refusal.NEWS) {
            logNews(quiet);
            count(NEWS_MEANWHILE);
        } else {
            logLeft(quiet);
            count(OTHER_CALL);
        }
        return Mono.empty();
    }

    /**
     * Emits once the attempt moved to {@code failed} with its events; empty when it had moved on meanwhile. Errors
     * with {@link AttemptLedger.CancelledMeanwhile}, all of it undone, when a cancel reached the request since its end
     * was decided: read under the request's lock in the same transaction, so a cancel marked before is seen and one
     * marked after finds the request ended (too late).
     */
    private Mono<Boolean> failAndFinish(CallCommand command, QuietAttempt quiet, String message) {
        Transition failed = new Transition(quiet.requestId(), quiet.attempt(), AttemptStatus.FAILED, null,
                quiet.providerCallId(), null, null, quiet.dial(), true, quiet.status());
        // The carrier's id of the call, when it was learnt, names on both events the call the carrier does not know.
        return events.atomically(events.endOn(command, ledger.transitionChange(failed),
                                event -> event.attempt(quiet.attempt()).status(AttemptStatus.FAILED)
                                        .provider(null, quiet.providerCallId())
                                        .error(STATUS_TIMEOUT, message).retry(false, null),
                                FinalStatus.FAILED, event -> event.attempt(quiet.attempt())
                                        .provider(null, quiet.providerCallId()).error(STATUS_TIMEOUT, message))
                        .flatMap(previous -> ledger.notCancelled(quiet.requestId()).thenReturn(previous)))
                .doOnNext(previous -> outcomes.ended(AttemptStatus.FAILED, null))
                .map(previous -> true);
    }

    private void count(String outcome) {
        registry.counter("dialer.dispatcher.watchdog.reconciled", "outcome", outcome).increment();
    }

    /**
     * The ring timeout and time limit of a call whose command names none: the Voice Gateway's defaults, or the SIP
     * trunk's where they are longer and the trunk is enabled, since a command without carrier options may be routed to
     * either. With the shorter, an answered SIP call talking past the Voice Gateway's time limit would be taken for a
     * stale one: ended {@code answered}, its trunk slot freed while it still talks.
     */
    record CallDefaults(Duration ringTimeout, Duration timeLimit) {

        static CallDefaults of(CarrierProperties voiceGateway, SipTrunkProperties sip) {
            if (!sip.enabled()) {
                return new CallDefaults(voiceGateway.ringTimeout(), voiceGateway.timeLimit());
            }
            return new CallDefaults(longer(voiceGateway.ringTimeout(), sip.ringTimeout()),
                    longer(voiceGateway.timeLimit(), sip.timeLimit()));
        }

        private static Duration longer(Duration one, Duration other) {
            return one.compareTo(other) >= 0 ? one : other;
        }
    }
}
