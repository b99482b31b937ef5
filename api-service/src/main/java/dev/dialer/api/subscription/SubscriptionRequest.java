package dev.dialer.api.subscription;

import dev.dialer.api.problem.FieldProblem;
import dev.dialer.api.problem.JsonBodies;
import dev.dialer.api.problem.JsonMembers;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.contract.EventType;
import dev.dialer.common.contract.SubscriptionConfig;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;

/**
 * A subscription to create ({@code webhook_id} and {@code event_types} required) or change (any of
 * {@code webhook_id}, {@code event_types}, {@code enabled}). Unknown fields are refused by name.
 *
 * @param webhookId  the webhook that receives the events, or null to keep it
 * @param eventTypes the event types, in the order given, without repeats; null to keep them
 * @param enabled    the new state, or null to keep it (true on create)
 */
record SubscriptionRequest(String webhookId, List<String> eventTypes, Boolean enabled) {

    /** Every event type a subscription can name, in the contract's order. */
    static final List<String> EVENT_TYPES = Stream.concat(Stream.of(EventType.values()).map(EventType::wire),
            Stream.of(SubscriptionConfig.WEBHOOK_DISABLED)).toList();
    private static final Set<String> FIELDS = Set.of("webhook_id", "event_types", "enabled");
    private static final int MAX_ID = 64;

    static SubscriptionRequest create(String body) {
        return parse(body, true);
    }

    static SubscriptionRequest change(String body) {
        return parse(body, false);
    }

    private static SubscriptionRequest parse(String body, boolean create) {
        JsonNode root = JsonBodies.object(body, "The body is empty; send a JSON object.");
        List<FieldProblem> errors = new ArrayList<>();
        JsonMembers.refuseUnknown(root, FIELDS, "", "is not a field of a subscription", errors);
        String webhookId = webhookId(root.get("webhook_id"), create, errors);
        List<String> eventTypes = eventTypes(root.get("event_types"), create, errors);
        Boolean enabled = JsonBodies.enabled(root.get("enabled"), errors);
        if (!create && errors.isEmpty() && webhookId == null && eventTypes == null && enabled == null) {
            errors.add(new FieldProblem("event_types", "or webhook_id or enabled is required"));
        }
        if (!errors.isEmpty()) {
            throw Problems.validation(errors);
        }
        return new SubscriptionRequest(webhookId, eventTypes, create && enabled == null ? Boolean.TRUE : enabled);
    }

    private static String webhookId(JsonNode node, boolean required, List<FieldProblem> errors) {
        if (node == null || node.isNull()) {
            if (required || node != null) {
                errors.add(new FieldProblem("webhook_id", "is required"));
            }
            return null;
        }
        if (!node.isString() || node.asString().isBlank() || node.asString().length() > MAX_ID) {
            errors.add(new FieldProblem("webhook_id", "must be a webhook id"));
            return null;
        }
        return node.asString().strip();
    }

    private static List<String> eventTypes(JsonNode node, boolean required, List<FieldProblem> errors) {
        if (node == null || node.isNull()) {
            if (required || node != null) {
                errors.add(new FieldProblem("event_types", "is required: a list of " + EVENT_TYPES));
            }
            return null;
        }
        if (!node.isArray() || node.isEmpty()) {
            errors.add(new FieldProblem("event_types", "must be a non-empty list of " + EVENT_TYPES));
            return null;
        }
        Set<String> types = new LinkedHashSet<>();
        for (int index = 0; index < node.size(); index++) {
            JsonNode type = node.get(index);
            if (type.isString() && EVENT_TYPES.contains(type.asString())) {
                types.add(type.asString());
            } else {
                errors.add(new FieldProblem("event_types[" + index + "]", "must be one of " + EVENT_TYPES));
            }
        }
        return List.copyOf(types);
    }
}
