package dev.dialer.api.problem;

import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Refuses client strings holding NUL (U+0000, {@code \u0000} in JSON, {@code %00} in a form or URL). PostgreSQL
 * stores no NUL in {@code text} and no {@code \u0000} in {@code jsonb}: such a string fails the statement that writes
 * or looks it up, here (a 500, or the shared group-commit insert of other requests' rows) or in the dispatcher after
 * the API answered 2xx for a command it cannot store. Every one is therefore a field problem before anything is done.
 */
public final class NulCharacters {

    public static final String MESSAGE = "must not contain NUL characters (U+0000)";

    private NulCharacters() {
    }

    public static boolean in(String text) {
        return text != null && text.indexOf('\0') >= 0;
    }

    /** Adds a problem naming {@code field} when {@code value} holds a NUL; answers whether it did. */
    public static boolean check(String field, String value, List<FieldProblem> errors) {
        if (in(value)) {
            errors.add(new FieldProblem(field, MESSAGE));
            return true;
        }
        return false;
    }

    /**
     * Adds a problem for every string under {@code node} that holds a NUL, property names included, each named by its
     * path ({@code url}, {@code calling_window.start}, {@code campaign_windows[0].campaign}).
     *
     * @param field the node's own name, empty for the body
     */
    public static void check(String field, JsonNode node, List<FieldProblem> errors) {
        if (node == null) {
            return;
        }
        if (node.isString()) {
            check(field, node.asString(), errors);
        } else if (node.isArray()) {
            for (int index = 0; index < node.size(); index++) {
                check(field + "[" + index + "]", node.get(index), errors);
            }
        } else if (node.isObject()) {
            for (Map.Entry<String, JsonNode> property : node.properties()) {
                String name = child(field, property.getKey());
                if (!check(name, property.getKey(), errors)) {
                    check(name, property.getValue(), errors);
                }
            }
        }
    }

    /** As {@link #check(String, JsonNode, List)} for a body read into maps, lists and scalars. */
    public static void check(String field, Object value, List<FieldProblem> errors) {
        if (value instanceof String text) {
            check(field, text, errors);
        } else if (value instanceof JsonNode node) {
            check(field, node, errors);
        } else if (value instanceof List<?> list) {
            for (int index = 0; index < list.size(); index++) {
                check(field + "[" + index + "]", list.get(index), errors);
            }
        } else if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                String key = String.valueOf(entry.getKey());
                String name = child(field, key);
                if (!check(name, key, errors)) {
                    check(name, entry.getValue(), errors);
                }
            }
        }
    }

    private static String child(String parent, String name) {
        return parent.isEmpty() ? name : parent + "." + name;
    }
}
