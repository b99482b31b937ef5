package dev.dialer.common.kafka;

import java.util.Map;

/**
 * A consumed record. {@link #acknowledge()} marks it handled; its offset is committed once every earlier record of
 * its partition is acknowledged too, so acknowledge only after the side effect is durable.
 *
 * @param assignment the subscription's {@link PartitionFlow#generation} when the record was fetched: one fetched
 *                   before its partition's last revocation is stale, whatever happened to the partition since
 */
public record InboundRecord(String topic, int partition, long offset, String key, byte[] value,
                            Map<String, String> headers, Runnable acknowledger, long assignment) {

    /** Fetched before any assignment was counted. */
    public InboundRecord(String topic, int partition, long offset, String key, byte[] value,
                         Map<String, String> headers, Runnable acknowledger) {
        this(topic, partition, offset, key, value, headers, acknowledger, 0);
    }

    public void acknowledge() {
        acknowledger.run();
    }

    /** The same record, acknowledged by {@code acknowledger} instead: for a consumer that orders its own commits. */
    public InboundRecord withAcknowledger(Runnable acknowledger) {
        return new InboundRecord(topic, partition, offset, key, value, headers, acknowledger, assignment);
    }
}
