package dev.dialer.dispatcher.pacing;

import java.util.Arrays;

/**
 * A token bucket of {@code rate} per second holding at most {@code burst} tokens, kept as the generic cell rate
 * algorithm's theoretical arrival time: one number, no refill timer. Each start is spaced {@code 1/rate} from the
 * previous one, with up to {@code burst} starts allowed back to back after an idle spell.
 *
 * <p>Late timers are caught up. A caller told to wait (by {@link #earliest} answering a later time) comes back on a
 * timer, and a timer fires late, by as much again as the interval on a busy machine at 100 per second. The plain
 * algorithm restarts its schedule from the late start and so gives the lateness away: each start then costs the
 * interval plus the lateness. Here a start up to {@code catchUp} behind a promised time keeps the schedule, so the next
 * one is due at once and the rate is reached on average. What bounds the starts is a second, exact rule: at most
 * {@code floor(rate + burst)} starts in any one-second window (the most the plain algorithm ever lets through), checked
 * against the times of the last starts themselves; so catching up never adds up to more than {@code rate + burst} in a
 * second, and never the doubled burst a fixed-cycle limiter allows at a cycle boundary.
 *
 * <p>A start taken and then not made can be given back ({@link #giveBack}) while no start was taken at a later time:
 * the bucket is then exactly as if it had never been taken, its time gone from the last starts too, so the window rule
 * counts only the starts that were kept. Later than that its token stays spent: what a later start would have been
 * without it is not known any more.
 *
 * <p>Times are the caller's nanoseconds (a scheduler's {@code now}), so a virtual clock drives it in tests.
 * Thread-safe.
 */
final class PaceBucket {

    /** How far behind a promised start may fall and still be caught up, unless the caller says otherwise. */
    static final long DEFAULT_CATCH_UP_NANOS = 1_000_000_000L;
    private static final long WINDOW_NANOS = 1_000_000_000L;
    /** How many last starts a new bucket has room for; grown, as starts come closer together, up to its capacity. */
    static final int INITIAL_ROOM = 16;

    private final long intervalNanos;
    private final long toleranceNanos;
    private final long catchUpNanos;
    /** How many starts one second allows: the most last starts the window rule reads. */
    private final int capacity;
    /**
     * The last starts, oldest first once full: the one-second window rule reads the oldest once it holds as many as
     * one second allows. It holds fewer while starts come less often: a start pushes the oldest out, rather than grow
     * the room, when the oldest is more than a second before it, and so is every start it replaced before (the rule
     * could not bind on any of them again). A bucket of 10,000 a second whose starts are spread out holds 16 of them,
     * not 10,001, for each of thousands of caller IDs.
     */
    private long[] recent;
    private int recentCount;
    private int recentNext;
    private long theoreticalArrival = Long.MIN_VALUE;
    private boolean promised;
    /**
     * The starts taken at the last instant any was ({@code runAt}; several may share it), each with the state it
     * changed, for {@link #giveBack} to undo: the schedule and promise before it, and the start it pushed out of the
     * last starts, if the list was full. Grown as an instant's starts need it, at most one per start a second allows.
     */
    private long runAt;
    private int runLength;
    private long[] arrivalBefore = new long[1];
    private boolean[] promisedBefore = new boolean[1];
    private boolean[] pushed = new boolean[1];
    private long[] pushedOut = new long[1];

    /**
     * @param perSecond starts per second, above 0
     * @param burst     starts allowed back to back, at least 1
     */
    PaceBucket(double perSecond, int burst) {
        this(perSecond, burst, DEFAULT_CATCH_UP_NANOS);
    }

    /**
     * @param perSecond    starts per second, above 0
     * @param burst        starts allowed back to back, at least 1
     * @param catchUpNanos how late a promised start may come and still keep the schedule (0: never caught up)
     */
    PaceBucket(double perSecond, int burst, long catchUpNanos) {
        if (!(perSecond > 0) || burst < 1 || catchUpNanos < 0) {
            throw new IllegalArgumentException("rate must be above 0, burst at least 1 and catch-up not negative");
        }
        this.intervalNanos = Math.max(1, Math.round(1_000_000_000d / perSecond));
        this.toleranceNanos = (burst - 1) * intervalNanos;
        this.catchUpNanos = catchUpNanos;
        this.capacity = (int) Math.max(1, Math.min(Math.floor(perSecond + burst), 1_000_000));
        this.recent = new long[Math.min(capacity, INITIAL_ROOM)];
    }

    /** The earliest time a start may happen, given {@code now}; reserves nothing, but promises that time. */
    synchronized long earliest(long now) {
        long at = now;
        if (theoreticalArrival != Long.MIN_VALUE) {
            at = Math.max(at, theoreticalArrival - toleranceNanos);
        }
        if (recentCount == capacity) {
            // One more start must fall outside the closed second that began with the oldest of the last ones.
            at = Math.max(at, recent[recentNext] + WINDOW_NANOS + 1);
        }
        if (at > now) {
            promised = true;
        }
        return at;
    }

    /** Takes the slot at {@code at}, which must be at or after {@link #earliest}. */
    synchronized void take(long at) {
        if (at != runAt) {
            runAt = at;
            runLength = 0;
        }
        if (recentCount == recent.length && recent.length < capacity && recent[recentNext] + WINDOW_NANOS >= at) {
            // The oldest start kept is within this one's second: the window rule may need it, and more.
            grow();
        }
        remember();
        advance(at);
        recent[recentNext] = at;
        recentNext = (recentNext + 1) % recent.length;
        recentCount = Math.min(recentCount + 1, recent.length);
    }

    /**
     * Gives back a start taken at {@code takenAt} that was not made, when no start was taken at a later time: the last
     * start taken at that instant is undone (the starts of one instant are alike, so which of them goes does not
     * matter), its schedule, its promise and its place among the last starts, with the start it pushed out put back.
     *
     * @return whether it was given back; false when a start was taken at a later time (or none at that one, or all
     *         of that instant's were given back): it stays spent
     */
    synchronized boolean giveBack(long takenAt) {
        if (runLength == 0 || takenAt != runAt) {
            return false;
        }
        int last = --runLength;
        theoreticalArrival = arrivalBefore[last];
        promised = promisedBefore[last];
        recentNext = (recentNext - 1 + recent.length) % recent.length;
        if (pushed[last]) {
            recent[recentNext] = pushedOut[last];
        } else {
            recentCount--;
        }
        return true;
    }

    /** Room for more last starts (twice as much, up to the capacity), the oldest first, the next written after them. */
    private void grow() {
        long[] grown = new long[(int) Math.min(capacity, 2L * recent.length)];
        for (int i = 0; i < recentCount; i++) {
            grown[i] = recent[(recentNext + i) % recent.length];
        }
        recent = grown;
        recentNext = recentCount;
    }

    /** Notes the state the start about to be taken changes, for {@link #giveBack}. */
    private void remember() {
        if (runLength == arrivalBefore.length) {
            if (runLength < capacity) {
                int size = Math.min(capacity, runLength * 2);
                arrivalBefore = Arrays.copyOf(arrivalBefore, size);
                promisedBefore = Arrays.copyOf(promisedBefore, size);
                pushed = Arrays.copyOf(pushed, size);
                pushedOut = Arrays.copyOf(pushedOut, size);
            } else {
                // More starts at one instant than a second allows (only taken past the limit): the oldest is
                // forgotten, and can no longer be given back.
                System.arraycopy(arrivalBefore, 1, arrivalBefore, 0, runLength - 1);
                System.arraycopy(promisedBefore, 1, promisedBefore, 0, runLength - 1);
                System.arraycopy(pushed, 1, pushed, 0, runLength - 1);
                System.arraycopy(pushedOut, 1, pushedOut, 0, runLength - 1);
                runLength--;
            }
        }
        arrivalBefore[runLength] = theoreticalArrival;
        promisedBefore[runLength] = promised;
        pushed[runLength] = recentCount == recent.length;
        pushedOut[runLength] = recent[recentNext];
        runLength++;
    }

    /** The schedule after a start at {@code at}. */
    private void advance(long at) {
        boolean catchingUp = promised && theoreticalArrival != Long.MIN_VALUE && at > theoreticalArrival
                && at - theoreticalArrival <= catchUpNanos;
        if (theoreticalArrival == Long.MIN_VALUE) {
            theoreticalArrival = at + intervalNanos;
        } else if (catchingUp) {
            // A start that came late for its promised time: the schedule stands, the next start is due the sooner.
            theoreticalArrival += intervalNanos;
        } else {
            theoreticalArrival = Math.max(theoreticalArrival, at) + intervalNanos;
        }
        // Still behind after this start: the next one, due at once, is part of the same late run (not an idle spell).
        promised = catchingUp && theoreticalArrival <= at;
    }

    /**
     * Takes the slot at {@code now} if the rate allows it now, as one step (for buckets several threads share).
     *
     * @return {@code now} when taken; otherwise the earliest time to try again
     */
    synchronized long tryTake(long now) {
        long at = earliest(now);
        if (at > now) {
            return at;
        }
        take(now);
        return now;
    }

    /**
     * The same caller's bucket at another rate or burst, for a limit changed while starts are being made: its last
     * starts carry over, so the change lets nothing through that the new figures would not have. The tokens spent as
     * of the last start stay spent (at least that one, at most the new burst), each now worth the new interval, and
     * the one-second window counts the last starts that fit in the new one. So after a lowered rate the next start
     * comes one new interval after the last one (more under a burst then spent), and a raised rate applies from the
     * last start on.
     *
     * @param perSecond starts per second, above 0
     * @param burst     starts allowed back to back, at least 1
     */
    synchronized PaceBucket withRate(double perSecond, int burst) {
        PaceBucket next = new PaceBucket(perSecond, burst, catchUpNanos);
        if (recentCount == 0) {
            return next;
        }
        long last = newest();
        double owed = Math.min(burst, Math.max(1.0, (double) (theoreticalArrival - last) / intervalNanos));
        next.theoreticalArrival = last + Math.round(owed * next.intervalNanos);
        int kept = Math.min(recentCount, next.capacity);
        next.recent = new long[Math.max(next.recent.length, kept)];
        for (int i = kept; i > 0; i--) {
            next.recent[next.recentNext] = recent[(recentNext - i + recent.length) % recent.length];
            next.recentNext = (next.recentNext + 1) % next.recent.length;
        }
        next.recentCount = kept;
        return next;
    }

    /**
     * Whether the bucket is full again at {@code now}: forgetting it then changes nothing. Not while any of its last
     * starts is inside the second before {@code now}: after a late run caught up (several starts at once, each due by
     * then) the schedule may be back at {@code now} with fewer starts in that second than the window allows, and a
     * bucket made afresh would start its burst and its rate on top of them, past the window's bound.
     */
    synchronized boolean idleAt(long now) {
        if (theoreticalArrival == Long.MIN_VALUE) {
            return true;
        }
        return theoreticalArrival <= now && (recentCount == 0 || newest() + WINDOW_NANOS < now);
    }

    /** The latest of the last starts kept (meaningful only while some are kept). */
    private long newest() {
        return recent[(recentNext - 1 + recent.length) % recent.length];
    }

    /** How many last starts it has room for now (for tests). */
    synchronized int room() {
        return recent.length;
    }

    long intervalNanos() {
        return intervalNanos;
    }
}
