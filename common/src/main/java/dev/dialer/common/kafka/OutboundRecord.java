package dev.dialer.common.kafka;

import java.util.Map;

/** A record to publish: value bytes are the contract's JSON (or, on a DLQ, the bad record, whole or cut short). */
public record OutboundRecord(String topic, String key, byte[] value, Map<String, String> headers) {

    public OutboundRecord {
        headers = headers == null ? Map.of() : headers;
    }

    public static OutboundRecord of(String topic, String key, byte[] value) {
        return new OutboundRecord(topic, key, value, Map.of());
    }
}
