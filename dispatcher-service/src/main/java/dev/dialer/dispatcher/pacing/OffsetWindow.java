package dev.dialer.dispatcher.pacing;

import dev.dialer.common.kafka.InboundRecord;
import java.util.ArrayDeque;

/**
 * One partition's records from the first unfinished one onwards, in offset order. Records finish in any order; the
 * window acknowledges only the last record of the finished run at its head, because acknowledging an offset commits
 * every earlier one of the partition. A committed offset therefore never passes an unfinished record.
 * Not thread-safe: its user guards it ({@link PartitionLanes}; the callbacks consumer).
 */
public final class OffsetWindow {

    /** A tracked record: only its acknowledgement is kept, not its payload, once it has been handed on. */
    public static final class Slot {
        final Runnable acknowledge;
        final long epoch;
        boolean finished;

        Slot(Runnable acknowledge, long epoch) {
            this.acknowledge = acknowledge;
            this.epoch = epoch;
        }
    }

    private final ArrayDeque<Slot> slots = new ArrayDeque<>();
    private int unfinished;
    private long epoch;

    public Slot track(InboundRecord record) {
        Slot slot = new Slot(record.acknowledger(), epoch);
        slots.add(slot);
        unfinished++;
        return slot;
    }

    /** Marks the slot finished and acknowledges the finished run at the head, if the slot completed one. */
    public void finish(Slot slot) {
        if (slot.finished) {
            return;
        }
        slot.finished = true;
        if (slot.epoch != epoch) {
            return;
        }
        unfinished--;
        Slot last = null;
        while (!slots.isEmpty() && slots.peekFirst().finished) {
            last = slots.pollFirst();
        }
        if (last != null) {
            last.acknowledge.run();
        }
    }

    /** Records tracked: unfinished ones and finished ones behind an unfinished one. */
    int size() {
        return slots.size();
    }

    /** Records not finished yet. */
    int unfinished() {
        return unfinished;
    }

    /** Forgets every record (the partition was revoked: the next owner reads from the last commit). */
    public void clear() {
        slots.clear();
        unfinished = 0;
        epoch++;
    }
}
