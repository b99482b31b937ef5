package dev.dialer.api.dnc;

import dev.dialer.api.RequestBodies;
import dev.dialer.api.account.Account;
import dev.dialer.api.openapi.ApiDocs;
import dev.dialer.api.problem.Characters;
import dev.dialer.api.problem.FieldProblem;
import dev.dialer.api.problem.JsonMembers;
import dev.dialer.api.problem.NulCharacters;
import dev.dialer.api.problem.Problems;
import dev.dialer.api.settings.AccountSettingsStore;
import dev.dialer.common.contract.DncEntry;
import dev.dialer.common.phone.PhoneNumbers;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The account's do-not-call list: {@code PUT/GET/DELETE /api/v2/dnc/{number}} and the bulk import
 * {@code POST /api/v2/dnc}. Numbers are read in the account's region and answered in E.164. Changes answer only
 * after Kafka acknowledged them on {@code dialer.dnc}.
 */
@RestController
@RequestMapping(path = "/api/v2/dnc", produces = MediaType.APPLICATION_JSON_VALUE)
class DncController {

    private static final int MAX_ENTRY_BODY = 4 * 1024;
    /** 10,000 rows of a number and a short reason. */
    private static final int MAX_IMPORT_BODY = 1024 * 1024;
    /** Import bodies up to this many characters (a few rows) are read on the thread that received them. */
    static final int INLINE_PARSE_CHARS = 2048;
    /** Refuses a member given twice ({@link JsonMembers}): {@code {"reason":"a","reason":"b"}} names it. */
    private static final JsonMapper JSON = JsonMembers.mapper();
    private static final String CSV = "text/csv";
    /** The members a PUT's body may have: its reason, and the read-only ones of the entry's view. */
    private static final Set<String> PUT_MEMBERS = Set.of("reason", "number", "added_at");

    private final DncList list;
    private final AccountSettingsStore settings;

    DncController(DncList list, AccountSettingsStore settings) {
        this.list = list;
        this.settings = settings;
    }

    @PutMapping("/{number}")
    @Operation(operationId = "putDncEntry", summary = "Put a number on the DNC list",
            description = "Adds the number (read in the account's region), or gives an entry already on the list "
                    + "this reason and a new `added_at`, and answers once Kafka has the entry.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = false, content = @Content(
                    mediaType = MediaType.APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = DncDocs.Entry.class),
                    examples = @ExampleObject(name = "with-reason", value = """
                            {"reason":"Asked not to be called on 2024-07-10"}"""))))
    @ApiResponse(responseCode = "200", description = "On the list", content = @Content(
            mediaType = MediaType.APPLICATION_JSON_VALUE,
            schema = @Schema(implementation = DncDocs.EntryView.class)))
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "409", ref = ApiDocs.LIMIT_REACHED)
    @ApiResponse(responseCode = "413", description = "The body is larger than 4 KB (" + MAX_ENTRY_BODY + " bytes)",
            content = @Content(mediaType = ApiDocs.PROBLEM_JSON, schema = @Schema(ref = ApiDocs.PROBLEM),
                    examples = @ExampleObject(name = "payload-too-large",
                            value = ApiDocs.TOO_LARGE_EXAMPLE + MAX_ENTRY_BODY + ApiDocs.BYTES)))
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<Map<String, Object>> put(@RequestAttribute(Account.ATTRIBUTE) Account account, @PathVariable String number,
                                  ServerHttpRequest request) {
        return normalised(account, number).zipWith(RequestBodies.text(request, MAX_ENTRY_BODY))
                .flatMap(found -> {
                    DncEntry entry = new DncEntry(DncEntry.VERSION, account.id(), found.getT1(),
                            reason(found.getT2()), now());
                    return list.addAll(account.id(), List.of(entry), "single").thenReturn(view(entry));
                });
    }

    @GetMapping("/{number}")
    @ApiResponse(responseCode = "200", description = "The entry", content = @Content(
            mediaType = MediaType.APPLICATION_JSON_VALUE,
            schema = @Schema(implementation = DncDocs.EntryView.class)))
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    Mono<Map<String, Object>> get(@RequestAttribute(Account.ATTRIBUTE) Account account, @PathVariable String number) {
        return normalised(account, number)
                .flatMap(e164 -> list.find(account.id(), e164)
                        .switchIfEmpty(Mono.error(() -> Problems.notFound(e164 + " is not on this account's DNC list."))))
                .map(DncController::view);
    }

    @DeleteMapping("/{number}")
    @ApiResponse(responseCode = "204", description = "Off the list")
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<ResponseEntity<Void>> delete(@RequestAttribute(Account.ATTRIBUTE) Account account,
                                      @PathVariable String number) {
        return normalised(account, number)
                .flatMap(e164 -> list.remove(account.id(), e164).flatMap(removed -> removed
                        ? Mono.just(ResponseEntity.noContent().<Void>build())
                        : Mono.error(Problems.notFound(e164 + " is not on this account's DNC list."))));
    }

    /**
     * Bulk import; at most {@value DncImport#MAX_ROWS} rows. Answers {@code {added, rejected, errors}}; a 400 when no
     * row is valid.
     */
    @PostMapping
    @Operation(operationId = "importDnc", summary = "Put many numbers on the DNC list",
            description = "Reads a JSON array when the body starts with `[`, otherwise one `number[,reason]` per "
                    + "line (CSV; a first line starting with `number` is a header), whatever the Content-Type. At "
                    + "most " + DncImport.MAX_ROWS + " rows; numbers are read in the account's region, and a number "
                    + "given twice keeps its last reason. An invalid row is reported by index (`rows[i]`) and does "
                    + "not stop the valid ones; a row's object without a `number` is reported naming it "
                    + "(`rows[i].number`), and one with a member other than `number` and `reason` naming that "
                    + "(`rows[i].Reason`). A member given twice in one row's object is a 400 naming it "
                    + "(`rows[i].number`). Answers once Kafka has them.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = {
                    @Content(mediaType = MediaType.APPLICATION_JSON_VALUE, array = @ArraySchema(minItems = 1,
                            maxItems = DncImport.MAX_ROWS, schema = @Schema(implementation = DncDocs.Item.class)),
                            examples = @ExampleObject(name = "json", value = DncDocs.IMPORT_JSON)),
                    @Content(mediaType = CSV, schema = @Schema(type = "string", description = "`number[,reason]` "
                            + "per line; a reason may be quoted"),
                            examples = @ExampleObject(name = "csv", value = DncDocs.IMPORT_CSV))}))
    @ApiResponse(responseCode = "200", description = "The rows added, and each row refused with its field",
            content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = DncDocs.ImportResult.class)))
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "409", ref = ApiDocs.LIMIT_REACHED)
    @ApiResponse(responseCode = "413", description = "The body is larger than 1 MB (" + MAX_IMPORT_BODY + " bytes)",
            content = @Content(mediaType = ApiDocs.PROBLEM_JSON, schema = @Schema(ref = ApiDocs.PROBLEM),
                    examples = @ExampleObject(name = "payload-too-large",
                            value = ApiDocs.TOO_LARGE_EXAMPLE + MAX_IMPORT_BODY + ApiDocs.BYTES)))
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<Map<String, Object>> importAll(@RequestAttribute(Account.ATTRIBUTE) Account account,
                                        ServerHttpRequest request) {
        return settings.of(account.id()).map(s -> AccountSettingsStore.regionOf(account, s))
                .zipWith(RequestBodies.text(request, MAX_IMPORT_BODY))
                .flatMap(found -> parsed(found.getT2(), found.getT1()))
                .flatMap(parsed -> store(account, parsed));
    }

    /**
     * The import read in the account's region. Normalising up to {@value DncImport#MAX_ROWS} numbers is CPU work: a
     * large body is read off the event loop serving connections, as the send endpoint reads its recipients; a body of
     * a few rows takes less than the hop to another thread would cost it.
     */
    static Mono<DncImport.Parsed> parsed(String body, String region) {
        Mono<DncImport.Parsed> parsed = Mono.fromCallable(() -> DncImport.parse(body, region));
        return body != null && body.length() > INLINE_PARSE_CHARS ? parsed.subscribeOn(Schedulers.parallel()) : parsed;
    }

    private Mono<Map<String, Object>> store(Account account, DncImport.Parsed parsed) {
        if (parsed.rows().isEmpty()) {
            List<FieldProblem> all = new ArrayList<>(parsed.rejected());
            all.add(0, new FieldProblem("rows", "has no valid number"));
            return Mono.error(Problems.validation(all));
        }
        Instant now = now();
        List<DncEntry> entries = parsed.rows().stream()
                .map(row -> new DncEntry(DncEntry.VERSION, account.id(), row.e164(), row.reason(), now)).toList();
        return list.addAll(account.id(), entries, "bulk").then(Mono.fromSupplier(() -> {
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("added", entries.size());
            answer.put("rejected", parsed.refusedRows());
            answer.put("errors", parsed.rejected());
            return answer;
        }));
    }

    private Mono<String> normalised(Account account, String number) {
        return settings.of(account.id()).map(s -> {
            PhoneNumbers.Result result = PhoneNumbers.normalize(number, AccountSettingsStore.regionOf(account, s));
            if (!result.valid()) {
                throw Problems.validation("number", result.error());
            }
            return result.e164();
        });
    }

    /** The optional body of a PUT: {@code {"reason": "..."}}. */
    static String reason(String body) {
        if (body == null || body.isBlank()) {
            return null;
        }
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JacksonException e) {
            throw JsonMembers.problem(JSON, body, e, "", Set.of(), JsonMembers.NOT_VALID_JSON);
        }
        JsonNode reason = root == null ? null : root.get("reason");
        if (!(root != null && root.isObject()) || (reason != null && !reason.isNull() && !reason.isString())) {
            throw Problems.validation("reason", "must be a string in a JSON object {\"reason\": \"...\"}");
        }
        // A misspelt reason ({"reasn": …}) is named, not stored as no reason; the entry's view sent back as it was
        // read may carry its read-only members (the path names the number).
        List<FieldProblem> unknown = new ArrayList<>();
        JsonMembers.refuseUnknown(root, PUT_MEMBERS, "",
                "is not a field of a DNC entry (known: reason; number and added_at are read-only)", unknown);
        if (!unknown.isEmpty()) {
            throw Problems.validation(unknown);
        }
        String text = reason == null || reason.isNull() ? null : reason.asString().strip();
        if (NulCharacters.in(text)) {
            throw Problems.validation("reason", NulCharacters.MESSAGE);
        }
        if (text != null && Characters.moreThan(text, DncImport.MAX_REASON)) {
            throw Problems.validation("reason", "must be at most " + DncImport.MAX_REASON + " characters");
        }
        return text == null || text.isEmpty() ? null : text;
    }

    private static Map<String, Object> view(DncEntry entry) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("number", entry.number());
        view.put("reason", entry.reason());
        view.put("added_at", entry.addedAt());
        return view;
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }
}
