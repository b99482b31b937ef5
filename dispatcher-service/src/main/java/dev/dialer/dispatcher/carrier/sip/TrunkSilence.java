package dev.dialer.dispatcher.carrier.sip;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Whether the trunk answers at all. An INVITE that got no response whatever (Timer B, 64 × T1) tells nothing of its
 * callee and much of the trunk. After {@code silentAfter} of them with nothing heard from the trunk in between, the
 * trunk counts as silent until it sends anything again (an answer to an OPTIONS probe included): calls placed
 * meanwhile are refused at once as unreachable, so they are requeued without using an attempt (or fail over to the
 * next carrier of their route) and count against the carrier's circuit breaker, instead of each ringing nobody for
 * 32 s and being retried as a failed attempt until the campaign has used up its attempts on a dead trunk.
 */
final class TrunkSilence {

    private final int silentAfter;
    private final AtomicInteger unanswered = new AtomicInteger();

    /** @param silentAfter unanswered INVITEs in a row that make the trunk silent; 0 never does */
    TrunkSilence(int silentAfter) {
        if (silentAfter < 0) {
            throw new IllegalArgumentException("silentAfter must not be negative: " + silentAfter);
        }
        this.silentAfter = silentAfter;
    }

    /**
     * Something came from the trunk: a response or a request, to anything.
     *
     * @return whether this ended a silence
     */
    boolean heard() {
        if (unanswered.get() == 0) {
            return false;
        }
        return isSilence(unanswered.getAndSet(0));
    }

    /**
     * An INVITE of ours got no response at all.
     *
     * @return whether this made the trunk silent (once per silence)
     */
    boolean inviteUnanswered() {
        return silentAfter > 0 && unanswered.incrementAndGet() == silentAfter;
    }

    boolean silent() {
        return isSilence(unanswered.get());
    }

    int silentAfter() {
        return silentAfter;
    }

    private boolean isSilence(int count) {
        return silentAfter > 0 && count >= silentAfter;
    }
}
