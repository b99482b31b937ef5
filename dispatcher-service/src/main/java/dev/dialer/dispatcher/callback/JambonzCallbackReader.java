package dev.dialer.dispatcher.callback;

import dev.dialer.common.contract.AttemptStatus;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads a jambonz callback body: snake_case keys ({@code call_sid, call_status, sip_status, sip_reason,
 * duration}) and {@code customerData}, the {@code tag} given at creation, which carries our correlation ids.
 *
 * <p>An answering-machine event (posted to {@code amd.actionHook}) is the call's details with a {@code type} such as
 * {@code amd_machine_detected} added; its {@code type} tells it apart from a status callback, and it needs no
 * {@code call_status}.
 */
final class JambonzCallbackReader {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private JambonzCallbackReader() {
    }

    /** A callback body that cannot be applied; {@link #field()} names what is wrong. */
    static final class InvalidCallback extends RuntimeException {
        private final String field;

        InvalidCallback(String field, String message) {
            super(message, null, false, false);
            this.field = field;
        }

        String field() {
            return field;
        }
    }

    /**
     * The callback's fields, with jambonz's raw {@code call_status}; {@code amdType} is set (and {@code callStatus}
     * may be absent) for an answering-machine event. {@code carrier}, {@code sentAtMillis} and {@code dial} are what
     * our tag says about the create-call request (its route name, when it was sent, which dial of the attempt it
     * was), if it says; {@code callerId} is the tag's caller ID, which routes the callback to its owner (null when
     * the tag names none).
     */
    record Parsed(String callStatus, String requestId, int attempt, String callSid, Integer sipStatus,
                  String sipReason, Integer durationSeconds, String amdType, String carrier, Long sentAtMillis,
                  Integer dial, String callerId) {

        boolean isAnsweringMachineEvent() {
            return amdType != null;
        }

        CarrierCallback as(AttemptStatus status) {
            return as(status, null, false);
        }

        /**
         * @param errorCode the dialer's own verdict on a call it ended itself ({@link SipStatusReports}), which only a
         *                  topic record's header can carry; null for what the carrier reported
         * @param takenOver whether the dialer reports a SIP call it took over ({@link CarrierCallback#takenOver()}),
         *                  which only a topic record's header can say
         */
        CarrierCallback as(AttemptStatus status, String errorCode, boolean takenOver) {
            return new CarrierCallback(requestId, attempt, status, callStatus, callSid, sipStatus, sipReason,
                    durationSeconds, null, errorCode, dial, takenOver);
        }

        /** An answering-machine result: the answered call it implies, carrying {@code answeredBy}. */
        CarrierCallback detected(String answeredBy) {
            return new CarrierCallback(requestId, attempt, AttemptStatus.IN_PROGRESS, amdType, callSid, null, null,
                    null, answeredBy, null, dial);
        }
    }

    /**
     * @throws InvalidCallback when the body is not a JSON object or misses {@code call_status} (a status callback),
     *                         {@code customerData.request_id} or {@code customerData.attempt}
     */
    static Parsed read(byte[] body) {
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (JacksonException e) {
            throw new InvalidCallback("body", "the body is not JSON");
        }
        if (json == null || !json.isObject()) {
            throw new InvalidCallback("body", "the body must be a JSON object");
        }
        String callStatus = text(json, "call_status");
        String type = text(json, "type");
        String amdType = type != null && type.startsWith(AnsweredBy.EVENT_PREFIX) ? type : null;
        if (callStatus == null && amdType == null) {
            throw new InvalidCallback("call_status", "call_status is required");
        }
        JsonNode customerData = json.get("customerData");
        String requestId = customerData == null ? null : text(customerData, "request_id");
        if (requestId == null || requestId.isBlank()) {
            throw new InvalidCallback("customerData.request_id", "customerData.request_id is required");
        }
        Integer attempt = customerData == null ? null : integer(customerData, "attempt");
        if (attempt == null || attempt < 1) {
            throw new InvalidCallback("customerData.attempt", "customerData.attempt must be a positive integer");
        }
        return new Parsed(callStatus, requestId, attempt, text(json, "call_sid"),
                sipStatus(integer(json, "sip_status")), text(json, "sip_reason"), duration(integer(json, "duration")),
                amdType, text(customerData, "carrier"),
                longValue(customerData, "sent_at"), positive(integer(customerData, "dial")),
                nonBlank(text(customerData, "caller_id")));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value != null && value.isString() ? value.stringValue() : null;
    }

    private static Long longValue(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value != null && value.isIntegralNumber() && value.canConvertToLong() ? value.longValue() : null;
    }

    private static String nonBlank(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    /**
     * A SIP status code is 100 to 699 (RFC 3261); anything else from the carrier is no code, and the events the
     * callback makes carry none rather than one their schema refuses.
     */
    private static Integer sipStatus(Integer value) {
        return value != null && value >= 100 && value <= 699 ? value : null;
    }

    /** A call's duration is 0 seconds or more; a negative one from the carrier is none. */
    private static Integer duration(Integer value) {
        return value != null && value >= 0 ? value : null;
    }

    /** A dial number is 1 or more; anything else names no dial. */
    private static Integer positive(Integer value) {
        return value != null && value > 0 ? value : null;
    }

    /** A whole number, given as a JSON number or as a string of digits (tags pass through other systems). */
    private static Integer integer(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (value.isIntegralNumber() && value.canConvertToInt()) {
            return value.intValue();
        }
        if (value.isString()) {
            try {
                return Integer.valueOf(value.stringValue().strip());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }
}
