package dev.dialer.api.webhook;

import dev.dialer.api.problem.Characters;
import dev.dialer.api.problem.FieldProblem;
import dev.dialer.api.problem.JsonBodies;
import dev.dialer.api.problem.JsonMembers;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.hook.HookUrls;
import dev.dialer.common.hook.PlainHttpPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * A webhook to create: {@code {"url": "...", "description": "..."}}. The body is read as JSON whatever the
 * Content-Type says, as for the send endpoint (curl's {@code -d} labels JSON as a form). Unknown fields are refused,
 * as a change refuses them ({@link WebhookPatch}): {@code "enabled": false} ignored would create a webhook that
 * delivers.
 */
@io.swagger.v3.oas.annotations.media.Schema(name = "WebhookCreate", requiredProperties = "url",
        additionalProperties = io.swagger.v3.oas.annotations.media.Schema.AdditionalPropertiesValue.FALSE,
        description = "The endpoint to register. Another field is a 400 naming it")
record WebhookRequest(
        @io.swagger.v3.oas.annotations.media.Schema(description = "Absolute https URL the events are POSTed to "
                + "(plain http only to hosts the deployment allows)",
                example = "https://crm.example.com/hooks/calls", maxLength = MAX_URL) String url,
        @io.swagger.v3.oas.annotations.media.Schema(description = "Your label", example = "CRM call status",
                maxLength = MAX_DESCRIPTION) String description) {

    static final int MAX_URL = HookUrls.MAX_URL;
    static final int MAX_DESCRIPTION = 256;
    private static final Set<String> FIELDS = Set.of("url", "description");

    /** @param plainHttp where the URL may use plain http */
    static WebhookRequest parse(String body, PlainHttpPolicy plainHttp) {
        JsonNode root = JsonBodies.object(body, "The body is empty; send a JSON object with 'url'.");
        List<FieldProblem> errors = new ArrayList<>();
        JsonMembers.refuseUnknown(root, FIELDS, "", "is not a field of a webhook", errors);
        String url = text(root, "url", errors);
        String description = text(root, "description", errors);
        if (url == null) {
            if (errors.stream().noneMatch(e -> e.field().equals("url"))) {
                errors.add(new FieldProblem("url", "is required"));
            }
        } else {
            String problem = urlProblem(url, plainHttp);
            if (problem != null) {
                errors.add(new FieldProblem("url", problem));
            }
        }
        if (description != null && Characters.moreThan(description, MAX_DESCRIPTION)) {
            errors.add(new FieldProblem("description", "must be at most " + MAX_DESCRIPTION + " characters"));
        }
        if (!errors.isEmpty()) {
            throw Problems.validation(errors);
        }
        return new WebhookRequest(url, description);
    }

    private static String text(JsonNode root, String field, List<FieldProblem> errors) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isString()) {
            errors.add(new FieldProblem(field, "must be a string"));
            return null;
        }
        String value = node.asString().strip();
        return value.isEmpty() ? null : value;
    }

    /** Null when the URL is one the dialer delivers to ({@link HookUrls#problem(String, PlainHttpPolicy)}). */
    static String urlProblem(String url, PlainHttpPolicy plainHttp) {
        return HookUrls.problem(url, plainHttp);
    }
}
