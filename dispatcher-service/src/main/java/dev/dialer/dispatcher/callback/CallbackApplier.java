package dev.dialer.dispatcher.callback;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.EventType;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.Transition;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.outcome.Outcome;
import dev.dialer.dispatcher.outcome.OutcomeClassifier;
import dev.dialer.dispatcher.resilience.InfraRetry;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Applies a carrier status callback to its attempt and publishes what changed. Independent of HTTP, so a consumer of
 * a callbacks topic can call it too.
 *
 * <p>The attempt moves by a guarded transition ({@link AttemptLedger#transition}): a late or repeated callback (a
 * second {@code ringing}, anything after a terminal status) changes nothing and publishes nothing. A transition that
 * happened publishes a {@code call.status} event; a terminal one also classifies the outcome and, if this caller is
 * the one that marks the request finished, publishes the request's single {@code call.final}.
 *
 * <p>Retries and capacity requeues do not exist yet, so every terminal outcome ends the request now: a retryable
 * outcome (busy, no-answer, transient failure) and a declined call end {@code exhausted} with {@code will_retry=false},
 * a capacity rejection ends {@code exhausted} with {@code error.code=capacity}, an unreachable number ends
 * {@code failed}. The durable retry schedule will turn the first and the third into deferrals.
 *
 * <p>Delivery: events are published after the database change is committed. If publishing fails beyond a few quick
 * retries, the change stays applied and its event is lost (the carrier does not resend callbacks); the caller gets
 * the error.
 */
@Component
public class CallbackApplier {

    /** What became of a callback. */
    public enum Result {
        /** The attempt moved and its events are published. */
        APPLIED,
        /** Late or repeated: the attempt had already moved past this status. */
        IGNORED,
        /** No such attempt was ever recorded. */
        UNKNOWN_ATTEMPT;

        String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final AttemptLedger ledger;
    private final CallEvents events;
    private final OutcomeClassifier classifier = new OutcomeClassifier();
    private final MeterRegistry registry;

    CallbackApplier(AttemptLedger ledger, CallEvents events, MeterRegistry registry) {
        this.ledger = ledger;
        this.events = events;
        this.registry = registry;
    }

    public Mono<Result> apply(CarrierCallback callback) {
        return ledger.findCommand(callback.requestId(), callback.attempt())
                .retryWhen(InfraRetry.brief("find attempt"))
                .flatMap(command -> applyTo(command, callback))
                .defaultIfEmpty(Result.UNKNOWN_ATTEMPT)
                .doOnNext(result -> count(callback.status().wire(), result));
    }

    /** Counts a callback that never reached {@link #apply} (e.g. a status the carrier does not document). */
    void countUnmapped() {
        count("unknown", Result.IGNORED);
    }

    private Mono<Result> applyTo(CallCommand command, CarrierCallback callback) {
        if (!callback.status().isTerminal()) {
            return move(command, callback, callback.status())
                    .map(previous -> Result.APPLIED)
                    .defaultIfEmpty(Result.IGNORED);
        }
        Outcome outcome = classifier.classify(callback.status(), callback.sipStatus(), callback.sipReason());
        return move(command, callback, outcome.attemptStatus())
                .flatMap(previous -> end(command, callback, outcome).thenReturn(Result.APPLIED))
                .defaultIfEmpty(Result.IGNORED);
    }

    /** The guarded transition and, if it happened, its {@code call.status} event; emits the previous status. */
    private Mono<AttemptStatus> move(CallCommand command, CarrierCallback callback, AttemptStatus status) {
        Transition change = new Transition(callback.requestId(), callback.attempt(), status,
                callback.providerStatus(), callback.providerCallId(), callback.sipStatus(), callback.sipReason());
        return ledger.transition(change)
                .retryWhen(InfraRetry.brief("attempt transition"))
                .flatMap(previous -> events.emit(command, event -> event
                                .attempt(callback.attempt())
                                .status(status)
                                .previousStatus(previous.wire())
                                .provider(callback.providerStatus(), callback.providerCallId())
                                .sip(callback.sipStatus(), callback.sipReason())
                                .durationSeconds(callback.durationSeconds()),
                        InfraRetry.brief("status event"))
                        .thenReturn(previous));
    }

    /** Ends the request for a terminal outcome; only the caller that marks it finished publishes {@code call.final}. */
    private Mono<Void> end(CallCommand command, CarrierCallback callback, Outcome outcome) {
        RequestEnding ending = RequestEnding.of(outcome);
        return ledger.finish(command.requestId(), ending.status())
                .retryWhen(InfraRetry.brief("finish request"))
                .filter(Boolean::booleanValue)
                .flatMap(first -> events.emit(command, event -> {
                    event.type(EventType.FINAL)
                            .attempt(callback.attempt())
                            .status(ending.status())
                            .provider(callback.providerStatus(), callback.providerCallId())
                            .sip(callback.sipStatus(), callback.sipReason())
                            .durationSeconds(callback.durationSeconds())
                            .retry(false, null);
                    return ending.errorCode() == null ? event : event.error(ending.errorCode(), ending.errorMessage());
                }, InfraRetry.brief("final event")))
                .then();
    }

    private void count(String status, Result result) {
        registry.counter("dialer.dispatcher.callbacks", "status", status, "result", result.wire()).increment();
    }

    /**
     * How a request ends when its attempt ends, as long as no retry schedule exists.
     *
     * @param status       the final status
     * @param errorCode    {@code error.code} of the final event, if any
     * @param errorMessage {@code error.message} of the final event, if any
     */
    record RequestEnding(FinalStatus status, String errorCode, String errorMessage) {

        static RequestEnding of(Outcome outcome) {
            return switch (outcome.verdict()) {
                case ANSWERED -> new RequestEnding(FinalStatus.ANSWERED, null, null);
                case RETRYABLE, DECLINED -> new RequestEnding(FinalStatus.EXHAUSTED, null, null);
                case UNREACHABLE -> new RequestEnding(FinalStatus.FAILED, null, null);
                case CAPACITY -> new RequestEnding(FinalStatus.EXHAUSTED, "capacity",
                        "the carrier had no capacity for the call");
                case CANCELED -> new RequestEnding(FinalStatus.CANCELED, null, null);
            };
        }
    }
}
