package dev.dialer.common.kafka;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * A consumed record. {@link #acknowledge()} marks it handled; its offset is committed once every earlier record of
 * its partition is acknowledged too, so acknowledge only after the side effect is durable.
 *
 * @param headers    the record's headers as text, for reading: the last value of each name, in UTF-8; none whose value
 *                   is null
 * @param assignment the subscription's {@link PartitionFlow#generation} when the record was fetched: one fetched
 *                   before its partition's last revocation is stale, whatever happened to the partition since
 * @param rawHeaders the record's headers as they came, in their order, repeated names, binary and null values
 *                   included: what a copy of the record carries on (a DLQ copy, a command re-routed), so that it
 *                   loses nothing of them. Made from {@code headers} when not given
 */
public record InboundRecord(String topic, int partition, long offset, String key, byte[] value,
                            Map<String, String> headers, Runnable acknowledger, long assignment,
                            List<Header> rawHeaders) {

    public InboundRecord {
        rawHeaders = rawHeaders != null ? List.copyOf(rawHeaders) : asRaw(headers);
    }

    /** A record whose headers are all text, as {@code headers} says. */
    public InboundRecord(String topic, int partition, long offset, String key, byte[] value,
                         Map<String, String> headers, Runnable acknowledger, long assignment) {
        this(topic, partition, offset, key, value, headers, acknowledger, assignment, null);
    }

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
        return new InboundRecord(topic, partition, offset, key, value, headers, acknowledger, assignment, rawHeaders);
    }

    private static List<Header> asRaw(Map<String, String> headers) {
        List<Header> raw = new ArrayList<>();
        if (headers != null) {
            headers.forEach((name, value) -> raw.add(new RecordHeader(name,
                    value == null ? null : value.getBytes(StandardCharsets.UTF_8))));
        }
        return List.copyOf(raw);
    }
}
