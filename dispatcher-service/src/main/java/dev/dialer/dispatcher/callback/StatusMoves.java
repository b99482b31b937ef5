package dev.dialer.dispatcher.callback;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.Transition;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.resilience.InfraRetry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.r2dbc.spi.R2dbcException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.scheduler.Schedulers;

/**
 * The non-final status changes carrier callbacks bring (an attempt initiated, ringing, in progress), each with its
 * {@code call.status} event, made in batches: the changes that arrive while a statement runs are made together by the
 * next one ({@link CallEvents#changeOnEach}), up to {@code batch-size} of them. At low load a batch is one change,
 * started at once; under load, one statement, one round trip and one commit carry many calls' changes instead of one
 * each. One statement at a time makes the largest batches; another starts only while a whole batch waits, or once
 * every running statement has run {@link #SLOW_STATEMENT}, up to {@code batches-in-flight} at once, so that more
 * changes than one statement carries still go through, and one statement that waits (for a row another transaction
 * holds) or hangs does not hold them all. Each change is guarded and atomic with its event exactly as on its
 * own ({@link AttemptLedger#transitionChange}): a change that may not happen (late, repeated, about an earlier dial)
 * stores nothing and leaves the rest of its batch alone.
 *
 * <p>One change per request is in flight at a time, in one batch (a request's changes are numbered in the order they
 * are made); its later changes wait, in their order, for a batch that starts after it ends. A batch's attempts are
 * locked in request id order. A batch that fails for an infrastructure outage, or is not done within
 * {@link #STATEMENT_LIMIT}, fails each of its changes, which their callers retry. One that fails for any other reason,
 * or that waited for a row longer than PostgreSQL's {@code lock_timeout} (another transaction holds it), is made again
 * one change a statement, {@link #SPLIT_AT_ONCE} of those at once, so that a change that cannot be made, or whose row
 * is held, fails alone and the others are made meanwhile, each request free for its next change as its own statement
 * ends: a row held elsewhere must not hold other calls' status changes, nor the callbacks consumer that waits for
 * them. The next change of a request whose row was held so goes in a statement of its own (in all but one of the
 * slots at most), until one of its changes is made or fails for another reason. {@code batch-size: 1} makes each
 * change in a statement of its own as it comes, without this queue.
 */
@Component
class StatusMoves {

    private static final Logger log = LoggerFactory.getLogger(StatusMoves.class);
    /**
     * How long one statement of changes may take before its changes fail with a {@link TimeoutException}, which their
     * callers take for an outage and try again: far beyond what a batch takes on a working database (milliseconds),
     * and beyond PostgreSQL's {@code lock_timeout} (10 s), which ends a statement that waits for a lock first and so
     * leaves its connection free. This bound is for a connection that hangs without an answer.
     */
    static final Duration STATEMENT_LIMIT = Duration.ofSeconds(15);
    /** PostgreSQL's SQLSTATE for a lock not granted within {@code lock_timeout}. */
    private static final String LOCK_NOT_AVAILABLE = "55P03";
    /**
     * How long the running statements may all take before another starts for fewer changes than a whole batch: a
     * statement that waits for a row another transaction holds must not hold the changes behind it until its
     * {@code lock_timeout}; one that runs this long is not making batches any larger.
     */
    static final Duration SLOW_STATEMENT = Duration.ofSeconds(1);
    private static final int HELD_KEPT = 1_000;
    /**
     * The statements a split batch runs at once: a change whose row is held keeps its connection until
     * {@code lock_timeout}, and the pool is shared with the dials.
     */
    static final int SPLIT_AT_ONCE = 2;

    private final AttemptLedger ledger;
    private final CallEvents events;
    private final int batchSize;
    private final int inFlight;
    private final DistributionSummary batches;
    private final Counter split;
    private final Object lock = new Object();
    private final ArrayDeque<Move> waiting = new ArrayDeque<>();
    /** The requests whose change is in a batch that has not ended. */
    private final Set<String> busy = new HashSet<>();
    /**
     * Requests whose last change waited for its row until {@code lock_timeout} (another transaction holds it): their
     * next change goes in a statement of its own, so that it holds no other change while it waits again. At most
     * {@link #HELD_KEPT}, the oldest forgotten first.
     */
    private final Set<String> heldElsewhere = new LinkedHashSet<>();
    /** Running batches of a request {@link #heldElsewhere}'s change alone: at most all but one of the slots. */
    private int runningAlone;
    /** When each running batch started ({@link System#nanoTime}). */
    private final List<long[]> startedAt = new ArrayList<>();
    /** Whether {@link #next} is to run again once the oldest running statement has run {@link #SLOW_STATEMENT}. */
    private boolean wakeUpSet;
    private int running;

    StatusMoves(AttemptLedger ledger, CallEvents events, CallbackProperties properties, MeterRegistry registry) {
        this.ledger = ledger;
        this.events = events;
        this.batchSize = properties.batchSize();
        this.inFlight = properties.batchesInFlight();
        this.batches = DistributionSummary.builder("dialer.dispatcher.callbacks.status.batch")
                .description("Non-final status changes made by one statement")
                .baseUnit("changes")
                .register(registry);
        this.split = Counter.builder("dialer.dispatcher.callbacks.status.batch.split")
                .description("Batches of status changes that failed other than for an outage, or waited for a held "
                        + "row too long, made again one change a statement")
                .register(registry);
        Gauge.builder("dialer.dispatcher.callbacks.status.waiting", this::waiting)
                .description("Non-final status changes waiting for the statement that makes them")
                .register(registry);
    }

    private int waiting() {
        synchronized (lock) {
            return waiting.size();
        }
    }

    /**
     * Makes {@code change} and, if it happened, stores its event ({@code details}), in the next batch it can join.
     *
     * @return what the change found, when it happened; empty when it did not
     */
    Mono<CallEvents.Changed> move(CallCommand command, Transition change, UnaryOperator<CallEvent.Builder> details) {
        if (batchSize == 1) {
            return bounded(events.changeOn(command, ledger.transitionChange(change), details), 1);
        }
        return Mono.create(sink -> {
            Move move = new Move(command, change, details, sink);
            sink.onCancel(move::cancel);
            synchronized (lock) {
                waiting.add(move);
            }
            next();
        });
    }

    /**
     * Starts batches while changes wait that may start: the first whenever none runs, another only while a whole batch
     * waits or every running statement has run {@link #SLOW_STATEMENT}, up to {@code batches-in-flight}.
     */
    private void next() {
        while (true) {
            List<Move> batch;
            long[] started;
            synchronized (lock) {
                if (running >= inFlight) {
                    return;
                }
                long now = System.nanoTime();
                if (running > 0 && waiting.size() < batchSize && !allSlow(now)) {
                    wakeUpOnceSlow(now);
                    return;
                }
                batch = take(inFlight == 1 || runningAlone < inFlight - 1);
                if (batch.isEmpty()) {
                    return;
                }
                running++;
                if (isHeldAlone(batch)) {
                    runningAlone++;
                }
                started = new long[] {now};
                startedAt.add(started);
            }
            start(batch, started);
        }
    }

    /** Whether every running statement has run {@link #SLOW_STATEMENT}. Under the lock. */
    private boolean allSlow(long now) {
        return now - newestStart() >= SLOW_STATEMENT.toNanos();
    }

    private long newestStart() {
        long newest = Long.MIN_VALUE;
        for (long[] started : startedAt) {
            newest = Math.max(newest, started[0]);
        }
        return newest;
    }

    /**
     * Runs {@link #next} again once the running statements will all have run {@link #SLOW_STATEMENT}. Under the lock.
     */
    private void wakeUpOnceSlow(long now) {
        if (wakeUpSet || waiting.isEmpty()) {
            return;
        }
        wakeUpSet = true;
        long delay = Math.max(0, newestStart() + SLOW_STATEMENT.toNanos() - now);
        Schedulers.parallel().schedule(() -> {
            synchronized (lock) {
                wakeUpSet = false;
            }
            next();
        }, delay, TimeUnit.NANOSECONDS);
    }

    private void start(List<Move> batch, long[] started) {
        batches.record(batch.size());
        // Deferred: whatever goes wrong building the statement ends the batch through doFinally, never leaving it
        // counted as running with nothing to end it.
        Mono.defer(() -> made(batch))
                .doFinally(signal -> {
                    synchronized (lock) {
                        running--;
                        if (isHeldAlone(batch)) {
                            runningAlone--;
                        }
                        startedAt.remove(started);
                        batch.forEach(this::release);
                    }
                    next();
                })
                .subscribe(null, error -> batch.forEach(move -> move.fail(error)));
    }

    /** Whether {@code batch} is the change of a request {@link #heldElsewhere}, alone. Under the lock. */
    private boolean isHeldAlone(List<Move> batch) {
        return batch.size() == 1 && batch.get(0).alone;
    }

    /** Lets the request's next change start: this one's statement ended. Under the lock. */
    private void release(Move move) {
        if (!move.released) {
            move.released = true;
            busy.remove(move.change().requestId());
        }
    }

    /** As {@link #release}, at once for a change made in a statement of its own, and starts what may start then. */
    private void released(Move move) {
        synchronized (lock) {
            release(move);
        }
        next();
    }

    /**
     * The batch's changes made in one statement, each answered; if it fails for anything but an outage, or waited too
     * long for a row, each made in a statement of its own, {@link #SPLIT_AT_ONCE} at once, each answered as its
     * statement ends (a batch of one fails as it is). Errors when the batch's changes all failed together.
     */
    private Mono<Void> made(List<Move> batch) {
        Mono<Void> together = bounded(events.changeOnEach(
                        ledger.transitionsChange(batch.stream().map(Move::change).toList()),
                        batch.stream().map(move -> new CallEvents.Change(move.command(), move.details())).toList()),
                batch.size())
                .doOnNext(found -> batch.forEach(move -> move.answer(found.get(move.change().requestId()))))
                .then();
        if (batch.size() == 1) {
            return notingHeld(batch.get(0), together);
        }
        return together.onErrorResume(error -> !InfraRetry.isTransient(error) || waitedForALock(error), error -> {
            log.warn("a batch of {} status changes failed ({}); making them one a statement", batch.size(),
                    error.toString());
            split.increment();
            return Flux.fromIterable(batch)
                    .flatMap(move -> notingHeld(move, bounded(events.changeOn(move.command(),
                                    ledger.transitionChange(move.change()), move.details()), 1)
                                    .doOnSuccess(move::answer))
                            .onErrorResume(alone -> {
                                move.fail(alone);
                                return Mono.empty();
                            })
                            .doFinally(signal -> released(move)), SPLIT_AT_ONCE)
                    .then();
        });
    }

    /** {@code statement} of {@code move} alone, noting whether its row was held elsewhere ({@link #noteHeld}). */
    private <T> Mono<T> notingHeld(Move move, Mono<T> statement) {
        return statement.doOnSuccess(done -> noteHeld(move, false))
                .doOnError(error -> noteHeld(move, waitedForALock(error)));
    }

    /** Notes whether the change's row was held elsewhere until {@code lock_timeout}, for the request's next change. */
    private void noteHeld(Move move, boolean held) {
        String request = move.change().requestId();
        synchronized (lock) {
            if (!held) {
                heldElsewhere.remove(request);
            } else if (heldElsewhere.add(request) && heldElsewhere.size() > HELD_KEPT) {
                Iterator<String> oldest = heldElsewhere.iterator();
                oldest.next();
                oldest.remove();
            }
        }
    }

    /**
     * Whether PostgreSQL stopped the statement at its {@code lock_timeout} (55P03): one of the batch's rows is held by
     * another transaction, most likely one request's only, and the rest of the batch need not wait for it.
     */
    private static boolean waitedForALock(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof R2dbcException r2dbc && LOCK_NOT_AVAILABLE.equals(r2dbc.getSqlState())) {
                return true;
            }
        }
        return false;
    }

    /** {@code statement}, failed with a {@link TimeoutException} if it takes longer than {@link #STATEMENT_LIMIT}. */
    private <T> Mono<T> bounded(Mono<T> statement, int changes) {
        return statement.timeout(STATEMENT_LIMIT, Mono.error(() -> new TimeoutException(
                "a statement of " + changes + " status change(s) took longer than " + STATEMENT_LIMIT)));
    }

    /**
     * Takes the next batch from the waiting changes, in arrival order: at most {@code batchSize}, one per request and
     * none of a request with a change in flight (a request's later changes stay, in order, for a later batch), in
     * request id order; drops those whose caller gave up. A change of a request {@link #heldElsewhere} goes alone, in
     * a batch of its own when it is first and {@code heldMayGoAlone} (at most all but one of the slots run such
     * batches, so that the others' changes always have one); else it keeps its place. Marks the batch's requests
     * busy.
     */
    private List<Move> take(boolean heldMayGoAlone) {
        List<Move> batch = new ArrayList<>();
        Set<String> passed = new HashSet<>();
        Iterator<Move> moves = waiting.iterator();
        while (moves.hasNext() && batch.size() < batchSize) {
            Move move = moves.next();
            String request = move.change().requestId();
            if (move.cancelled) {
                moves.remove();
            } else if (heldElsewhere.contains(request) && !passed.contains(request) && !busy.contains(request)) {
                if (batch.isEmpty() && heldMayGoAlone) {
                    busy.add(request);
                    move.alone = true;
                    batch.add(move);
                    moves.remove();
                    break;
                }
                passed.add(request);
            } else if (!passed.contains(request) && busy.add(request)) {
                batch.add(move);
                moves.remove();
            } else {
                // Its request has a change in flight or ahead of it: it keeps its place behind that one.
                passed.add(request);
            }
        }
        batch.sort(Comparator.comparing(move -> move.change().requestId()));
        return batch;
    }

    /** A waiting change and whom to answer. */
    private static final class Move {

        private final CallCommand command;
        private final Transition change;
        private final UnaryOperator<CallEvent.Builder> details;
        private final MonoSink<CallEvents.Changed> sink;
        private volatile boolean cancelled;
        /** Whether its request's next change may start; under the lock. */
        private boolean released;
        /** Whether it goes alone, its request's row held elsewhere; under the lock. */
        private boolean alone;

        Move(CallCommand command, Transition change, UnaryOperator<CallEvent.Builder> details,
             MonoSink<CallEvents.Changed> sink) {
            this.command = command;
            this.change = change;
            this.details = details;
            this.sink = sink;
        }

        CallCommand command() {
            return command;
        }

        Transition change() {
            return change;
        }

        UnaryOperator<CallEvent.Builder> details() {
            return details;
        }

        void cancel() {
            cancelled = true;
        }

        /** The change happened ({@code changed}) or did not ({@code null}). */
        void answer(CallEvents.Changed changed) {
            if (changed == null) {
                sink.success();
            } else {
                sink.success(changed);
            }
        }

        void fail(Throwable error) {
            sink.error(error);
        }
    }
}
