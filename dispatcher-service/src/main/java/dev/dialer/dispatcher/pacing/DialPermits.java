package dev.dialer.dispatcher.pacing;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Dials running at once in this dispatcher, across every partition and lane. The lanes' own bounds (records held per
 * partition, dials per lane) multiply out to thousands of dials, each holding its record, its command and a chain of
 * statements waiting for a connection; when starts outrun what PostgreSQL and the carrier can take, those dials are
 * what fills the heap. A lane that finds every permit taken waits in line and is handed the next one freed (first
 * come, first served: a lane waits at most once at a time). Thread-safe; wakes run outside the lock.
 */
final class DialPermits {

    private final int max;
    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    private int inUse;
    private boolean closed;
    private Runnable whenIdle;

    DialPermits(int max) {
        this.max = max;
    }

    /**
     * Takes a permit, or queues {@code granted}, which then runs holding a permit (it must release it if unused).
     *
     * @return whether a permit was taken now
     */
    synchronized boolean tryAcquire(Runnable granted) {
        if (!closed && inUse < max && waiting.isEmpty()) {
            inUse++;
            return true;
        }
        waiting.add(granted);
        return false;
    }

    /** Gives a permit back: it passes to the first waiting lane, if any (none once {@link #close closed}). */
    void release() {
        Runnable next = null;
        Runnable idle = null;
        synchronized (this) {
            if (!closed) {
                next = waiting.poll();
            }
            if (next == null) {
                inUse--;
                if (closed && inUse == 0) {
                    idle = whenIdle;
                    whenIdle = null;
                }
            }
        }
        if (next != null) {
            next.run();
        }
        if (idle != null) {
            idle.run();
        }
    }

    /**
     * Hands out no permit from now on (a lane that asks waits in line, as when every permit is taken) and runs
     * {@code idle} once every permit held has been given back, at once if none is: for an orderly stop, which lets the
     * dials running end before it cancels what is left.
     */
    void close(Runnable idle) {
        boolean now;
        synchronized (this) {
            closed = true;
            now = inUse == 0;
            whenIdle = now ? null : idle;
        }
        if (now) {
            idle.run();
        }
    }

    /** Hands out permits again after {@link #close}: the lanes that waited meanwhile are granted as permits free. */
    void open() {
        List<Runnable> granted = new ArrayList<>();
        synchronized (this) {
            closed = false;
            whenIdle = null;
            while (inUse < max && !waiting.isEmpty()) {
                inUse++;
                granted.add(waiting.poll());
            }
        }
        granted.forEach(Runnable::run);
    }

    synchronized int inUse() {
        return inUse;
    }

    synchronized int waiting() {
        return waiting.size();
    }
}
