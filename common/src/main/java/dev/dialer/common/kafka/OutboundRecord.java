package dev.dialer.common.kafka;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * A record to publish: value bytes are the contract's JSON (or, on a DLQ, the bad record, whole or cut short).
 *
 * @param headers   the dialer's headers, as text
 * @param carried   headers copied from a consumed record as they came ({@link InboundRecord#rawHeaders}), sent before
 *                  {@code headers}: those of a name {@code headers} also has are left out, the dialer's own value
 *                  being the one that holds
 * @param partition the partition to write to; null to let the producer's partitioner choose it by the key (with the
 *                  partition count its own metadata holds)
 */
public record OutboundRecord(String topic, String key, byte[] value, Map<String, String> headers,
                             List<Header> carried, Integer partition) {

    public OutboundRecord {
        headers = headers == null ? Map.of() : headers;
        carried = carried == null ? List.of() : List.copyOf(carried);
    }

    public OutboundRecord(String topic, String key, byte[] value, Map<String, String> headers,
                          List<Header> carried) {
        this(topic, key, value, headers, carried, null);
    }

    public OutboundRecord(String topic, String key, byte[] value, Map<String, String> headers) {
        this(topic, key, value, headers, List.of());
    }

    public static OutboundRecord of(String topic, String key, byte[] value) {
        return new OutboundRecord(topic, key, value, Map.of());
    }

    /**
     * The headers as they are sent, in order: the carried ones of a name the dialer's {@link #headers} do not set,
     * then those, in UTF-8.
     */
    public List<Header> sentHeaders() {
        List<Header> sent = new ArrayList<>(carried.size() + headers.size());
        carried.stream().filter(header -> !headers.containsKey(header.key())).forEach(sent::add);
        headers.forEach((name, value) -> sent.add(new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8))));
        return sent;
    }
}
