package dev.dialer.dispatcher.carrier.sip;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Whether the trunk answers at all. An INVITE that got no response whatever (Timer B, 64 × T1) tells nothing of its
 * callee and much of the trunk. After {@code silentAfter} of them with no response to anything of ours in between, the
 * trunk counts as silent until it answers something again (an OPTIONS probe, an older transaction, a trial INVITE):
 * calls placed meanwhile are refused at once as unreachable, so they are requeued without using an attempt (or fail
 * over to the next carrier of their route) and count against the carrier's circuit breaker, instead of each ringing
 * nobody for 32 s and being retried as a failed attempt until the campaign has used up its attempts on a dead trunk.
 * One call every {@code trialEvery} is let through all the same, so a trunk that ignores OPTIONS is found again.
 */
final class TrunkSilence {

    private final int silentAfter;
    private final long trialEveryNanos;
    private final LongSupplier nanos;
    private final AtomicInteger unanswered = new AtomicInteger();
    private final AtomicLong lastTrial = new AtomicLong();

    /** @param silentAfter unanswered INVITEs in a row that make the trunk silent; 0 never does */
    TrunkSilence(int silentAfter, Duration trialEvery, LongSupplier nanos) {
        if (silentAfter < 0) {
            throw new IllegalArgumentException("silentAfter must not be negative: " + silentAfter);
        }
        this.silentAfter = silentAfter;
        this.trialEveryNanos = trialEvery.toNanos();
        this.nanos = nanos;
    }

    /**
     * The trunk answered something of ours (a response to one of our transactions; requests, which anyone can send,
     * do not count).
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
        if (silentAfter > 0 && unanswered.incrementAndGet() == silentAfter) {
            lastTrial.set(nanos.getAsLong());
            return true;
        }
        return false;
    }

    boolean silent() {
        return isSilence(unanswered.get());
    }

    /** Whether a call may go out now: always while the trunk is heard; while silent, one every {@code trialEvery}. */
    boolean admits() {
        if (!silent()) {
            return true;
        }
        long last = lastTrial.get();
        long now = nanos.getAsLong();
        return now - last >= trialEveryNanos && lastTrial.compareAndSet(last, now);
    }

    int silentAfter() {
        return silentAfter;
    }

    private boolean isSilence(int count) {
        return silentAfter > 0 && count >= silentAfter;
    }
}
