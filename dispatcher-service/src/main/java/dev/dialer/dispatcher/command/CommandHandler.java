package dev.dialer.dispatcher.command;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.CommandReader;
import dev.dialer.common.contract.ContractViolation;
import dev.dialer.common.contract.DialGivenBack;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.common.kafka.DeadLetters;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.Topics;
import dev.dialer.common.trace.TraceParent;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.OpenAttempts;
import dev.dialer.dispatcher.attempt.Transition;
import dev.dialer.dispatcher.carrier.Carrier;
import dev.dialer.dispatcher.carrier.CarrierException;
import dev.dialer.dispatcher.carrier.PlacedCall;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.outcome.OutcomeMetrics;
import dev.dialer.dispatcher.pacing.Lanes;
import dev.dialer.dispatcher.pacing.PacingProperties;
import dev.dialer.dispatcher.pacing.TrunkGate;
import dev.dialer.dispatcher.pacing.Trunks;
import dev.dialer.dispatcher.policy.DialGate;
import dev.dialer.dispatcher.resilience.InfraRetry;
import dev.dialer.dispatcher.resilience.ThrottledWarnings;
import dev.dialer.dispatcher.retry.RetryProperties;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;

/**
 * Handles one {@code dialer.call.commands} record, every error inside the record's own {@link Mono}, and acknowledges
 * it only once it is fully handled: the attempt recorded and the carrier's answer recorded (or the record
 * dead-lettered).
 *
 * <p>Guarantees: a person is never called twice for one attempt. The attempt row and its {@code queued} event are
 * committed together before the carrier is asked, and the attempt is claimed ({@code carrier_asked_at}) before the
 * carrier is asked, once: a redelivered record finds the claim taken and does not dial. Without a per-callee cap to
 * count within, one statement records and claims a new attempt; with one, the claim is a statement of its own after
 * the recording, and a crash between the two leaves a {@code queued} attempt nobody asked the carrier for, which the
 * redelivery of the unacknowledged record claims and dials. A crash after the claim leaves the attempt to the
 * reconciliation watchdog, which asks the carrier and never redials.
 *
 * <p>A call no carrier could take (no connection, a 5xx, an open breaker or a full bulkhead: it was not placed)
 * waits and is dialled again under the same attempt number: the attempt is requeued durably with a
 * {@code call.deferred} event ({@code reason=carrier_unavailable}), after waits that grow from
 * {@code retry.carrier-unavailable-delay} to {@code retry.carrier-unavailable-max-delay} (each as long again as the
 * attempt has waited), for at most {@code retry.carrier-unavailable-max-wait} after it was first queued; a 429, the
 * API's refusal for capacity, waits as a capacity rejection does ({@link #notPlaced}). A carrier
 * refusal (a 4xx: the request is wrong everywhere), or a call that waited that long, ends the attempt {@code failed}
 * and the request {@code failed} with {@code error.code=carrier_error}. A timed-out request may have placed the call:
 * it is left to the reconciliation watchdog, never redialled (the retry schedule, see {@code RetryPolicy}, covers
 * carrier outcomes of calls that were placed).
 *
 * <p>Attempts after the first arrive here like any other command, published by the {@code RetryScheduler} with
 * their attempt number; the ledger keeps a re-published one from being dialled twice.
 *
 * <p>PostgreSQL and Kafka outages are waited out ({@link InfraRetry#untilRecovered}): the partition pauses rather than
 * losing a command.
 */
@Component
class CommandHandler {

    private static final Logger log = LoggerFactory.getLogger(CommandHandler.class);
    /** A carrier that refuses or cannot take every call would write these once a dial. */
    private static final ThrottledWarnings carrierWarnings = new ThrottledWarnings(log, Duration.ofSeconds(10));
    static final String CARRIER_ERROR = "carrier_error";
    static final String VALID_UNTIL = "valid_until";
    /** A new attempt's first dial ({@link AttemptLedger#claimDial} counts them from 1). */
    private static final int FIRST_DIAL = 1;
    private static final UnaryOperator<CallEvent.Builder> QUEUED = event -> event.status(AttemptStatus.QUEUED);

    private final CommandReader reader = new CommandReader();
    private final AttemptLedger ledger;
    private final OpenAttempts openAttempts;
    private final CallEvents events;
    private final Carrier carrier;
    private final KafkaPublisher publisher;
    private final DeadLetters deadLetters;
    private final MeterRegistry registry;
    private final OutcomeMetrics outcomes;
    private final KeyRouting routing;
    private final DialGate gate;
    private final RetryProperties retry;
    private final Clock clock;
    private final Trunks trunks;
    private final Duration capacityRequeueDelay;

    CommandHandler(AttemptLedger ledger, OpenAttempts openAttempts, CallEvents events, Carrier carrier,
                   KafkaPublisher publisher, MeterRegistry registry, KeyRouting routing, DialGate gate,
                   RetryProperties retry, PacingProperties pacing, Clock clock, Lanes lanes) {
        this.trunks = lanes.trunks();
        this.capacityRequeueDelay = pacing.capacityRequeueDelay();
        this.openAttempts = openAttempts;
        this.retry = retry;
        this.clock = clock;
        this.routing = routing;
        this.gate = gate;
        this.ledger = ledger;
        this.events = events;
        this.carrier = carrier;
        this.publisher = publisher;
        this.deadLetters = new DeadLetters(publisher, Topics.CALL_COMMANDS_DLQ);
        this.registry = registry;
        this.outcomes = new OutcomeMetrics(registry);
        // Registered up front, so dashboards see zeros rather than missing series.
        for (CommandOutcome outcome : CommandOutcome.values()) {
            registry.counter("dialer.dispatcher.commands", "outcome", outcome.wire());
        }
    }

    /** Completes once the record is handled and acknowledged; never errors. */
    Mono<Void> handle(InboundRecord record) {
        return handleReporting(record, null).then();
    }

    /**
     * As {@link #handle}, telling what became of the record once it is acknowledged.
     *
     * @param read the record's command when the caller has read and validated it already; null to read it here
     */
    Mono<CommandOutcome> handleReporting(InboundRecord record, CallCommand read) {
        return Mono.defer(() -> process(record, read))
                .onErrorResume(error -> Mono.just(keepAside(record, error)))
                .doOnNext(this::count)
                // A record kept aside is acknowledged once its copy is stored (keepAside).
                .flatMap(outcome -> outcome.keptAside() ? Mono.just(outcome)
                        : Mono.fromRunnable(record::acknowledge).thenReturn(outcome));
    }

    /**
     * The lanes could not take the record in, for a defect of theirs ({@code LaneWork#reject}): kept aside as any
     * command whose handling failed so ({@link #keepAside}).
     */
    Mono<Void> handleDefect(InboundRecord record, Throwable defect) {
        return Mono.fromRunnable(() -> count(keepAside(record, defect)));
    }

    private void count(CommandOutcome outcome) {
        registry.counter("dialer.dispatcher.commands", "outcome", outcome.wire()).increment();
    }

    private Mono<CommandOutcome> process(InboundRecord record, CallCommand read) {
        CallCommand command;
        try {
            command = read != null ? read : reader.read(record.value());
        } catch (ContractViolation violation) {
            return deadLetter(record, violation);
        }
        if (routing.misplaced(record, command)) {
            return reroute(record, command);
        }
        return clearedByPolicy(command)
                .flatMap(cleared -> cleared ? recordAttempt(command) : Mono.just(CommandOutcome.HELD_BY_POLICY))
                // The dispatcher's span of the trace the record carries (or of a new one), kept with the request
                // when this command is the first to record it: its events and re-injected waits continue it.
                .contextWrite(Context.of(TraceParent.HEADER,
                        TraceParent.childOf(record.headers().get(TraceParent.HEADER))));
    }

    /**
     * The dial-time policy ({@link DialGate}): cancel, pause, DNC, TTL, per-callee cap and calling window. A command it
     * holds has been ended or made to wait durably, with its event; only a cleared one is recorded and dialled.
     */
    private Mono<Boolean> clearedByPolicy(CallCommand command) {
        return gate.clear(command);
    }

    /**
     * The record's copy goes to the DLQ, whole, or cut short and marked when it is too large to send whole (the
     * whole record then stays in the commands topic, at the offset the copy names, for the topic's retention).
     */
    private Mono<CommandOutcome> deadLetter(InboundRecord record, ContractViolation violation) {
        return deadLetters.sendUntilDone(record, violation, "command")
                .doOnNext(copy -> registry.counter("dialer.dispatcher.dlq", "code", violation.code().wire(), "copy",
                        copy.wire()).increment())
                .thenReturn(CommandOutcome.DLQ);
    }

    /**
     * Published again keyed by its caller ID, to the partition this dispatcher's count gives it, so it lands where
     * that caller ID's owner reads; then acknowledged.
     */
    private Mono<CommandOutcome> reroute(InboundRecord record, CallCommand command) {
        log.info("command {} at {}-{}@{} keyed '{}' is not where its caller ID lives; re-routed", command.requestId(),
                record.topic(), record.partition(), record.offset(), record.key() == null ? "" : "…");
        return publisher.publish(KeyRouting.reroutedAs(record, command.callerId(),
                        routing.partitionFor(command.callerId())))
                .retryWhen(InfraRetry.untilRecovered("re-route command"))
                .thenReturn(CommandOutcome.REROUTED)
                // Refused for good (too large for this producer, say): to the DLQ with why, not skipped unseen.
                .onErrorResume(error -> !InfraRetry.isTransient(error), error -> deadLetter(record,
                        new ContractViolation(ContractViolation.Code.UNROUTABLE, "command " + command.requestId()
                                + " could not be re-routed to its caller ID's partition: " + error)));
    }

    /**
     * Records the attempt and claims it for dialling, so that exactly one handler asks the carrier. Where the account
     * has a per-callee cap, the attempt row and its {@code queued} event are committed in one transaction
     * ({@link #recordQueued}), then the claim ({@link DialGate#claim}: {@link AttemptLedger#claimDial}, within the
     * callee's cap); elsewhere one statement does both ({@link #recordClaimed}). A redelivered command therefore dials
     * an attempt that was recorded but never claimed (its dispatcher died in between), and never one that was. A claim
     * the callee's cap refuses (another call to the callee was dialled since the policy let this one through) dials
     * nothing: the call waits, with its {@code call.deferred} event.
     */
    private Mono<CommandOutcome> recordAttempt(CallCommand command) {
        return gate.countsAtClaim(command) ? claimRecorded(command, recordQueued(command)) : recordClaimed(command);
    }

    /**
     * Without a per-callee cap to count within, a claim checks only that the request is open, as recording the attempt
     * does: a new attempt is recorded and claimed for its first dial by one statement, with its {@code queued} event.
     * An attempt recorded before (a redelivery, or one requeued after a capacity rejection that this command brings
     * back) is claimed as one recorded apart is ({@link #claimRecorded}), once the requeued one is claimed back
     * ({@link #reclaimed}): the new attempt that one statement did not record, another would not either. A statement
     * run again after its commit went unacknowledged records nothing, and finds the attempt claimed by its own first
     * run ({@link AttemptLedger#ownClaim}, by the handling's token): that claim is dialled, as it would have been.
     */
    private Mono<CommandOutcome> recordClaimed(CallCommand command) {
        UUID token = UUID.randomUUID();
        return Mono.defer(() -> gate.stillClear(command)
                        ? events.emitOn(command, ledger.newClaimedAttempt(command, token), QUEUED)
                        : Mono.<Optional<AttemptStatus>>error(new NoLongerClear()))
                .retryWhen(InfraRetry.untilRecovered("record attempt"))
                .hasElement()
                .flatMap(claimed -> claimed ? Mono.just(true) : ledger.ownClaim(command.requestId(), command.attempt(),
                                token)
                        .retryWhen(InfraRetry.untilRecovered("look up own claim"))
                        .hasElement())
                .flatMap(claimed -> {
                    if (!claimed) {
                        return claimRecorded(command, reclaimed(command));
                    }
                    gate.dialClaimed();
                    openAttempts.recorded(command, FIRST_DIAL);
                    return dial(command, FIRST_DIAL);
                })
                // The policy was asked before an outage waited out here: asked again, it makes the call wait or ends
                // it. Once only: cleared again, the attempt is recorded and claimed apart, and the claim asks the
                // policy as it claims. A copy of a command whose attempt was dialled before clears without being
                // asked (the ledger knows it), and its claim finds nothing to claim: a duplicate, not a loop.
                .onErrorResume(NoLongerClear.class, changed -> clearedByPolicy(command)
                        .flatMap(cleared -> cleared ? claimRecorded(command, recordQueued(command))
                                : Mono.just(CommandOutcome.HELD_BY_POLICY)));
    }

    /** The policy no longer lets through a command it cleared, as its attempt is about to be recorded and claimed. */
    private static final class NoLongerClear extends RuntimeException {
        NoLongerClear() {
            super("the dial-time policy no longer lets the call through", null, false, false);
        }
    }

    /** Records the attempt ({@code recording}), then claims it ({@link DialGate#claim}) and dials what it claimed. */
    private Mono<CommandOutcome> claimRecorded(CallCommand command, Mono<Optional<AttemptStatus>> recording) {
        return recording
                .retryWhen(InfraRetry.untilRecovered("record attempt"))
                .then(Mono.defer(() -> gate.claim(command))
                        .map(Optional::of)
                        .defaultIfEmpty(Optional.empty()))
                .flatMap(claimed -> {
                    if (claimed.isEmpty()) {
                        return Mono.just(CommandOutcome.DUPLICATE);
                    }
                    if (!(claimed.get() instanceof DialGate.Claim.Dial claim)) {
                        return Mono.just(CommandOutcome.HELD_BY_POLICY);
                    }
                    openAttempts.recorded(command, claim.number());
                    return dial(command, claim.number());
                });
    }

    /**
     * A new attempt becomes {@code queued} with its event; failing that, one requeued after a capacity rejection that
     * this command claims back (the rejection was not an attempt, so the same number is dialled again) does. Each is
     * one statement. Empty when neither happened (the attempt was recorded before, or the request has ended or been
     * cancelled).
     */
    private Mono<Optional<AttemptStatus>> recordQueued(CallCommand command) {
        return events.emitOn(command, ledger.newAttempt(command), QUEUED)
                .switchIfEmpty(Mono.defer(() -> reclaimed(command)));
    }

    /** An attempt requeued after a capacity rejection is {@code queued} again, with its event, for this command. */
    private Mono<Optional<AttemptStatus>> reclaimed(CallCommand command) {
        return events.emitOn(command, ledger.reclaimedAttempt(command), QUEUED);
    }

    /**
     * The attempt is claimed: from here on it may ring someone, so it is never dialled again, only reconciled. An
     * unexpected error from here on (the carrier's id of a placed call refused by PostgreSQL, a defect) is
     * {@link ClaimedThenFailed}: the record is kept aside as any, but the call's trunk slot stays taken.
     */
    private Mono<CommandOutcome> dial(CallCommand command, int dial) {
        return Mono.defer(() -> carrier.place(command, dial))
                .flatMap(placed -> rememberCall(command, dial, placed))
                .onErrorResume(CarrierException.class, error -> error.mayHaveBeenPlaced()
                        ? outcomeUnknown(command, error)
                        : error.isTechnical() ? notPlaced(command, dial, error) : carrierFailed(command, dial, error))
                .onErrorMap(ClaimedThenFailed::new);
    }

    /** Handling failed after the attempt's dial was claimed: the carrier may have the call. */
    static final class ClaimedThenFailed extends RuntimeException {
        ClaimedThenFailed(Throwable cause) {
            super("after its dial was claimed: " + cause, cause);
        }
    }

    /**
     * No carrier took the call, so nobody was called: the attempt is requeued under the same number (its claim
     * released) with a {@code call.deferred} event, in one transaction; once it has waited
     * {@code carrier-unavailable-max-wait} since it was first queued, it fails instead.
     *
     * <p>A call the carrier's API refused for its capacity ({@link CarrierException#isCapacityRefusal}, a 429) is
     * not an attempt either, and is treated as a capacity rejection reported in a callback is: it waits
     * {@code pacing.capacity-requeue-delay} ({@code reason=capacity}), the trunk's concurrency limit shrinks, and once
     * it has waited {@code carrier-unavailable-max-wait} the request ends {@code exhausted} with
     * {@code error.code=capacity}.
     */
    private Mono<CommandOutcome> notPlaced(CallCommand command, int dial, CarrierException error) {
        return ledger.queuedAt(command.requestId(), command.attempt())
                .retryWhen(InfraRetry.untilRecovered("attempt queued at"))
                .flatMap(queuedAt -> requeueNotPlaced(command, dial, error, queuedAt))
                .switchIfEmpty(Mono.defer(() -> error.isCapacityRefusal()
                        ? unplacedTellingTrunk(command, dial, error, FinalStatus.EXHAUSTED, DialGivenBack.CAPACITY,
                        "the carrier had no capacity for the call")
                        : carrierFailed(command, dial, error)));
    }

    /**
     * A capacity refusal counted, and told to the trunk of the carrier that refused (after a failover, not the one
     * whose trunk paced the call), while the attempt's slot is still held.
     */
    private void capacityRejected(CallCommand command, CarrierException error) {
        trunks.capacityRejected(TrunkGate.slotKey(command.requestId(), command.attempt()), error.carrier());
        registry.counter("dialer.dispatcher.capacity.rejections").increment();
    }

    private Mono<CommandOutcome> requeueNotPlaced(CallCommand command, int dial, CarrierException error,
                                                  Instant queuedAt) {
        Instant now = clock.instant();
        boolean capacity = error.isCapacityRefusal();
        String reason = capacity ? DialGivenBack.CAPACITY : DialGivenBack.CARRIER_UNAVAILABLE;
        Instant due = now.plus(capacity ? capacityRequeueDelay
                : retry.carrierUnavailableWait(Duration.between(queuedAt, now)));
        if (gate.expiresBy(command, due)) {
            // As a retry that could only expire: the request ends now, rather than announcing a dial that never comes.
            // A capacity refusal still tells its trunk, as one that waits does.
            return unplacedTellingTrunk(command, dial, error, FinalStatus.EXPIRED, VALID_UNTIL,
                    "valid_until passes before the call could be placed again");
        }
        Mono<Boolean> requeued = ledger.requeueNotPlaced(command.requestId(), command.attempt(), dial, due,
                        now.minus(retry.carrierUnavailableMaxWait()))
                .filter(Boolean::booleanValue)
                // A cancel that reached the request while its dial was on its way ends it, with no deferral announced.
                .flatMap(done -> ledger.notCancelled(command.requestId()).thenReturn(done))
                .flatMap(done -> events.deferred(command, reason, due, event -> event
                                .attempt(command.attempt())
                                .error(CARRIER_ERROR, error.getMessage()))
                        .thenReturn(true));
        return events.atomically(requeued)
                .retryWhen(InfraRetry.untilRecovered("requeue attempt not placed"))
                .map(done -> {
                    openAttempts.ended(command.requestId(), command.attempt());
                    if (capacity) {
                        // While the slot is still held: it tells the trunk's gate which congestion episode it was.
                        capacityRejected(command, error);
                    }
                    carrierWarnings.warn("requeued " + reason, "no carrier placed request {} attempt {} ({}); "
                            + "dialled again at {} ({})", command.requestId(), command.attempt(), error.getMessage(),
                            due, reason);
                    return CommandOutcome.REQUEUED;
                })
                .onErrorResume(AttemptLedger.CancelledMeanwhile.class, cancelled -> cancelledMeanwhile(command, dial,
                        error));
    }

    /**
     * A cancel reached the request while its dial was on its way and no carrier placed the call: the attempt ends
     * {@code failed} with the carrier's error and the request {@code canceled}, as a cancel of a waiting request ends
     * it; nothing is requeued and no deferral announced. The carrier's capacity refusal still tells its trunk.
     */
    private Mono<CommandOutcome> cancelledMeanwhile(CallCommand command, int dial, CarrierException error) {
        return tellingTrunk(command, error, canceledInstead(command, dial, error));
    }

    /** The attempt no carrier placed ends {@code failed}, and its request, which a cancel reached, {@code canceled}. */
    private Mono<CommandOutcome> canceledInstead(CallCommand command, int dial, CarrierException error) {
        log.info("request {} attempt {} was not placed ({}) and a cancel reached it meanwhile: it ends canceled",
                command.requestId(), command.attempt(), error.getMessage());
        return unplaced(command, dial, error, FinalStatus.CANCELED, null, null);
    }

    /**
     * {@link #unplaced}, and once the attempt has ended, a capacity refusal told to its trunk
     * ({@link #capacityRejected}).
     */
    private Mono<CommandOutcome> unplacedTellingTrunk(CallCommand command, int dial, CarrierException error,
                                                      FinalStatus finalStatus, String code, String message) {
        return tellingTrunk(command, error, unplaced(command, dial, error, finalStatus, code, message));
    }

    private Mono<CommandOutcome> tellingTrunk(CallCommand command, CarrierException error,
                                              Mono<CommandOutcome> ended) {
        return ended.doOnNext(outcome -> {
            if (outcome == CommandOutcome.FAILED && error.isCapacityRefusal()) {
                capacityRejected(command, error);
            }
        });
    }

    /**
     * Stores the carrier's id of the call and which carrier placed it; a call its route failed over with moves its
     * trunk slot to that carrier's trunk ({@link Trunks#placedOn}).
     */
    private Mono<CommandOutcome> rememberCall(CallCommand command, int dial, PlacedCall placed) {
        trunks.placedOn(TrunkGate.slotKey(command.requestId(), command.attempt()), placed.carrier());
        return ledger.storeProviderCallId(command.requestId(), command.attempt(), dial, placed.sid(),
                        placed.carrier())
                .retryWhen(InfraRetry.untilRecovered("store provider call id"))
                .thenReturn(CommandOutcome.DIALLED);
    }

    /**
     * The carrier may have placed the call (a timeout, a connection lost after the request went out, a 500, 502 or
     * 504): never dial it again blind. The attempt stays open; its callbacks may still
     * come, and if none does, the watchdog reconciles it (asks the carrier, else fails it with {@code status_timeout}).
     * Its trunk slot goes to the carrier that may hold the call, the last its route tried: after a failover, the one
     * the lane's pacing took it on certainly does not ({@link Trunks#placedOn}).
     */
    private Mono<CommandOutcome> outcomeUnknown(CallCommand command, CarrierException error) {
        log.warn("carrier did not answer for request {} attempt {} ({}); left to reconciliation", command.requestId(),
                command.attempt(), error.getMessage());
        if (error.carrier() != null) {
            trunks.placedOn(TrunkGate.slotKey(command.requestId(), command.attempt()), error.carrier());
        }
        return Mono.just(CommandOutcome.DIALLED);
    }

    /**
     * The attempt ends {@code failed}; the request ends {@code failed} with {@code error.code=carrier_error}, or the
     * carrier's more precise code ({@code unsupported_target}).
     */
    private Mono<CommandOutcome> carrierFailed(CallCommand command, int dial, CarrierException error) {
        String code = error.errorCode() != null ? error.errorCode() : CARRIER_ERROR;
        return unplaced(command, dial, error, FinalStatus.FAILED, code, error.getMessage());
    }

    /**
     * The attempt no carrier placed ends {@code failed} with the carrier's error, and the request ends
     * {@code finalStatus} with {@code code} and {@code message} ({@code expired} also names {@code valid_until} as its
     * reason, as the dial-time policy's expiry does; a null {@code code}, for {@code canceled}, names no error). Only
     * while the attempt is still on this dial, asked of the carrier: one requeued meanwhile (a requeue whose commit was
     * acknowledged too late for this command, which ran it again) or dialled again waits or rings, and is not this
     * failure's to end. A cancel that reached the request while its dial was on its way ends it {@code canceled}
     * instead ({@link #cancelledMeanwhile}): nobody was called, and the cancel, finding the attempt ended, would
     * otherwise be refused as too late. Read in the end's transaction, after its statement has locked the request's
     * row: a cancel marked before is seen, one marked after finds the request ended.
     */
    private Mono<CommandOutcome> unplaced(CallCommand command, int dial, CarrierException error,
                                          FinalStatus finalStatus, String code, String message) {
        String attemptCode = error.errorCode() != null ? error.errorCode() : CARRIER_ERROR;
        Transition failed = new Transition(command.requestId(), command.attempt(), AttemptStatus.FAILED, null, null,
                null, null, dial);
        // The attempt's end, its event and the request's final event: one statement, committed together or not at all.
        // It rang nobody: the per-callee cap no longer counts it, nor does the preview, told by the event's reason.
        String notPlaced = error.isCapacityRefusal() ? DialGivenBack.CAPACITY : DialGivenBack.NOT_PLACED;
        Mono<Optional<AttemptStatus>> end = events.endOn(command, ledger.notPlacedChange(failed),
                event -> event.status(AttemptStatus.FAILED).reason(notPlaced).error(attemptCode, error.getMessage())
                        .retry(false, null),
                finalStatus, event -> code == null ? event : (finalStatus == FinalStatus.EXPIRED
                        ? event.reason(code) : event).error(code, message));
        return (finalStatus == FinalStatus.CANCELED ? end
                        : events.atomically(end.flatMap(ended -> ledger.notCancelled(command.requestId())
                                .thenReturn(ended))))
                .retryWhen(InfraRetry.untilRecovered("fail attempt"))
                .map(done -> {
                    openAttempts.ended(command.requestId(), command.attempt());
                    // No SIP status: no call was made.
                    outcomes.ended(AttemptStatus.FAILED, null);
                    carrierWarnings.warn("failed " + error.reason().wire() + " " + finalStatus.wire(),
                            "carrier did not place request {} attempt {} ({}, {}): {}; the request ends {}",
                            command.requestId(), command.attempt(), error.reason().wire(), attemptCode,
                            error.getMessage(), finalStatus.wire());
                    return CommandOutcome.FAILED;
                })
                .switchIfEmpty(Mono.fromCallable(() -> {
                    log.info("request {} attempt {} dial {} was not placed, and had been requeued or dialled again "
                            + "meanwhile: left as it is", command.requestId(), command.attempt(), dial);
                    return CommandOutcome.DUPLICATE;
                }))
                .onErrorResume(AttemptLedger.CancelledMeanwhile.class, cancelled -> canceledInstead(command, dial,
                        error));
    }

    /**
     * A defect, not an outage (those are retried): log it, keep a copy in the DLQ ({@code processing_error}) to replay
     * once it is put right, and go on, because holding the partition would stop every other caller ID on it for a
     * record that fails the same way each time. A replayed copy is dialled only if its attempt was never claimed: the
     * ledger recognises one that was.
     *
     * <p>Answers at once: the copy, and the record's acknowledgement once the copy is stored, run on their own. A DLQ
     * that refuses writes then holds back the commits of the record's partition (nothing is acknowledged past it), not
     * the dial permit and trunk slot of the lane that handed it over.
     */
    private CommandOutcome keepAside(InboundRecord record, Throwable error) {
        boolean claimed = error instanceof ClaimedThenFailed;
        log.error("command at {}-{}@{} could not be handled{}; a copy goes to {}", record.topic(), record.partition(),
                record.offset(), claimed ? " (its dial was claimed: never dialled again, the watchdog settles it)" : "",
                Topics.CALL_COMMANDS_DLQ, error);
        deadLetter(record, new ContractViolation(ContractViolation.Code.PROCESSING_ERROR, "handling failed: " + error))
                .then(Mono.fromRunnable(record::acknowledge))
                .subscribe(done -> { }, failure -> log.error("command at {}-{}@{} could not be kept aside",
                        record.topic(), record.partition(), record.offset(), failure));
        return claimed ? CommandOutcome.ERROR_AFTER_CLAIM : CommandOutcome.ERROR;
    }
}
