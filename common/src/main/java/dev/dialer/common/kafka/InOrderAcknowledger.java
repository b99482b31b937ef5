package dev.dialer.common.kafka;

import java.util.HashSet;
import java.util.Set;
import java.util.TreeMap;

/**
 * Acknowledges one partition's records in offset order although they finish in any order: a record is acknowledged
 * once it and every earlier record received are done, so a committed offset never passes an unfinished record. This
 * lets a partition keep many records in flight without one slow record at the head (a webhook endpoint that hangs)
 * holding back the slots of the records behind it (they finish and wait here, as offsets, not as tries).
 *
 * <p>Memory is bounded as the dispatcher bounds its callbacks partitions (decision 0062): at {@code high} records
 * received and not finished (waiting whole in their partition's queue, or being handled) the partition stops
 * fetching, and so it does at {@link #FINISHED_FACTOR} times {@code high} records received and not acknowledged; it
 * fetches again once both are down to half. Behind a record that does not finish (an endpoint that hangs until the
 * timeout, a statement PostgreSQL keeps refusing, PostgreSQL away) the records after it finish and wait here; without
 * the pause they would keep coming for as long as the head is stuck. A paused partition stops only itself: the others
 * go on. A finished record waits as its offset and acknowledgement only, without its payload, which is why more of
 * them may wait: behind a head that takes seconds (one slow endpoint) the partition moves on by that many records
 * each time the head finishes, and a bound of {@code high} alone held every other record of the partition to a few
 * hundred a second (decision 0095).
 */
public final class InOrderAcknowledger {

    /** How many times {@code high} records may wait received and not acknowledged, most of them finished. */
    public static final int FINISHED_FACTOR = 10;

    private final int high;
    private final Runnable pause;
    private final Runnable resume;
    /** The acknowledgement of each record received and not acknowledged yet, by offset. */
    private final TreeMap<Long, Runnable> pending = new TreeMap<>();
    private final Set<Long> done = new HashSet<>();
    private boolean paused;
    private boolean revoked;

    /**
     * @param high   records received and not finished at which the partition stops fetching ({@link #FINISHED_FACTOR}
     *               times as many received and not acknowledged stop it too)
     * @param pause  stops the partition's fetching (records already fetched still arrive)
     * @param resume resumes it
     */
    public InOrderAcknowledger(int high, Runnable pause, Runnable resume) {
        this.high = high;
        this.pause = pause;
        this.resume = resume;
    }

    /** Called in offset order, as each record arrives. */
    public synchronized void received(InboundRecord record) {
        pending.put(record.offset(), record.acknowledger());
        // Switched under the lock: a pause and the resume after it reach the consumer in that order.
        if (!paused && (unfinished() >= high || pending.size() >= (long) high * FINISHED_FACTOR)) {
            paused = true;
            pause.run();
        }
    }

    /** Records received and not finished. Under the lock. */
    private int unfinished() {
        return pending.size() - done.size();
    }

    /** Called when the record's handling is durable; acknowledges the contiguous done prefix. */
    public synchronized void done(InboundRecord record) {
        // A partition revoked acknowledges nothing more; a copy whose offset is no longer pending (acknowledged
        // through another copy, fetched again after a consumer restart) leaves nothing behind.
        if (revoked || !pending.containsKey(record.offset())) {
            return;
        }
        done.add(record.offset());
        while (!pending.isEmpty() && done.remove(pending.firstKey())) {
            pending.pollFirstEntry().getValue().run();
        }
        if (paused && unfinished() <= high / 2 && pending.size() <= (long) high * FINISHED_FACTOR / 2) {
            paused = false;
            resume.run();
        }
    }

    /**
     * The partition was assigned to this consumer, perhaps a new one (after a consumer failure) that fetches every
     * partition: a pause this still needs is made again.
     */
    public synchronized void assigned() {
        if (paused) {
            pause.run();
        }
    }

    /**
     * The partition was revoked: its next owner reads again from the last commit, so nothing received here is
     * acknowledged any more (an acknowledgement now would commit past what the owner has not handled). Returns
     * whether the partition was held paused, which the caller lifts.
     */
    public synchronized boolean revoke() {
        revoked = true;
        pending.clear();
        done.clear();
        return paused;
    }

    /** Whether the partition was revoked since this acknowledger took its records: they are another owner's now. */
    public synchronized boolean isRevoked() {
        return revoked;
    }

    /** Records received and not yet acknowledged. */
    public synchronized int unacknowledged() {
        return pending.size();
    }
}
