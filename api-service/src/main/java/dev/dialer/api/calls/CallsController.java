package dev.dialer.api.calls;

import dev.dialer.api.QueryParameters;
import dev.dialer.api.account.Account;
import dev.dialer.api.openapi.ApiDocs;
import dev.dialer.api.problem.Characters;
import dev.dialer.api.problem.Problems;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.util.List;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * The calls read model: {@code GET /api/v2/calls/{id}}, {@code GET /api/v2/calls} (filtered, newest first, paged by
 * cursor) and {@code GET /api/v2/campaigns/{name}}. Another account's call or campaign is a 404, like a missing one.
 */
@RestController
class CallsController {

    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 500;
    private static final int MAX_FILTER_LENGTH = 128;
    /** The list's query parameters: any other is refused ({@link QueryParameters}). */
    private static final List<String> LIST_PARAMETERS = List.of("campaign", "status", "foreign_id", "cursor", "limit");

    private final CallQueries queries;

    CallsController(CallQueries queries) {
        this.queries = queries;
    }

    @GetMapping(path = "/api/v2/calls/{id}", produces = MediaType.APPLICATION_JSON_VALUE)
    @ApiResponse(responseCode = "200", description = "The call, with its attempts")
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    Mono<CallViews.Call> call(@RequestAttribute(Account.ATTRIBUTE) Account account, @PathVariable String id) {
        return queries.find(account.id(), id)
                .switchIfEmpty(Mono.error(() -> Problems.notFound("No call " + id + " in this account.")));
    }

    /**
     * {@code limit} is read as text (a value that is no number gets the same field problem as one out of range), so
     * its schema says what it holds. The {@code status} values are written out because an annotation takes only
     * constants, not {@link CallStatuses#ALL}; {@code OpenApiIT} checks them against the values this endpoint accepts.
     * Any other query parameter is a 400 naming it.
     */
    @GetMapping(path = "/api/v2/calls", produces = MediaType.APPLICATION_JSON_VALUE)
    @ApiResponse(responseCode = "200", description = "A page of calls, newest first, and the cursor of the next")
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    Mono<CallViews.Page> calls(@RequestAttribute(Account.ATTRIBUTE) Account account,
                               @Parameter(description = "Only the calls of this campaign (`name` of their sends)",
                                       schema = @Schema(maxLength = MAX_FILTER_LENGTH))
                               @RequestParam(required = false) String campaign,
                               @Parameter(description = "Only the calls whose `status` is this",
                                       schema = @Schema(allowableValues = {"queued", "initiated", "ringing",
                                               "in-progress", "completed", "busy", "no-answer", "failed", "canceled",
                                               "deferred", "answered", "exhausted", "blocked", "expired"}))
                               @RequestParam(required = false) String status,
                               @Parameter(description = "Only the calls with this `foreign_id`",
                                       schema = @Schema(maxLength = MAX_FILTER_LENGTH))
                               @RequestParam(name = "foreign_id", required = false) String foreignId,
                               @Parameter(description = "`next_cursor` of the previous page")
                               @RequestParam(required = false) String cursor,
                               @Parameter(description = "Calls per page", schema = @Schema(type = "integer",
                                       minimum = "1", maximum = "" + MAX_LIMIT, defaultValue = "" + DEFAULT_LIMIT))
                               @RequestParam(required = false) String limit,
                               ServerHttpRequest request) {
        QueryParameters.requireKnown(request, LIST_PARAMETERS);
        CallQueries.Filter filter = new CallQueries.Filter(filterValue("campaign", campaign),
                statusFilter(status), filterValue("foreign_id", foreignId));
        return queries.list(account.id(), filter, blankToNull(cursor), limit(limit));
    }

    @GetMapping(path = "/api/v2/campaigns/{name}", produces = MediaType.APPLICATION_JSON_VALUE)
    @ApiResponse(responseCode = "200", description = "The campaign's calls counted by status, and its state. The "
            + "counts may be up to 2 s old: an instance counts a campaign once for the requests that ask for it "
            + "meanwhile and answers that count for 2 s; the state is read on every request.")
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    Mono<CallViews.Campaign> campaign(@RequestAttribute(Account.ATTRIBUTE) Account account,
                                      @PathVariable String name, ServerHttpRequest request) {
        Problems.refuseMatrixParameters(request);
        return queries.campaign(account.id(), name)
                .switchIfEmpty(Mono.error(() -> Problems.notFound("No campaign " + name + " in this account.")));
    }

    static int limit(String text) {
        if (text == null || text.isBlank()) {
            return DEFAULT_LIMIT;
        }
        try {
            int limit = Integer.parseInt(text.strip());
            if (limit >= 1 && limit <= MAX_LIMIT) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw Problems.validation("limit", "must be a whole number from 1 to " + MAX_LIMIT);
    }

    private static String statusFilter(String status) {
        String value = present("status", status);
        if (value != null && !CallStatuses.ALL.contains(value)) {
            throw Problems.validation("status", "must be one of " + String.join(", ", CallStatuses.ALL));
        }
        return value;
    }

    private static String filterValue(String field, String value) {
        String stripped = present(field, value);
        if (stripped != null && Characters.moreThan(stripped, MAX_FILTER_LENGTH)) {
            throw Problems.validation(field, "must be at most " + MAX_FILTER_LENGTH + " characters");
        }
        return stripped;
    }

    /**
     * A filter's value, stripped; null when the parameter is absent. One given empty ({@code ?foreign_id=}, from a
     * client whose reference was empty) is refused: read as no filter, it would answer the account's newest calls as
     * if they were the ones asked for.
     */
    private static String present(String field, String value) {
        if (value != null && value.isBlank()) {
            throw Problems.validation(field, "is empty: leave the parameter out to list calls of any " + field);
        }
        return value == null ? null : value.strip();
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.strip();
    }
}
