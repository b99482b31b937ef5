package dev.dialer.api.voicegateway;

import dev.dialer.api.problem.FieldProblem;
import dev.dialer.api.problem.NulCharacters;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.contract.Hook;
import dev.dialer.common.phone.PhoneNumbers;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A Voice Gateway (jambonz) {@code POST /v1/Accounts/{sid}/Calls} body, validated. Every field the dispatcher does
 * not map itself ({@code timeout}, {@code timeLimit}, {@code tag}, {@code headers}, {@code amd}, {@code callerName},
 * {@code fromHost}, {@code call_hook}, {@code speech_synthesis_*}, …) travels to the carrier unchanged in
 * {@code carrierOptions}: none is dropped. No string in it, a name or a value, may hold a NUL character.
 *
 * @param callerId       {@code from}, E.164
 * @param to             {@code to.number}, E.164
 * @param applicationSid the application to run on answer (required, as the seed document says)
 * @param notifyUrl      status events go here too
 * @param actionHook     the final outcome goes here too
 * @param carrierOptions the rest of the body, for the carrier
 */
record CreateCall(String callerId, String to, String applicationSid, Hook notifyUrl, Hook actionHook,
                  Map<String, Object> carrierOptions) {

    private static final Set<String> MAPPED = Set.of("from", "to", "application_sid", "notifyUrl", "actionHook");
    static final int DEFAULT_TIMEOUT_SECONDS = 60;
    /** A day: the longest ring or call a value here may ask for. */
    static final long MAX_SECONDS = 86_400;
    /** The longest application sid the call command carries ({@code flow_id}). */
    static final int MAX_APPLICATION_SID = 128;

    static CreateCall from(Map<String, Object> body, String defaultRegion) {
        List<FieldProblem> errors = new ArrayList<>();
        // Every field travels in the command, so a NUL anywhere would reach the dispatcher's database.
        NulCharacters.check("", body, errors);
        if (!errors.isEmpty()) {
            throw Problems.validation(errors);
        }
        String callerId = number(body.get("from"), "from", defaultRegion, errors);
        String to = callee(body.get("to"), defaultRegion, errors);
        Object application = body.get("application_sid");
        if (!(application instanceof String sid) || sid.isBlank()) {
            // The dispatcher runs an application by its sid; a call_hook alone names none it could run.
            errors.add(new FieldProblem("application_sid", body.get("call_hook") != null
                    ? "is required: call_hook alone is not supported, create an application for it"
                    : "is required"));
        } else if (sid.length() > MAX_APPLICATION_SID) {
            errors.add(new FieldProblem("application_sid", "must be at most " + MAX_APPLICATION_SID + " characters"));
        }
        Hook notifyUrl = hook(body.get("notifyUrl"), "notifyUrl", errors);
        Hook actionHook = hook(body.get("actionHook"), "actionHook", errors);
        Object timeout = body.get("timeout");
        if (timeout != null && !wholeSeconds(timeout)) {
            errors.add(new FieldProblem("timeout", "must be a whole number of seconds from 1 to " + MAX_SECONDS));
        }
        Object timeLimit = body.get("timeLimit");
        if (timeLimit != null && !wholeSeconds(timeLimit)) {
            errors.add(new FieldProblem("timeLimit", "must be a whole number of seconds from 1 to " + MAX_SECONDS));
        }
        if (!errors.isEmpty()) {
            throw Problems.validation(errors);
        }
        Map<String, Object> options = new LinkedHashMap<>();
        body.forEach((name, value) -> {
            if (!MAPPED.contains(name)) {
                options.put(name, value);
            }
        });
        options.putIfAbsent("timeout", DEFAULT_TIMEOUT_SECONDS);
        if (body.get("to") instanceof Map<?, ?> target && target.get("trunk") instanceof String trunk) {
            options.put("trunk", trunk);
        }
        return new CreateCall(callerId, to, application instanceof String sid ? sid : null, notifyUrl, actionHook,
                options);
    }

    /**
     * A whole number of seconds the carrier can take: not a fraction (it would pass on as written), and not a number
     * beyond a day, which read as an int would wrap round into a small one.
     */
    private static boolean wholeSeconds(Object value) {
        if (!(value instanceof Integer || value instanceof Long || value instanceof java.math.BigInteger)) {
            return false;
        }
        java.math.BigInteger seconds = new java.math.BigInteger(value.toString());
        return seconds.signum() > 0 && seconds.compareTo(java.math.BigInteger.valueOf(MAX_SECONDS)) <= 0;
    }

    private static String callee(Object value, String region, List<FieldProblem> errors) {
        if (!(value instanceof Map<?, ?> to)) {
            errors.add(new FieldProblem("to", "is required: {type, number}"));
            return null;
        }
        Object type = to.get("type");
        if (!"phone".equals(type)) {
            errors.add(new FieldProblem("to.type", type == null ? "is required"
                    : "'" + type + "' is not supported: only phone destinations are dialled"));
            return null;
        }
        return number(to.get("number"), "to.number", region, errors);
    }

    private static String number(Object value, String field, String region, List<FieldProblem> errors) {
        if (!(value instanceof String text) || text.isBlank()) {
            errors.add(new FieldProblem(field, "is required"));
            return null;
        }
        PhoneNumbers.Result result = PhoneNumbers.normalize(text, region);
        if (!result.valid()) {
            errors.add(new FieldProblem(field, result.error()));
        }
        return result.e164();
    }

    private static Hook hook(Object value, String field, List<FieldProblem> errors) {
        if (value == null) {
            return null;
        }
        String url = null;
        String method = null;
        if (value instanceof String text) {
            url = text;
        } else if (value instanceof Map<?, ?> object) {
            url = object.get("url") instanceof String text ? text : null;
            method = object.get("method") instanceof String verb ? verb : null;
        }
        if (url == null || !url.matches("(?i)^https?://\\S+$")) {
            errors.add(new FieldProblem(field, "must be an http(s) URL or {url, method}"));
            return null;
        }
        if (method != null && !method.equalsIgnoreCase("POST") && !method.equalsIgnoreCase("GET")) {
            errors.add(new FieldProblem(field + ".method", "must be GET or POST"));
            return null;
        }
        // Schemes and methods are case-insensitive: written as the command's contract spells them.
        int colon = url.indexOf(':');
        return new Hook(url.substring(0, colon).toLowerCase(Locale.ROOT) + url.substring(colon),
                method == null ? null : method.toUpperCase(Locale.ROOT));
    }
}
