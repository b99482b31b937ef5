package dev.dialer.simulator;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import reactor.core.publisher.Mono;

/**
 * The far end's script for a call, as Reactor timers ({@code Mono.delay}, no thread waits). The {@code trying} update
 * is applied when the call is created; the timeline does the rest:
 * <ul>
 *   <li>answered: ringing → [ring time] in-progress (→ the answering-machine result, if the request asked for
 *       detection) → [min(talk time, timeLimit)] completed</li>
 *   <li>busy: ringing → [ring time] busy (486)</li>
 *   <li>no answer: ringing → [timeout] no-answer (487)</li>
 *   <li>failed: failed (500) at once; capacity: failed (503 "Max Account Calls In Progress") at once</li>
 * </ul>
 * When the ring time reaches the request's {@code timeout}, the gateway cancels first, as jambonz does, and an
 * answered or busy call ends as no-answer. A {@code PUT} that ends the call stops the pending timers.
 */
final class CallTimeline {

    private final Duration ringTime;
    private final Duration talkTime;
    private final Duration ringSpread;
    private final Duration talkSpread;

    CallTimeline(Duration ringTime, Duration talkTime) {
        this(ringTime, talkTime, Duration.ZERO, Duration.ZERO);
    }

    /** Ring and talk times drawn uniformly from {@code [time, time + spread]} for each call. */
    CallTimeline(Duration ringTime, Duration talkTime, Duration ringSpread, Duration talkSpread) {
        this.ringTime = ringTime;
        this.talkTime = talkTime;
        this.ringSpread = ringSpread;
        this.talkSpread = talkSpread;
    }

    private static Duration draw(Duration base, Duration spread) {
        return spread.isZero() ? base
                : base.plusMillis(ThreadLocalRandom.current().nextLong(spread.toMillis() + 1));
    }

    Mono<Void> play(SimulatedCall call) {
        return script(call).takeUntilOther(call.interruption());
    }

    private Mono<Void> script(SimulatedCall call) {
        return switch (call.outcome()) {
            case ANSWERED -> ringThen(call, StatusUpdate.IN_PROGRESS)
                    .then(Mono.fromRunnable(call::detectAnsweringMachine))
                    .then(Mono.defer(() -> talk(call)));
            case BUSY -> ringThen(call, StatusUpdate.BUSY);
            case NO_ANSWER -> now(call, StatusUpdate.RINGING).then(after(call.request().timeout(), call,
                    StatusUpdate.NO_ANSWER));
            case FAILED -> now(call, StatusUpdate.FAILED);
            case CAPACITY_REJECTED -> now(call, StatusUpdate.CAPACITY_REJECTED);
        };
    }

    /** Rings for the ring time, then the far end reacts, unless the request's timeout cancels the call first. */
    private Mono<Void> ringThen(SimulatedCall call, StatusUpdate reaction) {
        Duration timeout = call.request().timeout();
        Duration ringTime = draw(this.ringTime, ringSpread);
        Mono<Void> end = ringTime.compareTo(timeout) < 0
                ? after(ringTime, call, reaction)
                : after(timeout, call, StatusUpdate.NO_ANSWER);
        return now(call, StatusUpdate.RINGING).then(end);
    }

    /** Only continues if the call really was answered (a racing cancel may have ended it). */
    private Mono<Void> talk(SimulatedCall call) {
        if (!"in-progress".equals(call.current().callStatus())) {
            return Mono.empty();
        }
        Duration limit = call.request().timeLimit();
        Duration talkTime = draw(this.talkTime, talkSpread);
        boolean limited = limit != null && limit.compareTo(talkTime) < 0;
        Duration talk = limited ? limit : talkTime;
        return after(talk, call, StatusUpdate.completed(talk.toSeconds(), limited ? "jambonz" : "caller"));
    }

    private static Mono<Void> now(SimulatedCall call, StatusUpdate update) {
        return Mono.fromRunnable(() -> call.advance(update));
    }

    private static Mono<Void> after(Duration delay, SimulatedCall call, StatusUpdate update) {
        return Mono.delay(delay).doOnNext(tick -> call.advance(update)).then();
    }
}
