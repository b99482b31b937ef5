package dev.dialer.webhook.delivery;

import java.util.ArrayDeque;
import java.util.Deque;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Runs at most {@code limit} works at once; the others wait for their turn in the order they asked, holding nothing
 * but their place. A work's turn ends however it ends (done, failed or cancelled), and passes to the first waiting.
 */
final class ActiveLimit {

    private final int limit;
    private final Deque<Sinks.Empty<Void>> waiting = new ArrayDeque<>();
    private int active;

    ActiveLimit(int limit) {
        this.limit = limit;
    }

    /** {@code work}, subscribed when its turn comes. */
    <T> Mono<T> run(Mono<T> work) {
        return Mono.defer(() -> {
            Sinks.Empty<Void> turn = null;
            synchronized (this) {
                if (active < limit) {
                    active++;
                } else {
                    turn = Sinks.empty();
                    waiting.add(turn);
                }
            }
            Mono<T> running = work.doFinally(signal -> release());
            if (turn == null) {
                return running;
            }
            Sinks.Empty<Void> awaited = turn;
            return awaited.asMono().doOnCancel(() -> leave(awaited)).then(running);
        });
    }

    /** Works running now. */
    synchronized int active() {
        return active;
    }

    /** Works waiting for their turn. */
    synchronized int waiting() {
        return waiting.size();
    }

    private void release() {
        Sinks.Empty<Void> next;
        synchronized (this) {
            next = waiting.poll();
            if (next == null) {
                active--;
                return;
            }
        }
        // The turn passes on as it is: the next work runs in this one's place.
        next.tryEmitEmpty();
    }

    /** A waiting work was cancelled: it leaves its place, or, its turn given to it meanwhile, passes the turn on. */
    private void leave(Sinks.Empty<Void> turn) {
        boolean stillWaiting;
        synchronized (this) {
            stillWaiting = waiting.remove(turn);
        }
        if (!stillWaiting) {
            release();
        }
    }
}
