package dev.dialer.dispatcher.pacing;

import java.util.ArrayDeque;

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

    DialPermits(int max) {
        this.max = max;
    }

    /**
     * Takes a permit, or queues {@code granted}, which then runs holding a permit (it must release it if unused).
     *
     * @return whether a permit was taken now
     */
    synchronized boolean tryAcquire(Runnable granted) {
        if (inUse < max && waiting.isEmpty()) {
            inUse++;
            return true;
        }
        waiting.add(granted);
        return false;
    }

    /** Gives a permit back: it passes to the first waiting lane, if any. */
    void release() {
        Runnable next;
        synchronized (this) {
            next = waiting.poll();
            if (next == null) {
                inUse--;
            }
        }
        if (next != null) {
            next.run();
        }
    }

    synchronized int inUse() {
        return inUse;
    }

    synchronized int waiting() {
        return waiting.size();
    }
}
