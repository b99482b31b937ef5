package dev.dialer.common.kafka;

import dev.dialer.common.contract.ContractViolation;
import java.util.HashMap;
import java.util.Map;

/** Builds the DLQ copy of a bad record: the value untouched, headers naming the error and where it came from. */
public final class DeadLetters {

    private DeadLetters() {
    }

    public static OutboundRecord of(InboundRecord bad, String dlqTopic, ContractViolation violation) {
        Map<String, String> headers = new HashMap<>(bad.headers());
        headers.put(Topics.HEADER_ERROR_CODE, violation.code().wire());
        headers.put(Topics.HEADER_ERROR_MESSAGE, truncate(violation.getMessage()));
        headers.put(Topics.HEADER_SOURCE_TOPIC, bad.topic());
        headers.put(Topics.HEADER_SOURCE_PARTITION, Integer.toString(bad.partition()));
        headers.put(Topics.HEADER_SOURCE_OFFSET, Long.toString(bad.offset()));
        return new OutboundRecord(dlqTopic, bad.key(), bad.value(), headers);
    }

    private static String truncate(String message) {
        String text = message == null ? "" : message;
        return text.length() <= 1000 ? text : text.substring(0, 1000);
    }
}
