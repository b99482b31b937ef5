package dev.dialer.api.delivery;

import dev.dialer.api.problem.FieldProblem;
import dev.dialer.api.problem.JsonBodies;
import dev.dialer.api.problem.JsonMembers;
import dev.dialer.api.problem.Problems;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * What to replay: {@code {"event_ids": [...]}} or {@code {"from": "...", "to": "..."}} (ISO-8601 instants, the range
 * [from, to) of the events' occurrence), never both. Every problem names its field.
 *
 * <p>A range lies between 1970 and a little after now: ISO-8601 admits years such as -5000 or +300000, which
 * PostgreSQL cannot hold, and webhook-service would fail on such a request each time it read it again.
 *
 * @param eventIds the events, without repeats, or empty for a range
 * @param from     start of the range, inclusive
 * @param to       end of the range, exclusive
 */
record ReplayBody(List<String> eventIds, Instant from, Instant to) {

    private static final Set<String> FIELDS = Set.of("event_ids", "from", "to");
    private static final int MAX_EVENT_ID = 128;
    /** No event occurred before: the earliest {@code from} or {@code to}. */
    static final Instant EARLIEST = Instant.EPOCH;

    /**
     * Reads a replay body.
     *
     * @param latest the latest {@code from} or {@code to} accepted: now and a little (clocks differ)
     */
    static ReplayBody parse(String body, int maxEvents, Duration maxRange, Instant latest) {
        JsonNode root = JsonBodies.object(body,
                "The body is empty; send {\"event_ids\": [...]} or {\"from\": ..., \"to\": ...}.");
        List<FieldProblem> errors = new ArrayList<>();
        JsonMembers.refuseUnknown(root, FIELDS, "", "is not a field of a replay", errors);
        boolean byEvents = root.has("event_ids");
        boolean byRange = root.has("from") || root.has("to");
        if (byEvents && byRange) {
            errors.add(new FieldProblem("event_ids", "cannot be combined with from/to: send one or the other"));
        } else if (!byEvents && !byRange && errors.isEmpty()) {
            errors.add(new FieldProblem("event_ids", "or from and to are required"));
        }
        List<String> eventIds = byEvents && !byRange ? eventIds(root.get("event_ids"), maxEvents, errors) : List.of();
        Instant from = byRange && !byEvents ? instant(root, "from", latest, errors) : null;
        Instant to = byRange && !byEvents ? instant(root, "to", latest, errors) : null;
        if (from != null && to != null) {
            if (!from.isBefore(to)) {
                errors.add(new FieldProblem("to", "must be after from"));
            } else if (Duration.between(from, to).compareTo(maxRange) > 0) {
                errors.add(new FieldProblem("to", "must be at most " + maxRange + " after from"));
            }
        }
        if (!errors.isEmpty()) {
            throw Problems.validation(errors);
        }
        return new ReplayBody(eventIds, from, to);
    }

    private static List<String> eventIds(JsonNode node, int max, List<FieldProblem> errors) {
        if (node == null || !node.isArray() || node.isEmpty()) {
            errors.add(new FieldProblem("event_ids", "must be a non-empty list of event ids"));
            return List.of();
        }
        if (node.size() > max) {
            errors.add(new FieldProblem("event_ids", "must hold at most " + max + " ids"));
            return List.of();
        }
        Set<String> ids = new LinkedHashSet<>();
        for (int index = 0; index < node.size(); index++) {
            JsonNode id = node.get(index);
            if (!id.isString() || id.asString().isBlank() || id.asString().length() > MAX_EVENT_ID) {
                errors.add(new FieldProblem("event_ids[" + index + "]", "must be an event id"));
            } else {
                ids.add(id.asString().strip());
            }
        }
        return List.copyOf(ids);
    }

    private static Instant instant(JsonNode root, String field, Instant latest, List<FieldProblem> errors) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            errors.add(new FieldProblem(field, "is required with a range"));
            return null;
        }
        if (!node.isString()) {
            errors.add(new FieldProblem(field, "must be an ISO-8601 date-time such as 2026-01-01T00:00:00Z"));
            return null;
        }
        Instant instant;
        try {
            instant = OffsetDateTime.parse(node.asString().strip()).toInstant();
        } catch (DateTimeParseException e) {
            errors.add(new FieldProblem(field, "must be an ISO-8601 date-time such as 2026-01-01T00:00:00Z"));
            return null;
        }
        return within(field, instant, latest, errors);
    }

    private static Instant within(String field, Instant instant, Instant latest, List<FieldProblem> errors) {
        if (instant.isBefore(EARLIEST)) {
            errors.add(new FieldProblem(field, "must not be before " + EARLIEST));
            return null;
        }
        if (instant.isAfter(latest)) {
            errors.add(new FieldProblem(field, "must not be after " + latest + " (now, give or take clock skew)"));
            return null;
        }
        return instant;
    }
}
