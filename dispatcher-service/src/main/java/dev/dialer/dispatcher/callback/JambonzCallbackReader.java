package dev.dialer.dispatcher.callback;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.dispatcher.attempt.AttemptOfCall;
import dev.dialer.dispatcher.carrier.CallReport;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads a jambonz callback body: snake_case keys ({@code call_sid, call_status, sip_status, sip_reason,
 * duration}) and {@code customerData}, the {@code tag} given at creation, which carries our correlation ids.
 *
 * <p>The call's application can replace {@code customerData} for the rest of the call (jambonz's {@code tag} verb; a
 * customer's own flow may run it at any time). A body whose {@code customerData} names no attempt is then read as
 * the call's alone, by its {@code call_sid} ({@link Parsed#tagged()}), and its other tag fields are not ours.
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
        private final boolean notJson;

        InvalidCallback(String field, String message) {
            this(field, message, false);
        }

        private InvalidCallback(String field, String message, boolean notJson) {
            super(message, null, false, false);
            this.field = field;
            this.notJson = notJson;
        }

        static InvalidCallback ofNotJson() {
            return new InvalidCallback("body", "the body is not JSON", true);
        }

        String field() {
            return field;
        }

        /** Whether the body could not be read as JSON at all (else it is JSON, but not a callback we can apply). */
        boolean notJson() {
            return notJson;
        }
    }

    /**
     * The callback's fields, with jambonz's raw {@code call_status}; {@code amdType} is set (and {@code callStatus}
     * may be absent) for an answering-machine event. {@code carrier}, {@code sentAtMillis} and {@code dial} are what
     * our tag says about the create-call request (its route name, when it was sent, which dial of the attempt it
     * was), if it says; {@code callerId} is the tag's caller ID, which routes the callback to its owner (null when
     * the tag names none), {@code seal} its seal ({@link TagSeal}). A body whose tag names no attempt has none of
     * these ({@link #tagged()}).
     */
    record Parsed(String callStatus, String requestId, int attempt, String callSid, Integer sipStatus,
                  String sipReason, Integer durationSeconds, String amdType, String carrier, Long sentAtMillis,
                  Integer dial, String callerId, String seal) {

        boolean isAnsweringMachineEvent() {
            return amdType != null;
        }

        /**
         * Whether the tag names the attempt; if not, the call's application replaced it, and the callback is the
         * call's ({@code callSid}) alone until {@link #of} names the attempt that placed it.
         */
        boolean tagged() {
            return requestId != null;
        }

        /** This callback as about {@code call}'s attempt and dial, with the caller ID its request has. */
        Parsed of(AttemptOfCall call) {
            return new Parsed(callStatus, call.requestId(), call.attempt(), callSid, sipStatus, sipReason,
                    durationSeconds, amdType, carrier, sentAtMillis, call.dial(), call.callerId(), null);
        }

        /** A Voice Gateway callback as it arrived: bound to its call ({@link CarrierCallback#callBound()}). */
        CarrierCallback as(AttemptStatus status) {
            return as(status, null, false, true);
        }

        /**
         * @param errorCode the dialer's own verdict on a call it ended itself ({@link SipStatusReports}), which only a
         *                  topic record's header can carry; null for what the carrier reported
         * @param takenOver whether the dialer reports a SIP call it took over ({@link CarrierCallback#takenOver()}),
         *                  which only a topic record's header can say
         * @param callBound whether the callback is bound to its call ({@link CarrierCallback#callBound()}): a Voice
         *                  Gateway callback is, which a topic record's header says
         */
        CarrierCallback as(AttemptStatus status, String errorCode, boolean takenOver, boolean callBound) {
            return new CarrierCallback(requestId, attempt, status, callStatus, callSid, sipStatus, sipReason,
                    durationSeconds, null, errorCode, dial, takenOver, callBound, null, carrier);
        }

        /** An answering-machine result as it arrived: bound to its call, as every Voice Gateway callback. */
        CarrierCallback detected(String answeredBy) {
            return detected(answeredBy, true);
        }

        /** An answering-machine result: the answered call it implies, carrying {@code answeredBy}. */
        CarrierCallback detected(String answeredBy, boolean callBound) {
            return new CarrierCallback(requestId, attempt, AttemptStatus.IN_PROGRESS, amdType, callSid, null, null,
                    null, answeredBy, null, dial, false, callBound, null, carrier);
        }
    }

    /**
     * @throws InvalidCallback when the body is not a JSON object or misses {@code call_status} (a status callback),
     *                         or names its call neither by {@code customerData.request_id} and
     *                         {@code customerData.attempt} nor by {@code call_sid}
     */
    static Parsed read(byte[] body) {
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (JacksonException e) {
            throw InvalidCallback.ofNotJson();
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
        String requestId = customerData == null ? null : nonBlank(text(customerData, "request_id"));
        Integer attempt = customerData == null ? null : integer(customerData, "attempt");
        String callSid = nonBlank(text(json, "call_sid"));
        Integer sipStatus = CallReport.sipStatus(integer(json, "sip_status"));
        String sipReason = text(json, "sip_reason");
        Integer duration = CallReport.duration(integer(json, "duration"));
        if (requestId == null || attempt == null || attempt < 1) {
            if (callSid != null) {
                // The call's application replaced the tag: the call is known by its call_sid alone.
                return new Parsed(callStatus, null, 0, callSid, sipStatus, sipReason, duration, amdType, null, null,
                        null, null, null);
            }
            if (requestId == null) {
                throw new InvalidCallback("customerData.request_id",
                        "customerData.request_id is required when call_sid is absent");
            }
            throw new InvalidCallback("customerData.attempt",
                    "customerData.attempt must be a positive integer when call_sid is absent");
        }
        return new Parsed(callStatus, requestId, attempt, callSid, sipStatus, sipReason, duration, amdType,
                text(customerData, "carrier"), longValue(customerData, "sent_at"),
                positive(integer(customerData, "dial")), nonBlank(text(customerData, "caller_id")),
                text(customerData, TagSeal.FIELD));
    }

    /**
     * The callback's body with its tag replaced by ours for {@code call}: what the callbacks topic carries of a
     * callback whose tag the call's application replaced, so that the caller ID's owner reads its attempt as the
     * endpoint found it. The rest of the body is kept as the carrier sent it.
     */
    static byte[] retagged(byte[] body, AttemptOfCall call) {
        ObjectNode json = (ObjectNode) JSON.readTree(body);
        ObjectNode tag = json.putObject("customerData");
        tag.put("request_id", call.requestId());
        tag.put("attempt", call.attempt());
        tag.put("dial", call.dial());
        tag.put("caller_id", call.callerId());
        return JSON.writeValueAsBytes(json);
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
