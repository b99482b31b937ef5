package dev.dialer.dispatcher;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.Topics;
import java.util.List;
import tools.jackson.databind.JsonNode;

/** Call events as the dispatcher's integration tests read them off {@code dialer.call.events}. */
final class CallEventsJson {

    private CallEventsJson() {
    }

    /** The request's events so far, in the order they were published. */
    static List<JsonNode> eventsOf(TopicTail tail, String requestId) {
        return tail.records(Topics.CALL_EVENTS, requestId).stream()
                .map(r -> Contract.mapper().readTree(r.value())).toList();
    }

    /** The {@code status} of each {@code call.status} event. */
    static List<String> statuses(List<JsonNode> events) {
        return events.stream().filter(e -> "call.status".equals(text(e, "event_type")))
                .map(e -> text(e, "status")).toList();
    }

    static List<JsonNode> finals(List<JsonNode> events) {
        return ofType(events, "call.final");
    }

    static List<JsonNode> deferred(List<JsonNode> events) {
        return ofType(events, "call.deferred");
    }

    static List<JsonNode> ofType(List<JsonNode> events, String type) {
        return events.stream().filter(e -> type.equals(text(e, "event_type"))).toList();
    }

    /** A field's text; null when it is absent or null. */
    static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asString();
    }
}
