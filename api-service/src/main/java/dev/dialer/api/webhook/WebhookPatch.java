package dev.dialer.api.webhook;

import dev.dialer.api.problem.Characters;
import dev.dialer.api.problem.FieldProblem;
import dev.dialer.api.problem.JsonBodies;
import dev.dialer.api.problem.JsonMembers;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.hook.PlainHttpPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * A partial change of a webhook: {@code {"url": "...", "description": "...", "enabled": true}}, every field optional
 * but at least one present. {@code "description": null} clears the description. Unknown fields are refused, so a
 * misspelt field is never silently ignored.
 *
 * @param url         the new URL, or null to keep it
 * @param description the new description when {@code setsDescription}
 * @param enabled     the new state, or null to keep it
 */
record WebhookPatch(String url, boolean setsDescription, String description, Boolean enabled) {

    private static final Set<String> FIELDS = Set.of("url", "description", "enabled");

    /** @param plainHttp where a new URL may use plain http */
    static WebhookPatch parse(String body, PlainHttpPolicy plainHttp) {
        JsonNode root = JsonBodies.object(body, "The body is empty; send a JSON object with the fields to change.");
        List<FieldProblem> errors = new ArrayList<>();
        JsonMembers.refuseUnknown(root, FIELDS, "", "is not a field of a webhook", errors);
        String url = url(root.get("url"), plainHttp, errors);
        String description = description(root.get("description"), errors);
        Boolean enabled = JsonBodies.enabled(root.get("enabled"), errors);
        if (errors.isEmpty() && url == null && !root.has("description") && enabled == null) {
            errors.add(new FieldProblem("url", "or description or enabled is required"));
        }
        if (!errors.isEmpty()) {
            throw Problems.validation(errors);
        }
        return new WebhookPatch(url, root.has("description"), description, enabled);
    }

    private static String url(JsonNode node, PlainHttpPolicy plainHttp, List<FieldProblem> errors) {
        if (node == null) {
            return null;
        }
        if (!node.isString() || node.asString().isBlank()) {
            errors.add(new FieldProblem("url", "must be a non-empty string"));
            return null;
        }
        String url = node.asString().strip();
        String problem = WebhookRequest.urlProblem(url, plainHttp);
        if (problem != null) {
            errors.add(new FieldProblem("url", problem));
        }
        return url;
    }

    private static String description(JsonNode node, List<FieldProblem> errors) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isString()) {
            errors.add(new FieldProblem("description", "must be a string or null"));
            return null;
        }
        String description = node.asString().strip();
        if (Characters.moreThan(description, WebhookRequest.MAX_DESCRIPTION)) {
            errors.add(new FieldProblem("description",
                    "must be at most " + WebhookRequest.MAX_DESCRIPTION + " characters"));
        }
        return description.isEmpty() ? null : description;
    }

    /**
     * The webhook with this patch applied at {@code now}. An explicit {@code "enabled": true} enables it since
     * {@code now} even when it shows enabled: the account may be answering a disable api-service has not heard of
     * yet, which that lifts; any other change leaves when it was enabled as it was.
     */
    Webhook applyTo(Webhook webhook, java.time.Instant now) {
        boolean nowEnabled = enabled == null ? webhook.enabled() : enabled;
        String reason = nowEnabled ? null
                : enabled != null && webhook.enabled() ? Webhook.DISABLED_BY_CUSTOMER : webhook.disabledReason();
        return webhook.withChanges(url == null ? webhook.url() : url,
                setsDescription ? description : webhook.description(), nowEnabled, reason, now,
                Boolean.TRUE.equals(enabled));
    }
}
