package dev.dialer.webhook.delivery;

import dev.dialer.common.kafka.InboundRecord;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeMap;

/**
 * Acknowledges one partition's records in offset order although they finish in any order: a record is acknowledged
 * once it and every earlier record received are done, so a committed offset never passes an unfinished record. This
 * lets a partition keep many records in flight without one slow endpoint at the head holding back the slots of the
 * records behind it (they finish and wait here, as offsets, not as tries).
 */
final class InOrderAcknowledger {

    private final TreeMap<Long, InboundRecord> pending = new TreeMap<>();
    private final Set<Long> done = new HashSet<>();

    /** Called in offset order, as each record arrives. */
    synchronized void received(InboundRecord record) {
        pending.put(record.offset(), record);
    }

    /** Called when the record's handling is durable; acknowledges the contiguous done prefix. */
    synchronized void done(InboundRecord record) {
        done.add(record.offset());
        while (!pending.isEmpty() && done.remove(pending.firstKey())) {
            pending.pollFirstEntry().getValue().acknowledge();
        }
    }

    /** Records received and not yet acknowledged. */
    synchronized int unacknowledged() {
        return pending.size();
    }
}
