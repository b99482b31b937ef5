package dev.dialer.dispatcher.command;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CommandReader;
import dev.dialer.common.contract.ContractViolation;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.common.kafka.DeadLetters;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.Transition;
import dev.dialer.dispatcher.carrier.Carrier;
import dev.dialer.dispatcher.carrier.CarrierException;
import dev.dialer.dispatcher.carrier.PlacedCall;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.policy.DialGate;
import dev.dialer.dispatcher.resilience.InfraRetry;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Handles one {@code dialer.call.commands} record, every error inside the record's own {@link Mono}, and acknowledges
 * it only once it is fully handled: the attempt recorded and the carrier's answer recorded (or the record
 * dead-lettered).
 *
 * <p>Guarantees: a person is never called twice for one attempt. The attempt row is written before the carrier is
 * asked, and a record whose attempt row already exists is a redelivery and is not dialled. The price is at most once
 * per attempt: a crash between recording and dialling leaves a {@code queued} attempt that nobody dials (the
 * reconciliation watchdog's to find).
 *
 * <p>A carrier failure (refused, unreachable) ends the attempt {@code failed} and the request
 * {@code failed} with {@code error.code=carrier_error}; it is not retried. A timed-out request may have placed the
 * call: it is left to the reconciliation watchdog, never redialled (the retry schedule, see
 * {@code RetryPolicy}, covers carrier outcomes of calls that were placed).
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
    static final String CARRIER_ERROR = "carrier_error";

    private final CommandReader reader = new CommandReader();
    private final AttemptLedger ledger;
    private final CallEvents events;
    private final Carrier carrier;
    private final KafkaPublisher publisher;
    private final MeterRegistry registry;
    private final KeyRouting routing;
    private final DialGate gate;

    CommandHandler(AttemptLedger ledger, CallEvents events, Carrier carrier, KafkaPublisher publisher,
                   MeterRegistry registry, KeyRouting routing, DialGate gate) {
        this.routing = routing;
        this.gate = gate;
        this.ledger = ledger;
        this.events = events;
        this.carrier = carrier;
        this.publisher = publisher;
        this.registry = registry;
        // Registered up front, so dashboards see zeros rather than missing series.
        for (CommandOutcome outcome : CommandOutcome.values()) {
            registry.counter("dialer.dispatcher.commands", "outcome", outcome.wire());
        }
    }

    /** Completes once the record is handled and acknowledged; never errors. */
    Mono<Void> handle(InboundRecord record) {
        return handleReporting(record).then();
    }

    /** As {@link #handle}, telling what became of the record once it is acknowledged. */
    Mono<CommandOutcome> handleReporting(InboundRecord record) {
        return process(record)
                .onErrorResume(error -> skip(record, error))
                .doOnNext(outcome -> registry.counter("dialer.dispatcher.commands", "outcome", outcome.wire())
                        .increment())
                .flatMap(outcome -> Mono.fromRunnable(record::acknowledge).thenReturn(outcome));
    }

    private Mono<CommandOutcome> process(InboundRecord record) {
        CallCommand command;
        try {
            command = reader.read(record.value());
        } catch (ContractViolation violation) {
            return deadLetter(record, violation);
        }
        if (routing.misplaced(record, command)) {
            return reroute(record, command);
        }
        return clearedByPolicy(command)
                .flatMap(cleared -> cleared ? recordAttempt(command) : Mono.just(CommandOutcome.HELD_BY_POLICY));
    }

    /**
     * The dial-time policy ({@link DialGate}): cancel, pause, DNC, TTL, per-callee cap and calling window. A command it
     * holds has been ended or made to wait durably, with its event; only a cleared one is recorded and dialled.
     */
    private Mono<Boolean> clearedByPolicy(CallCommand command) {
        return gate.clear(command);
    }

    private Mono<CommandOutcome> deadLetter(InboundRecord record, ContractViolation violation) {
        log.warn("command at {}-{}@{} is {}: {}; sent to {}", record.topic(), record.partition(), record.offset(),
                violation.code().wire(), violation.getMessage(), Topics.CALL_COMMANDS_DLQ);
        return publisher.publish(DeadLetters.of(record, Topics.CALL_COMMANDS_DLQ, violation))
                .retryWhen(InfraRetry.untilRecovered("dead-letter command"))
                .then(Mono.fromRunnable(() -> registry.counter("dialer.dispatcher.dlq", "code",
                        violation.code().wire()).increment()))
                .thenReturn(CommandOutcome.DLQ);
    }

    /** Published again keyed by its caller ID, so it lands where that caller ID's owner reads; then acknowledged. */
    private Mono<CommandOutcome> reroute(InboundRecord record, CallCommand command) {
        log.info("command {} at {}-{}@{} keyed '{}' is not where its caller ID lives; re-routed", command.requestId(),
                record.topic(), record.partition(), record.offset(), record.key() == null ? "" : "…");
        java.util.Map<String, String> headers = new java.util.HashMap<>(record.headers());
        headers.put(KeyRouting.REROUTED_HEADER, record.partition() + "@" + record.offset());
        return publisher.publish(new dev.dialer.common.kafka.OutboundRecord(Topics.CALL_COMMANDS, command.callerId(),
                        record.value(), headers))
                .retryWhen(InfraRetry.untilRecovered("re-route command"))
                .thenReturn(CommandOutcome.REROUTED);
    }

    /**
     * Dials when the attempt is new, or when it was requeued after a capacity rejection and this command is the first
     * to claim it back (the rejection was not an attempt, so the same attempt number is dialled again).
     */
    private Mono<CommandOutcome> recordAttempt(CallCommand command) {
        return ledger.record(command)
                .flatMap(isNew -> isNew ? Mono.just(true) : ledger.reclaimRequeued(command))
                .retryWhen(InfraRetry.untilRecovered("record attempt"))
                .flatMap(dial -> dial ? dial(command) : Mono.just(CommandOutcome.DUPLICATE));
    }

    private Mono<CommandOutcome> dial(CallCommand command) {
        return events.emit(command, event -> event.status(AttemptStatus.QUEUED),
                        InfraRetry.untilRecovered("queued event"))
                .then(ledger.markCarrierAsked(command.requestId(), command.attempt())
                        .retryWhen(InfraRetry.untilRecovered("mark carrier asked")))
                .then(Mono.defer(() -> carrier.place(command)))
                .flatMap(placed -> rememberCall(command, placed))
                .onErrorResume(CarrierException.class, error -> error.reason() == CarrierException.Reason.TIMEOUT
                        ? outcomeUnknown(command, error)
                        : carrierFailed(command, error));
    }

    private Mono<CommandOutcome> rememberCall(CallCommand command, PlacedCall placed) {
        return ledger.storeProviderCallId(command.requestId(), command.attempt(), placed.sid())
                .retryWhen(InfraRetry.untilRecovered("store provider call id"))
                .thenReturn(CommandOutcome.DIALLED);
    }

    /**
     * The carrier may have placed the call: never dial it again blind. The attempt stays open; its callbacks may still
     * come, and if none does, the watchdog reconciles it (asks the carrier, else fails it with {@code status_timeout}).
     */
    private Mono<CommandOutcome> outcomeUnknown(CallCommand command, CarrierException error) {
        log.warn("carrier did not answer for request {} attempt {} ({}); left to reconciliation", command.requestId(),
                command.attempt(), error.getMessage());
        return Mono.just(CommandOutcome.DIALLED);
    }

    /** The attempt ends {@code failed}; the request ends {@code failed} with {@code error.code=carrier_error}. */
    private Mono<CommandOutcome> carrierFailed(CallCommand command, CarrierException error) {
        log.warn("carrier did not place request {} attempt {} ({}): {}", command.requestId(), command.attempt(),
                error.reason().wire(), error.getMessage());
        Transition failed = new Transition(command.requestId(), command.attempt(), AttemptStatus.FAILED, null, null,
                null, null);
        Mono<Void> attemptEvent = events.atomically(ledger.transition(failed)
                        .flatMap(previous -> events.emit(command, event -> event
                                        .status(AttemptStatus.FAILED)
                                        .previousStatus(previous.wire())
                                        .error(CARRIER_ERROR, error.getMessage()),
                                reactor.util.retry.Retry.max(0))))
                .retryWhen(InfraRetry.untilRecovered("fail attempt"))
                .then();
        Mono<Void> finalEvent = events.finishOnce(command, FinalStatus.FAILED,
                event -> event.error(CARRIER_ERROR, error.getMessage()), InfraRetry.untilRecovered("final event"));
        return attemptEvent.then(finalEvent).thenReturn(CommandOutcome.FAILED);
    }

    /**
     * A defect, not an outage (those are retried): log it and go on, because holding the partition would stop every
     * other caller ID on it for a record that fails the same way each time.
     */
    private Mono<CommandOutcome> skip(InboundRecord record, Throwable error) {
        log.error("command at {}-{}@{} could not be handled; skipped", record.topic(), record.partition(),
                record.offset(), error);
        return Mono.just(CommandOutcome.ERROR);
    }
}
