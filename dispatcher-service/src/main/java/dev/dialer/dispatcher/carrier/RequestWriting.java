package dev.dialer.dispatcher.carrier;

import java.util.concurrent.atomic.AtomicInteger;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * Whether a carrier request got as far as its connection, agreed between the thread about to write it and the one
 * giving up on it: the carrier's HTTP client ({@link CarrierConfiguration#webClient}) moves it from pending to writing
 * once it has a connection to write the request to (its name resolved, its TCP connection and TLS handshake done),
 * just before the request is written; a timeout, or a failure of the request, moves it from pending to abandoned. Only
 * one of the two moves happens: a request abandoned before it was written is never written ({@link #starting} then
 * refuses it), so it cannot have placed a call; one being written when the timeout or the failure comes is taken as
 * maybe placed.
 */
final class RequestWriting {

    private static final Object KEY = RequestWriting.class;
    private static final int PENDING = 0;
    private static final int WRITING = 1;
    private static final int ABANDONED = 2;

    private final AtomicInteger state = new AtomicInteger(PENDING);

    /** The request's context, carrying this. */
    Context context() {
        return Context.of(KEY, this);
    }

    /**
     * Gives the request up if it has not started to be written: true when it never will be (not sent), false when it
     * is being written or was (maybe placed).
     */
    boolean abandon() {
        return state.compareAndSet(PENDING, ABANDONED);
    }

    /**
     * Notes, in the request's own {@code RequestWriting} if its context carries one, that it is about to be written.
     *
     * @throws NotWritten when the request was given up first: it must not be written
     */
    static void starting(ContextView context) {
        context.getOrEmpty(KEY).ifPresent(found -> {
            RequestWriting writing = (RequestWriting) found;
            if (!writing.state.compareAndSet(PENDING, WRITING) && writing.state.get() == ABANDONED) {
                throw new NotWritten();
            }
        });
    }

    /** A request given up before it was written, refused on its way to the connection. */
    static final class NotWritten extends IllegalStateException {
        NotWritten() {
            super("the request was given up before it was written", null);
        }
    }
}
