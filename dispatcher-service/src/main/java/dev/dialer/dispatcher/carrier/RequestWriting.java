package dev.dialer.dispatcher.carrier;

import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * Whether a carrier request got as far as its connection: set by the carrier's HTTP client
 * ({@link CarrierConfiguration#webClient}) once it has a connection to write the request to (its name resolved, its
 * TCP connection and TLS handshake done), just before the request is written. A request timed out before that was
 * never sent, so it cannot have placed a call.
 */
final class RequestWriting {

    private static final Object KEY = RequestWriting.class;

    private volatile boolean started;

    /** The request's context, carrying this. */
    Context context() {
        return Context.of(KEY, this);
    }

    /** Whether the request was about to be written, or written. */
    boolean started() {
        return started;
    }

    /** Notes, in the request's own {@code RequestWriting} if its context carries one, that it is being written. */
    static void starting(ContextView context) {
        context.getOrEmpty(KEY).ifPresent(writing -> ((RequestWriting) writing).started = true);
    }
}
