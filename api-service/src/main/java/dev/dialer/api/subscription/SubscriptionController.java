package dev.dialer.api.subscription;

import dev.dialer.api.QueryParameters;
import dev.dialer.api.RequestBodies;
import dev.dialer.api.account.Account;
import dev.dialer.api.openapi.ApiDocs;
import dev.dialer.api.problem.Problems;
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
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/** {@code /api/v2/subscriptions}: which event types of the account go to which of its webhooks. */
@RestController
@RequestMapping(path = "/api/v2/subscriptions", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "subscriptions")
class SubscriptionController {

    private static final int MAX_BODY_BYTES = 16 * 1024;
    private static final String ID = "The subscription's id";

    private final Subscriptions subscriptions;

    SubscriptionController(Subscriptions subscriptions) {
        this.subscriptions = subscriptions;
    }

    @PostMapping
    @Operation(operationId = "createSubscription", summary = "Subscribe a webhook to event types",
            description = "From then on every event of these types of the account is delivered to the webhook, "
                    + "whether or not the request named a `webhook_id`.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    mediaType = MediaType.APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = SubscriptionResponses.CreateDoc.class),
                    examples = @ExampleObject(name = "finals", value = """
                            {"webhook_id":"5f0c1a9e-3c1b-4d7e-9a51-2b8e6c0d4f11",\
                            "event_types":["call.final","webhook.disabled"]}"""))))
    @ApiResponse(responseCode = "201", description = "Created; `Location` names it")
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "409", ref = ApiDocs.LIMIT_REACHED)
    @ApiResponse(responseCode = "413", description = "The body is larger than 16 KB (" + MAX_BODY_BYTES + " bytes)",
            content = @Content(mediaType = ApiDocs.PROBLEM_JSON, schema = @Schema(ref = ApiDocs.PROBLEM),
                    examples = @ExampleObject(name = "payload-too-large",
                            value = ApiDocs.TOO_LARGE_EXAMPLE + MAX_BODY_BYTES + ApiDocs.BYTES)))
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<ResponseEntity<SubscriptionResponses.View>> create(
            @Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account,
            ServerHttpRequest request) {
        return RequestBodies.text(request, MAX_BODY_BYTES)
                .flatMap(body -> subscriptions.create(account, body))
                .map(created -> ResponseEntity.created(URI.create("/api/v2/subscriptions/" + created.id()))
                        .body(SubscriptionResponses.View.of(created)));
    }

    @GetMapping
    @Operation(operationId = "listSubscriptions", summary = "List the account's subscriptions",
            description = "Oldest first; `webhook_id` keeps those of one webhook. Given empty it is a 400 naming "
                    + "it, as the other lists' filters are: leave it out to list the subscriptions of every webhook.")
    @ApiResponse(responseCode = "200", description = "The account's subscriptions")
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    Mono<SubscriptionResponses.Listing> list(
            @Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account,
            @Parameter(description = "Only the subscriptions of this webhook")
            @RequestParam(name = "webhook_id", required = false) String webhookId,
            ServerHttpRequest request) {
        QueryParameters.requireKnown(request, List.of("webhook_id"));
        return subscriptions.list(account, webhookFilter(webhookId)).map(SubscriptionResponses.View::of).collectList()
                .map(SubscriptionResponses.Listing::new);
    }

    /**
     * The webhook the list is filtered on, stripped; null when the parameter is absent. One given empty
     * ({@code ?webhook_id=}, from a client whose webhook id was empty) is refused, as the calls list and the delivery
     * log refuse theirs: read as no filter, it would answer every webhook's subscriptions as if they were the ones
     * asked for.
     */
    static String webhookFilter(String webhookId) {
        if (webhookId != null && webhookId.isBlank()) {
            throw Problems.validation("webhook_id", "is empty: leave the parameter out to list the subscriptions of "
                    + "every webhook");
        }
        return webhookId == null ? null : webhookId.strip();
    }

    @GetMapping("/{id}")
    @Operation(operationId = "getSubscription", summary = "Read a subscription")
    @ApiResponse(responseCode = "200", description = "The subscription")
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    Mono<SubscriptionResponses.View> get(@Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account,
                                         @Parameter(description = ID) @PathVariable String id) {
        return subscriptions.find(account, id).map(SubscriptionResponses.View::of);
    }

    @PatchMapping("/{id}")
    @Operation(operationId = "updateSubscription", summary = "Change a subscription",
            description = "Changes `event_types`, `webhook_id` (another webhook of the account) or `enabled`.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    mediaType = MediaType.APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = SubscriptionResponses.ChangeDoc.class),
                    examples = @ExampleObject(name = "everything", value = """
                            {"event_types":["call.status","call.deferred","call.final"]}"""))))
    @ApiResponse(responseCode = "200", description = "The changed subscription")
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    @ApiResponse(responseCode = "413", description = "The body is larger than 16 KB (" + MAX_BODY_BYTES + " bytes)",
            content = @Content(mediaType = ApiDocs.PROBLEM_JSON, schema = @Schema(ref = ApiDocs.PROBLEM),
                    examples = @ExampleObject(name = "payload-too-large",
                            value = ApiDocs.TOO_LARGE_EXAMPLE + MAX_BODY_BYTES + ApiDocs.BYTES)))
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<SubscriptionResponses.View> update(
            @Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account,
            @Parameter(description = ID) @PathVariable String id, ServerHttpRequest request) {
        return RequestBodies.text(request, MAX_BODY_BYTES)
                .flatMap(body -> subscriptions.update(account, id, body))
                .map(SubscriptionResponses.View::of);
    }

    @DeleteMapping("/{id}")
    @Operation(operationId = "deleteSubscription", summary = "Delete a subscription")
    @ApiResponse(responseCode = "204", description = "Deleted")
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<ResponseEntity<Void>> delete(@Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account,
                                      @Parameter(description = ID) @PathVariable String id) {
        return subscriptions.delete(account, id).thenReturn(ResponseEntity.noContent().build());
    }
}
