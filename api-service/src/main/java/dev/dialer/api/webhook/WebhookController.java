package dev.dialer.api.webhook;

import dev.dialer.api.QueryParameters;
import dev.dialer.api.RequestBodies;
import dev.dialer.api.account.Account;
import dev.dialer.api.openapi.ApiDocs;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.net.URI;
import java.util.List;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * {@code /api/v2/webhooks}: create an endpoint (its secret is shown once), list, read, change, rotate its secret and
 * delete it. Bodies are read as JSON whatever the Content-Type says (curl's {@code -d} labels JSON as a form).
 */
@RestController
@RequestMapping(path = "/api/v2/webhooks", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "webhooks")
class WebhookController {

    /** A webhook is a URL and a label: anything larger is not one. */
    private static final int MAX_BODY_BYTES = 16 * 1024;
    private static final String ID = "The webhook's id";

    private final Webhooks webhooks;

    WebhookController(Webhooks webhooks) {
        this.webhooks = webhooks;
    }

    @PostMapping
    @Operation(operationId = "createWebhook", summary = "Create a webhook",
            description = "Registers an endpoint and generates its `whsec_…` signing secret, shown in this answer "
                    + "only. Answers once Kafka has the webhook (webhook-service delivers to it from then on).",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = WebhookRequest.class),
                    examples = @ExampleObject(name = "crm", value = """
                            {"url":"https://crm.example.com/hooks/calls","description":"CRM call status"}"""))))
    @ApiResponse(responseCode = "201", description = "Created; `Location` names it")
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "409", ref = ApiDocs.LIMIT_REACHED)
    @ApiResponse(responseCode = "413", description = "The body is larger than 16 KB (" + MAX_BODY_BYTES + " bytes)",
            content = @Content(mediaType = ApiDocs.PROBLEM_JSON, schema = @Schema(ref = ApiDocs.PROBLEM),
                    examples = @ExampleObject(name = "payload-too-large",
                            value = ApiDocs.TOO_LARGE_EXAMPLE + MAX_BODY_BYTES + ApiDocs.BYTES)))
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<ResponseEntity<WebhookResponses.Created>> create(
            @Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account,
            ServerHttpRequest request) {
        return RequestBodies.text(request, MAX_BODY_BYTES)
                .flatMap(body -> webhooks.create(account, body))
                .map(webhook -> ResponseEntity.created(URI.create("/api/v2/webhooks/" + webhook.id()))
                        .body(WebhookResponses.Created.of(webhook)));
    }

    @GetMapping
    @Operation(operationId = "listWebhooks", summary = "List the account's webhooks",
            description = "Every webhook of the account, oldest first, without secrets.")
    @ApiResponse(responseCode = "200", description = "The account's webhooks")
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    Mono<WebhookResponses.Listing> list(@Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account,
                                        ServerHttpRequest request) {
        QueryParameters.requireKnown(request, List.of());
        return webhooks.list(account).map(WebhookResponses.View::of).collectList().map(WebhookResponses.Listing::new);
    }

    @GetMapping("/{id}")
    @Operation(operationId = "getWebhook", summary = "Read a webhook", description = "Without its secret.")
    @ApiResponse(responseCode = "200", description = "The webhook")
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    Mono<WebhookResponses.View> get(@Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account,
                                    @Parameter(description = ID) @PathVariable String id) {
        return webhooks.find(account, id).map(WebhookResponses.View::of);
    }

    @PatchMapping("/{id}")
    @Operation(operationId = "updateWebhook", summary = "Change a webhook",
            description = "Changes `url`, `description` (null clears it) or `enabled`. Enabling a webhook that "
                    + "webhook-service disabled (410 Gone, sustained failures) clears `disabled_reason`.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = PatchDoc.class),
                    examples = {
                            @ExampleObject(name = "re-enable", value = "{\"enabled\":true}"),
                            @ExampleObject(name = "move", value = """
                                    {"url":"https://crm.example.com/hooks/v2","description":"CRM v2"}""")})))
    @ApiResponse(responseCode = "200", description = "The changed webhook")
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    @ApiResponse(responseCode = "413", description = "The body is larger than 16 KB (" + MAX_BODY_BYTES + " bytes)",
            content = @Content(mediaType = ApiDocs.PROBLEM_JSON, schema = @Schema(ref = ApiDocs.PROBLEM),
                    examples = @ExampleObject(name = "payload-too-large",
                            value = ApiDocs.TOO_LARGE_EXAMPLE + MAX_BODY_BYTES + ApiDocs.BYTES)))
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<WebhookResponses.View> update(@Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account,
                                       @Parameter(description = ID) @PathVariable String id,
                                       ServerHttpRequest request) {
        return RequestBodies.text(request, MAX_BODY_BYTES)
                .flatMap(body -> webhooks.update(account, id, body))
                .map(WebhookResponses.View::of);
    }

    @PostMapping("/{id}/rotate-secret")
    @Operation(operationId = "rotateWebhookSecret", summary = "Rotate a webhook's secret",
            description = "Generates a new `whsec_…` secret, shown in this answer only. Until "
                    + "`previous_secret_expires_at` (24 hours by default) every delivery carries a signature with "
                    + "each secret, so receivers can switch without losing a delivery.")
    @ApiResponse(responseCode = "200", description = "The new secret")
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<WebhookResponses.Rotated> rotateSecret(
            @Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account,
            @Parameter(description = ID) @PathVariable String id) {
        return webhooks.rotateSecret(account, id).map(WebhookResponses.Rotated::of);
    }

    @DeleteMapping("/{id}")
    @Operation(operationId = "deleteWebhook", summary = "Delete a webhook",
            description = "Deletes the webhook and its subscriptions; webhook-service stops delivering to it.")
    @ApiResponse(responseCode = "204", description = "Deleted")
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<ResponseEntity<Void>> delete(@Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account,
                                      @Parameter(description = ID) @PathVariable String id) {
        return webhooks.delete(account, id).thenReturn(ResponseEntity.noContent().build());
    }

    /** The PATCH body as documented (the parser reads it by hand: {@link WebhookPatch}). */
    @Schema(name = "WebhookChange", additionalProperties = Schema.AdditionalPropertiesValue.FALSE,
            description = "The fields to change; at least one. Another field is a 400 naming it")
    record PatchDoc(@Schema(example = "https://crm.example.com/hooks/v2") String url,
                    @Schema(types = {"string", "null"}, example = "CRM v2") String description,
                    @Schema(example = "true") Boolean enabled) {
    }
}
