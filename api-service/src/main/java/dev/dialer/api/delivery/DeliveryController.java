package dev.dialer.api.delivery;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.dialer.api.QueryParameters;
import dev.dialer.api.RequestBodies;
import dev.dialer.api.account.Account;
import dev.dialer.api.openapi.ApiDocs;
import dev.dialer.common.contract.ReplayRequest;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.List;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/** A webhook's delivery log ({@code GET …/deliveries}) and replays ({@code POST …/replay}). */
@RestController
@RequestMapping(path = "/api/v2/webhooks/{id}", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "deliveries")
class DeliveryController {

    private static final int MAX_BODY_BYTES = 256 * 1024;
    private static final String ID = "The webhook's id";
    /** The log's query parameters: any other is refused ({@link QueryParameters}). */
    private static final List<String> LOG_PARAMETERS = List.of("event_id", "outcome", "limit", "cursor");

    private final DeliveryLog deliveryLog;
    private final Replays replays;

    DeliveryController(DeliveryLog deliveryLog, Replays replays) {
        this.deliveryLog = deliveryLog;
        this.replays = replays;
    }

    @GetMapping("/deliveries")
    @Operation(operationId = "listWebhookDeliveries", summary = "Read a webhook's delivery log",
            description = "Every attempt to deliver an event to the webhook, newest first, as webhook-service "
                    + "reported it (a few seconds behind). Page with `limit` and the `next_cursor` of the previous "
                    + "page.")
    @ApiResponse(responseCode = "200", description = "A page of attempts")
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    Mono<Page> deliveries(@Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account,
                          @Parameter(description = ID) @PathVariable String id,
                          @Parameter(description = "Only the attempts of this event")
                          @RequestParam(name = "event_id", required = false) String eventId,
                          @Parameter(description = "Only attempts that ended so", schema = @Schema(allowableValues = {
                                  "delivered", "retrying", "dead", "refused"}))
                          @RequestParam(name = "outcome", required = false) String outcome,
                          @Parameter(description = "Rows per page, 1 to 200 (50 when absent)",
                                  schema = @Schema(type = "integer", minimum = "1", maximum = "200"))
                          @RequestParam(name = "limit", required = false) String limit,
                          @Parameter(description = "`next_cursor` of the previous page")
                          @RequestParam(name = "cursor", required = false) String cursor,
                          ServerHttpRequest request) {
        return Mono.fromCallable(() -> {
                    QueryParameters.requireKnown(request, LOG_PARAMETERS);
                    return DeliveryQuery.of(eventId, outcome, limit, cursor);
                })
                .flatMap(query -> deliveryLog.page(account.id(), id, query))
                .map(Page::of);
    }

    @PostMapping("/replay")
    @ResponseStatus(HttpStatus.ACCEPTED)
    @Operation(operationId = "replayWebhookEvents", summary = "Deliver events to a webhook again",
            description = "Names the events by id, or by the range [`from`, `to`) of when they occurred (at most 7 "
                    + "days, from 1970 to now: a time more than a few minutes after now is refused). webhook-service "
                    + "delivers them again with their original `webhook-id`, signed afresh; "
                    + "the attempts appear in the delivery log with `replay: true`.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = ReplayDoc.class),
                    examples = {
                            @ExampleObject(name = "events", value = """
                                    {"event_ids":["evt_3b69aca9-3b55-4e2d-bfe0-02b910dbe156-7"]}"""),
                            @ExampleObject(name = "range", value = """
                                    {"from":"2026-01-01T00:00:00Z","to":"2026-01-01T06:00:00Z"}""")})))
    @ApiResponse(responseCode = "202", description = "Accepted: webhook-service has the replay request")
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    @ApiResponse(responseCode = "413", description = "The body is larger than 256 KB (" + MAX_BODY_BYTES + " bytes)",
            content = @Content(mediaType = ApiDocs.PROBLEM_JSON, schema = @Schema(ref = ApiDocs.PROBLEM),
                    examples = @ExampleObject(name = "payload-too-large",
                            value = ApiDocs.TOO_LARGE_EXAMPLE + MAX_BODY_BYTES + ApiDocs.BYTES)))
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<Replay> replay(@Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account,
                        @Parameter(description = ID) @PathVariable String id, ServerHttpRequest request) {
        return RequestBodies.text(request, MAX_BODY_BYTES)
                .flatMap(body -> replays.request(account, id, body))
                .map(Replay::of);
    }

    /** One attempt as the log shows it. */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    @Schema(name = "DeliveryAttempt", description = "One try to deliver one event to the webhook")
    record Attempt(@JsonProperty("attempt_id") String attemptId,
                   @JsonProperty("event_id") @Schema(description = "The `webhook-id` header: stable across retries")
                   String eventId,
                   @JsonProperty("event_type") @Schema(types = {"string", "null"}, example = "call.final")
                   String eventType,
                   @JsonProperty("request_id") @Schema(types = {"string", "null"}, description = "The call")
                   String requestId,
                   @JsonProperty("target") @Schema(allowableValues = {"webhook", "subscription"}) String target,
                   @JsonProperty("attempt_no") @Schema(example = "1") int attemptNo,
                   @JsonProperty("outcome") @Schema(allowableValues = {"delivered", "retrying", "dead", "refused"})
                   String outcome,
                   @JsonProperty("status_code") @Schema(types = {"integer", "null"}, example = "200")
                   Integer statusCode,
                   @JsonProperty("error") @Schema(types = {"string", "null"}, example = "connect timed out")
                   String error,
                   @JsonProperty("response_body") @Schema(types = {"string", "null"},
                           description = "The start of the endpoint's answer") String responseBody,
                   @JsonProperty("latency_ms") long latencyMs,
                   @JsonProperty("next_attempt_at") @Schema(types = {"string", "null"}, format = "date-time")
                   String nextAttemptAt,
                   @JsonProperty("endpoint_disabled") @Schema(description = "This try disabled the webhook")
                   boolean endpointDisabled,
                   @JsonProperty("replay") @Schema(description = "The try was asked for by a replay") boolean replay,
                   @JsonProperty("attempted_at") @Schema(format = "date-time") String attemptedAt) {

        static Attempt of(DeliveryRecord row) {
            return new Attempt(row.attemptId(), row.eventId(), row.eventType(), row.requestId(), row.target(),
                    row.attemptNo(), row.outcome(), row.statusCode(), row.error(), row.responseBody(),
                    row.latencyMs(), format(row.nextAttemptAt()), row.endpointDisabled(), row.replay(),
                    format(row.attemptedAt()));
        }
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    @Schema(name = "DeliveryPage")
    record Page(@JsonProperty("data") List<Attempt> data,
                @JsonProperty("next_cursor") @Schema(types = {"string", "null"},
                        description = "Pass as `cursor` for the next page; null on the last") String nextCursor) {

        static Page of(DeliveryLog.DeliveryPage page) {
            return new Page(page.rows().stream().map(Attempt::of).toList(), page.nextCursor());
        }
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    @Schema(name = "Replay", description = "An accepted replay")
    record Replay(@JsonProperty("replay_id") String replayId,
                  @JsonProperty("webhook_id") String webhookId,
                  @JsonProperty("event_ids") List<String> eventIds,
                  @JsonProperty("from") @Schema(types = {"string", "null"}, format = "date-time") String from,
                  @JsonProperty("to") @Schema(types = {"string", "null"}, format = "date-time") String to,
                  @JsonProperty("requested_at") @Schema(format = "date-time") String requestedAt) {

        static Replay of(ReplayRequest request) {
            return new Replay(request.replayId(), request.webhookId(), request.eventIds(), format(request.from()),
                    format(request.to()), format(request.requestedAt()));
        }
    }

    /** The replay body as documented (parsed by hand: {@link ReplayBody}). */
    @Schema(name = "ReplayCreate", description = "`event_ids`, or `from` and `to`; not both")
    record ReplayDoc(@JsonProperty("event_ids") @Schema(description = "At most 1000 event ids") List<String> eventIds,
                     @JsonProperty("from") @Schema(format = "date-time") String from,
                     @JsonProperty("to") @Schema(format = "date-time", description = "Exclusive; at most 7 days "
                             + "after from") String to) {
    }

    private static String format(Instant instant) {
        return instant == null ? null : DateTimeFormatter.ISO_INSTANT.format(instant);
    }
}
