package dev.dialer.simulator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A validated {@code POST /v1/Accounts/{sid}/Calls} body, checked the way jambonz's API server checks it:
 * {@code from}, {@code to} and one of {@code application_sid} / {@code call_hook} are required. {@code notifyUrl} is
 * a Cognigy Voice Gateway's: a hook that gets the call's statuses besides the application's status hook.
 */
record CreateCallRequest(JsonNode body, String from, String toAddress, String toType, String trunk,
                         String applicationSid, StatusHook statusHook, JsonNode tag, Duration timeout,
                         Duration timeLimit, StatusHook answeringMachineHook, StatusHook notifyHook) {

    /** jambonz cancels an unanswered outbound call after 60 s unless the request says otherwise. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    /** Either a request or the reasons it was refused. */
    record Parsed(CreateCallRequest request, List<String> errors) {
        boolean valid() {
            return errors.isEmpty();
        }
    }

    /** Where and how status callbacks go; {@code username}/{@code password} add HTTP basic auth. */
    record StatusHook(String url, String method, String username, String password) {
    }

    static Parsed parse(JsonMapper mapper, String json) {
        JsonNode body;
        try {
            body = mapper.readTree(json);
        } catch (JacksonException e) {
            return refused("body is not valid JSON");
        }
        if (body == null || !body.isObject()) {
            return refused("body must be a JSON object");
        }
        List<String> errors = new ArrayList<>();
        String from = text(body, "from");
        if (from == null || from.isBlank()) {
            errors.add("from is required");
        }
        JsonNode to = body.get("to");
        String toType = null;
        String toAddress = null;
        if (to == null || !to.isObject()) {
            errors.add("to is required and must be an object");
        } else {
            toType = text(to, "type");
            toAddress = address(to, toType, errors);
        }
        String applicationSid = text(body, "application_sid");
        if (applicationSid == null && !present(body, "call_hook")) {
            errors.add("either application_sid or call_hook is required");
        }
        StatusHook hook = statusHook(body.get("call_status_hook"), "call_status_hook", errors);
        StatusHook notifyHook = statusHook(body.get("notifyUrl"), "notifyUrl", errors);
        StatusHook amdHook = answeringMachineHook(body.get("amd"), errors);
        JsonNode tag = body.get("tag");
        if (tag != null && !tag.isNull() && !tag.isObject()) {
            errors.add("tag must be an object");
        }
        Duration timeout = seconds(body, "timeout", errors);
        Duration timeLimit = seconds(body, "timeLimit", errors);
        if (!errors.isEmpty()) {
            return new Parsed(null, List.copyOf(errors));
        }
        return new Parsed(new CreateCallRequest(body, from, toAddress, toType, to == null ? null : text(to, "trunk"),
                applicationSid, hook, tag != null && tag.isObject() ? tag : null,
                timeout == null ? DEFAULT_TIMEOUT : timeout, timeLimit, amdHook, notifyHook), List.of());
    }

    private static String address(JsonNode to, String type, List<String> errors) {
        if (type == null) {
            errors.add("to.type is required");
            return null;
        }
        String field = switch (type) {
            case "phone", "teams" -> "number";
            case "sip" -> "sipUri";
            case "user" -> "name";
            default -> null;
        };
        if (field == null) {
            errors.add("to.type must be one of phone, sip, user, teams");
            return null;
        }
        String value = text(to, field);
        if (value == null || value.isBlank()) {
            errors.add("to." + field + " is required when to.type is " + type);
        }
        return value;
    }

    /** A status hook given as a URL or as an object with {@code url} (and {@code method}, credentials). */
    private static StatusHook statusHook(JsonNode hook, String field, List<String> errors) {
        if (hook == null || hook.isNull()) {
            return null;
        }
        if (hook.isString()) {
            return validUrl(hook.stringValue(), field, errors)
                    ? new StatusHook(hook.stringValue(), "POST", null, null) : null;
        }
        if (hook.isObject() && validUrl(text(hook, "url"), field, errors)) {
            String method = text(hook, "method");
            return new StatusHook(text(hook, "url"), method == null ? "POST" : method.toUpperCase(),
                    text(hook, "username"), text(hook, "password"));
        }
        if (!hook.isObject()) {
            errors.add(field + " must be a URL or an object with url");
        }
        return null;
    }

    /** {@code amd.actionHook}, a URL or an object with {@code url}; {@code null} without {@code amd} or a hook. */
    private static StatusHook answeringMachineHook(JsonNode amd, List<String> errors) {
        if (amd == null || amd.isNull()) {
            return null;
        }
        if (!amd.isObject()) {
            errors.add("amd must be an object");
            return null;
        }
        JsonNode hook = amd.get("actionHook");
        String url = hook == null ? null : hook.isString() ? hook.stringValue() : text(hook, "url");
        if (hook == null || hook.isNull()) {
            return null;
        }
        if (url == null || !(url.startsWith("http://") || url.startsWith("https://"))) {
            errors.add("amd.actionHook url must be an absolute http(s) URL");
            return null;
        }
        String method = hook.isObject() ? text(hook, "method") : null;
        return new StatusHook(url, method == null ? "POST" : method.toUpperCase(), null, null);
    }

    private static boolean validUrl(String url, String field, List<String> errors) {
        if (url == null || !(url.startsWith("http://") || url.startsWith("https://"))) {
            errors.add(field + " url must be an absolute http(s) URL");
            return false;
        }
        return true;
    }

    private static Duration seconds(JsonNode body, String field, List<String> errors) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() <= 0) {
            errors.add(field + " must be a positive whole number of seconds");
            return null;
        }
        return Duration.ofSeconds(value.intValue());
    }

    private static boolean present(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value != null && !value.isNull();
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value != null && value.isString() ? value.stringValue() : null;
    }

    private static Parsed refused(String error) {
        return new Parsed(null, List.of(error));
    }
}
