package dev.dialer.api.problem;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads the JSON object bodies of the management endpoints (webhooks, subscriptions, settings, replays), whatever the
 * Content-Type says (curl's {@code -d} labels JSON as a form), and the fields they share. What cannot be read is a
 * {@code malformed-request} problem; a field of the wrong kind is added to the request's field problems. No string of
 * such a body may hold a NUL character, and no member may be given twice in one object ({@link JsonMembers}): Jackson
 * would keep the last one silently, and {@code {"url":"https://a","url":"https://b"}} would create a webhook of a URL
 * the client may not have meant.
 */
public final class JsonBodies {

    private static final JsonMapper JSON = JsonMembers.mapper();

    private JsonBodies() {
    }

    /**
     * The body as a JSON object.
     *
     * @param whenEmpty the problem's detail when there is no body, saying what to send
     * @throws ApiProblem {@code malformed-request} when the body is empty, not JSON, or not an object; a validation
     *                    problem naming every string in it, property names too, that holds a NUL character
     *                    ({@link NulCharacters}), or naming a member given twice or a number too long to read
     *                    ({@link JsonMembers})
     */
    public static ObjectNode object(String body, String whenEmpty) {
        if (body == null || body.isBlank()) {
            throw Problems.malformed(whenEmpty);
        }
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JacksonException e) {
            throw JsonMembers.problem(JSON, body, e, "", Set.of(), JsonMembers.NOT_VALID_JSON);
        }
        if (!(root instanceof ObjectNode object)) {
            throw Problems.malformed("The body must be a JSON object.");
        }
        List<FieldProblem> nul = new ArrayList<>();
        NulCharacters.check("", object, nul);
        if (!nul.isEmpty()) {
            throw Problems.validation(nul);
        }
        return object;
    }

    /** The optional boolean field {@code enabled}: null when absent; a non-boolean is a field problem. */
    public static Boolean enabled(JsonNode node, List<FieldProblem> errors) {
        if (node == null) {
            return null;
        }
        if (!node.isBoolean()) {
            errors.add(new FieldProblem("enabled", "must be true or false"));
            return null;
        }
        return node.asBoolean();
    }
}
