package dev.dialer.dispatcher.pacing;

import dev.dialer.common.kafka.InboundRecord;
import java.util.ArrayDeque;

/**
 * One partition's records from the first unfinished one onwards, in offset order. Records finish in any order; the
 * window acknowledges only the last record of the finished run at its head, because acknowledging an offset commits
 * every earlier one of the partition. A committed offset therefore never passes an unfinished record.
 * Not thread-safe: its {@link PartitionLanes} guards it.
 */
final class OffsetWindow {

    /** A tracked record. */
    static final class Slot {
        final InboundRecord record;
        boolean finished;

        Slot(InboundRecord record) {
            this.record = record;
        }
    }

    private final ArrayDeque<Slot> slots = new ArrayDeque<>();

    Slot track(InboundRecord record) {
        Slot slot = new Slot(record);
        slots.add(slot);
        return slot;
    }

    /** Marks the slot finished and acknowledges the finished run at the head, if the slot completed one. */
    void finish(Slot slot) {
        if (slot.finished) {
            return;
        }
        slot.finished = true;
        Slot last = null;
        while (!slots.isEmpty() && slots.peekFirst().finished) {
            last = slots.pollFirst();
        }
        if (last != null) {
            last.record.acknowledge();
        }
    }

    /** Records held: unfinished ones and finished ones behind an unfinished one. */
    int size() {
        return slots.size();
    }

    /** Forgets every record (the partition was revoked: the next owner reads from the last commit). */
    void clear() {
        slots.clear();
    }
}
