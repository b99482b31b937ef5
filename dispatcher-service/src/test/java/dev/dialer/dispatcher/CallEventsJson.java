package dev.dialer.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.Topics;
import java.util.List;
import tools.jackson.databind.JsonNode;

/** Call events as the dispatcher's integration tests read them off {@code dialer.call.events}. */
public final class CallEventsJson {

    private CallEventsJson() {
    }

    /** The request's events so far, in the order they were published. */
    static List<JsonNode> eventsOf(TopicTail tail, String requestId) {
        return tail.records(Topics.CALL_EVENTS, requestId).stream()
                .map(r -> Contract.mapper().readTree(r.value())).toList();
    }

    /** The {@code status} of each {@code call.status} event. */
    public static List<String> statuses(List<JsonNode> events) {
        return ofType(events, "call.status").stream().map(e -> text(e, "status")).toList();
    }

    /** The {@code call.status} events with this status. */
    public static List<JsonNode> withStatus(List<JsonNode> events, String status) {
        return ofType(events, "call.status").stream().filter(e -> status.equals(text(e, "status"))).toList();
    }

    /** The first {@code call.status} event with this status. */
    public static JsonNode statusEvent(List<JsonNode> events, String status) {
        return withStatus(events, status).stream().findFirst()
                .orElseThrow(() -> new AssertionError("no " + status + " status in " + events));
    }

    public static List<JsonNode> finals(List<JsonNode> events) {
        return ofType(events, "call.final");
    }

    public static List<JsonNode> deferred(List<JsonNode> events) {
        return ofType(events, "call.deferred");
    }

    public static List<JsonNode> ofType(List<JsonNode> events, String type) {
        return events.stream().filter(e -> type.equals(text(e, "event_type"))).toList();
    }

    /** Each event's {@code sequence_number} is greater than the one before. */
    public static void assertStrictlyIncreasingSequence(List<JsonNode> events) {
        for (int i = 1; i < events.size(); i++) {
            assertThat(events.get(i).get("sequence_number").longValue())
                    .isGreaterThan(events.get(i - 1).get("sequence_number").longValue());
        }
    }

    /** A field's text; null when it is absent or null. */
    public static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asString();
    }
}
