package dev.dialer.api.send;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.FieldError;
import dev.dialer.common.contract.CallCommand;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads {@code POST /api/v2/outgoing/send} bodies the way the seed's clients send them: JSON, or form-encoded, and
 * JSON sent with curl's default form content type (detected from the body, not the header). The flat
 * {@code "variables[Name]": "…"} keys of the seed's examples are folded into {@code variables}.
 */
final class SendRequestParser {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String VARIABLE_PREFIX = "variables[";

    private SendRequestParser() {
    }

    static SendRequest parse(String body) {
        Map<String, Object> fields = looksLikeJson(body) ? json(body) : form(body);
        return validate(fields);
    }

    private static boolean looksLikeJson(String body) {
        return !body.isBlank() && body.strip().charAt(0) == '{';
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> json(String body) {
        try {
            return JSON.readValue(body, LinkedHashMap.class);
        } catch (JacksonException e) {
            throw ApiProblem.invalid("body", "is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static Map<String, Object> form(String body) {
        Map<String, Object> fields = new LinkedHashMap<>();
        for (String pair : body.split("&")) {
            if (pair.isBlank()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            fields.put(name, value);
        }
        return fields;
    }

    private static String decode(String text) {
        try {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ApiProblem.invalid("body", "is neither JSON nor form-encoded");
        }
    }

    private static SendRequest validate(Map<String, Object> fields) {
        List<FieldError> errors = new ArrayList<>();
        String bridge = text(fields, "bridge", errors);
        List<String> to = recipients(fields.get("to"), errors);
        String flowId = text(fields, "flow_id", errors);
        String audio = text(fields, "audio", errors);
        if (bridge == null && !errors.stream().anyMatch(e -> e.field().equals("bridge"))) {
            errors.add(new FieldError("bridge", "is required"));
        }
        if (flowId == null && audio == null) {
            errors.add(new FieldError("flow_id", "or audio is required"));
        }
        if (audio != null && looksLikeUrl(audio) && !audio.matches("(?i)^https?://\\S+$")) {
            errors.add(new FieldError("audio", "must be a sound-file id or a URL starting with http:// or https://"));
        }
        int interval = interval(fields.get("interval"), errors);
        Map<String, String> variables = variables(fields, errors);
        String campaign = text(fields, "name", errors);
        String webhookId = text(fields, "webhook_id", errors);
        String foreignId = text(fields, "foreign_id", errors);
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors);
        }
        return new SendRequest(bridge, to, flowId, audio, campaign, interval, webhookId, variables, foreignId);
    }

    private static boolean looksLikeUrl(String audio) {
        return audio.contains("://") || audio.matches("(?i)^[a-z][a-z0-9+.-]*:.*");
    }

    private static String text(Map<String, Object> fields, String name, List<FieldError> errors) {
        Object value = fields.get(name);
        if (value == null) {
            return null;
        }
        if (value instanceof String || value instanceof Number) {
            String text = value.toString().strip();
            return text.isEmpty() ? null : text;
        }
        errors.add(new FieldError(name, "must be a string"));
        return null;
    }

    private static List<String> recipients(Object value, List<FieldError> errors) {
        List<String> result = new ArrayList<>();
        if (value instanceof List<?> list) {
            list.forEach(item -> result.add(item == null ? "" : item.toString().strip()));
        } else if (value instanceof String || value instanceof Number) {
            Arrays.stream(value.toString().split(",")).map(String::strip).forEach(result::add);
        } else if (value != null) {
            errors.add(new FieldError("to", "must be a number, a comma-separated list or an array"));
            return result;
        }
        result.removeIf(String::isEmpty);
        if (result.isEmpty()) {
            errors.add(new FieldError("to", "is required"));
        }
        return result;
    }

    private static int interval(Object value, List<FieldError> errors) {
        if (value == null || value.toString().isBlank()) {
            return 0;
        }
        try {
            int minutes = Integer.parseInt(value.toString().strip());
            if (CallCommand.INTERVALS.contains(minutes)) {
                return minutes;
            }
        } catch (NumberFormatException e) {
            // reported below with the allowed values
        }
        errors.add(new FieldError("interval", "must be one of 0, 5, 15, 30, 45, 60 (minutes)"));
        return 0;
    }

    private static Map<String, String> variables(Map<String, Object> fields, List<FieldError> errors) {
        Map<String, String> variables = new LinkedHashMap<>();
        Object nested = fields.get("variables");
        if (nested instanceof Map<?, ?> map) {
            map.forEach((k, v) -> variables.put(k.toString(), v == null ? "" : v.toString()));
        } else if (nested != null && !(nested instanceof String s && s.isBlank())) {
            errors.add(new FieldError("variables", "must be an object of names to values"));
        }
        fields.forEach((name, value) -> {
            if (name.startsWith(VARIABLE_PREFIX) && name.endsWith("]") && name.length() > VARIABLE_PREFIX.length() + 1) {
                variables.put(name.substring(VARIABLE_PREFIX.length(), name.length() - 1),
                        value == null ? "" : value.toString());
            }
        });
        return variables;
    }
}
