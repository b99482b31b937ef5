package dev.dialer.simulator;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The live state of one simulated call. Status changes come from the call's timers and from {@code PUT} requests on
 * different threads; they are serialised here and queued, in order, for the status hook.
 */
final class SimulatedCall {

    private final ReceivedCall received;
    private final CreateCallRequest request;
    private final List<CreateCallRequest.StatusHook> statusHooks;
    private final Outcome outcome;
    private final String answeringMachineEvent;
    private final String sbcCallId;
    private final String traceId;
    private final Consumer<StatusUpdate> onFinal;
    private final Sinks.Many<StatusUpdate> updates = Sinks.many().unicast().onBackpressureBuffer();
    private final Sinks.One<Boolean> interruption = Sinks.one();
    private StatusUpdate current;
    private long answeredAtNanos;

    /**
     * @param statusHooks           where the call's statuses go, each to every one of them
     * @param answeringMachineEvent the answering-machine event to report once answered ({@code amd_…_detected}), or
     *                              {@code null} when the request asked for no detection
     */
    SimulatedCall(ReceivedCall received, CreateCallRequest request, List<CreateCallRequest.StatusHook> statusHooks,
                  Outcome outcome, String answeringMachineEvent, String sbcCallId, String traceId,
                  Consumer<StatusUpdate> onFinal) {
        this.answeringMachineEvent = answeringMachineEvent;
        this.received = received;
        this.request = request;
        this.statusHooks = List.copyOf(statusHooks);
        this.outcome = outcome;
        this.sbcCallId = sbcCallId;
        this.traceId = traceId;
        this.onFinal = onFinal;
    }

    ReceivedCall received() {
        return received;
    }

    CreateCallRequest request() {
        return request;
    }

    /** Where the call's statuses go: its application's status hook or its own, and its {@code notifyUrl}. */
    List<CreateCallRequest.StatusHook> statusHooks() {
        return statusHooks;
    }

    Outcome outcome() {
        return outcome;
    }

    String sbcCallId() {
        return sbcCallId;
    }

    String traceId() {
        return traceId;
    }

    /** Status updates in the order they happened; completes after the final one. */
    Flux<StatusUpdate> updates() {
        return updates.asFlux();
    }

    /** Emits when a {@code PUT} has ended the call, so pending timers stop. */
    Mono<Boolean> interruption() {
        return interruption.asMono();
    }

    synchronized StatusUpdate current() {
        return current;
    }

    /** Whole seconds since the call was answered (the final duration once completed), 0 before answer. */
    synchronized long talkSeconds() {
        if (current != null && current.duration() != null) {
            return current.duration();
        }
        return answeredAtNanos == 0 ? 0 : Duration.ofNanos(System.nanoTime() - answeredAtNanos).toSeconds();
    }

    /**
     * Moves the call on, unless it has already ended (a timer may fire just as a {@code PUT} ends the call).
     *
     * @return whether the update was applied
     */
    synchronized boolean advance(StatusUpdate update) {
        if (current != null && current.isFinal()) {
            return false;
        }
        current = update;
        if ("in-progress".equals(update.callStatus())) {
            answeredAtNanos = System.nanoTime();
        }
        updates.tryEmitNext(update);
        if (update.isFinal()) {
            updates.tryEmitComplete();
            onFinal.accept(update);
        }
        return true;
    }

    /**
     * Reports who answered, if the request asked for detection and the call is still answered; the status stays
     * {@code in-progress}.
     */
    synchronized void detectAnsweringMachine() {
        if (answeringMachineEvent != null && current != null && "in-progress".equals(current.callStatus())) {
            updates.tryEmitNext(StatusUpdate.answeringMachine(answeringMachineEvent));
        }
    }

    /** {@code PUT call_status=no-answer}: only a call that has not been answered can be cancelled. */
    synchronized boolean cancel() {
        if (current == null || !current.isUnanswered()) {
            return false;
        }
        interruption.tryEmitValue(Boolean.TRUE);
        return advance(StatusUpdate.NO_ANSWER);
    }

    /** {@code PUT call_status=completed}: only an answered call can be hung up. */
    synchronized boolean hangUp() {
        if (current == null || !"in-progress".equals(current.callStatus())) {
            return false;
        }
        interruption.tryEmitValue(Boolean.TRUE);
        return advance(StatusUpdate.completed(talkSeconds(), "jambonz"));
    }
}
