package dev.dialer.api.send;

import dev.dialer.api.RequestBodies;
import dev.dialer.api.account.Account;
import dev.dialer.api.account.ApiKeys;
import dev.dialer.api.idempotency.IdempotencyKey;
import dev.dialer.api.idempotency.IdempotentRequests;
import dev.dialer.api.openapi.ApiDocs;
import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.Problems;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.enums.ParameterIn;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Encoding;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.nio.charset.Charset;
import java.util.List;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code POST /api/v2/outgoing/send}, the {@code outgoing/send} dialect. The body is read as text
 * ({@link RequestBodies}), and {@link SendRequestParser} decides from the body whether it is JSON or a form, since
 * curl's {@code -d} labels JSON as a form. No {@code consumes}, which would refuse a body without a Content-Type or
 * with one that cannot be parsed: {@link #unreadableType} refuses only a label naming a type the endpoint does not read
 * ({@link #READABLE}).
 */
@RestController
@Tag(name = "send")
class SendController {

    private static final String IDEMPOTENCY_KEY = IdempotentRequests.HEADER;
    private static final int MAX_KEY_LENGTH = IdempotentRequests.MAX_KEY_LENGTH;
    private static final int DEFAULT_MAX_BODY_BYTES = SendProperties.DEFAULT_MAX_BODY_BYTES;
    private static final int DEFAULT_MAX_RECIPIENTS = SendProperties.DEFAULT_MAX_RECIPIENTS;
    private static final String TOO_LARGE = "The body is larger than `dialer.api.send.max-body-size` ("
            + DEFAULT_MAX_BODY_BYTES / 1024 + " KB, " + DEFAULT_MAX_BODY_BYTES + " bytes, by default), or `to` holds "
            + "more recipients than `dialer.api.send.max-recipients` (" + DEFAULT_MAX_RECIPIENTS + " by default): "
            + "`errors` then names `to`";
    private static final String TOO_MANY_RECIPIENTS = "{\"type\":\"https://dialer.dev/problems/payload-too-large\","
            + "\"title\":\"Content too large\",\"status\":413,\"detail\":\"to holds 1500 recipients; a request may "
            + "hold at most " + DEFAULT_MAX_RECIPIENTS + ".\",\"errors\":[{\"field\":\"to\",\"message\":\"must hold "
            + "at most " + DEFAULT_MAX_RECIPIENTS + " recipients\"}]}";

    /**
     * The Content-Types a send body is read under: JSON, a form, and {@code text/plain} ({@code fetch} labels a string
     * body so, .NET's {@code StringContent} too). A body without a Content-Type, or with one that cannot be parsed, is
     * read as well.
     */
    static final List<MediaType> READABLE = List.of(MediaType.APPLICATION_JSON,
            MediaType.APPLICATION_FORM_URLENCODED, MediaType.TEXT_PLAIN);
    private static final String READABLE_TYPES = "application/json, application/x-www-form-urlencoded or text/plain";
    private static final String UNSUPPORTED_DETAIL = ", which this endpoint does not read: send its fields as JSON "
            + "or as a URL-encoded form, labelled " + READABLE_TYPES + ".";
    private static final String UNSUPPORTED = "The body is labelled as a type the endpoint does not read, such as "
            + "`multipart/form-data`; `Accept` lists those it reads (" + READABLE_TYPES + "). A body without a "
            + "Content-Type, or with one that cannot be parsed, is read too, JSON or a form as the body itself says";
    private static final String UNSUPPORTED_EXAMPLE = "{\"type\":\"https://dialer.dev/problems/"
            + "unsupported-media-type\",\"title\":\"Unsupported media type\",\"status\":415,\"detail\":"
            + "\"The body is labelled multipart/form-data" + UNSUPPORTED_DETAIL + "\"}";

    private final OutgoingCalls calls;
    private final OutgoingPreview preview;
    private final IdempotentRequests idempotency;
    private final JsonMapper json;
    private final int maxBodyBytes;

    SendController(OutgoingCalls calls, OutgoingPreview preview, IdempotentRequests idempotency, JsonMapper json,
                   SendProperties properties) {
        this.calls = calls;
        this.preview = preview;
        this.idempotency = idempotency;
        this.json = json;
        this.maxBodyBytes = (int) properties.maxBodySize().toBytes();
    }

    /**
     * With an {@code Idempotency-Key} header (per account, 24 h; {@link IdempotentRequests}): a repeat with the same
     * body answers the stored response with {@code Idempotent-Replayed: true} and queues nothing; the same key with
     * another body is a 409; a request refused with a 4xx leaves the key free, unless an earlier unfinished try holds
     * it (that try may have queued calls: the problem says so).
     */
    @PostMapping(path = "/api/v2/outgoing/send", produces = MediaType.APPLICATION_JSON_VALUE)
    @Operation(operationId = "sendCalls", summary = "Queue outbound calls",
            description = "Queues one call per valid recipient of `to` and answers in the `outgoing/send` document's "
                    + "shape once Kafka has every command (`acks=all`). A recipient that cannot be valid gets a row "
                    + "with `status: rejected` and an `error` naming it, and is not queued; a number listed again (in "
                    + "any spelling) gets a row with `status: duplicate` and its first listing's `id`, and is not queued "
                    + "again; the others are. A send with no valid recipient queues nothing and is a 400 naming "
                    + "each one.",
            parameters = @Parameter(name = IDEMPOTENCY_KEY, in = ParameterIn.HEADER, description = "Makes retries "
                    + "safe for 24 hours: a repeat with the same body answers the original response with "
                    + "`Idempotent-Replayed: true`; the same key with another body is a 409. A request refused "
                    + "with a 4xx is not stored: the key can be sent again with a corrected body, unless an earlier "
                    + "try under the key is in doubt (it got a 503, or is still running: the problem says "
                    + "`earlier_try_in_doubt: true`), when only that try's own body may be sent again under it",
                    schema = @Schema(type = "string", maxLength = MAX_KEY_LENGTH)),
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = {
                    @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
                            schema = @Schema(implementation = SendDocs.class), examples = {
                                    @ExampleObject(name = "audio-file-id", summary = "Using an audio file id",
                                            value = ApiDocs.SEND_WITH_AUDIO_ID),
                                    @ExampleObject(name = "ivr-journey", summary = "Using an IVR journey id",
                                            value = ApiDocs.SEND_WITH_FLOW),
                                    @ExampleObject(name = "ivr-with-variables", summary = "IVR journey and variables",
                                            value = ApiDocs.SEND_WITH_VARIABLES),
                                    @ExampleObject(name = "audio-file-location", summary = "Custom audio file "
                                            + "location", value = ApiDocs.SEND_WITH_AUDIO_URL),
                                    @ExampleObject(name = "bulk", summary = "Several recipients, retried every 15 "
                                            + "minutes", value = ApiDocs.SEND_BULK)}),
                    @Content(mediaType = MediaType.APPLICATION_FORM_URLENCODED_VALUE,
                            schema = @Schema(implementation = SendDocs.class), encoding = @Encoding(
                                    name = "variables", style = "DEEP_OBJECT", explode = true),
                            examples = @ExampleObject(name = "form", value = ApiDocs.SEND_FORM))}))
    @ApiResponse(responseCode = "200", description = "Queued (rows of rejected recipients say why)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = SendDocs.Answer.class),
                    examples = @ExampleObject(name = "queued", value = ApiDocs.SEND_RESPONSE)))
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "403", ref = ApiDocs.FORBIDDEN)
    @ApiResponse(responseCode = "409", ref = ApiDocs.CONFLICT)
    @ApiResponse(responseCode = "413", description = TOO_LARGE, content = @Content(mediaType = ApiDocs.PROBLEM_JSON,
            schema = @Schema(ref = ApiDocs.PROBLEM), examples = {
                    @ExampleObject(name = "payload-too-large", value = ApiDocs.TOO_LARGE_EXAMPLE
                            + DEFAULT_MAX_BODY_BYTES + ApiDocs.BYTES),
                    @ExampleObject(name = "too-many-recipients", value = TOO_MANY_RECIPIENTS)}))
    @ApiResponse(responseCode = "415", description = UNSUPPORTED, content = @Content(
            mediaType = ApiDocs.PROBLEM_JSON, schema = @Schema(ref = ApiDocs.PROBLEM),
            examples = @ExampleObject(name = "unsupported-media-type", value = UNSUPPORTED_EXAMPLE)))
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<ResponseEntity<byte[]>> send(@Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account,
                                      ServerHttpRequest request) {
        ApiProblem unreadable = unreadableType(request.getHeaders());
        if (unreadable != null) {
            return Mono.error(unreadable);
        }
        String key = IdempotentRequests.keyOf(request);
        Charset charset = RequestBodies.charsetOf(request.getHeaders());
        return RequestBodies.text(request, maxBodyBytes)
                .flatMap(body -> key == null
                        ? queue(account, body, charset, null).map(answer -> ResponseEntity.ok()
                                .contentType(MediaType.APPLICATION_JSON).body(answer))
                        // The send's fingerprint is its body alone, as it was before other endpoints took keys.
                        : idempotency.once(account.id(), key, ApiKeys.hash(body), HttpStatus.OK,
                                claimed -> queue(account, body, charset, claimed)));
    }

    /**
     * {@code POST /api/v2/outgoing/preview}: the same body as a send, answered per recipient with what the dispatcher
     * would do now ({@code dial}, {@code defer} until {@code not_before}, {@code block} or {@code expire} with a
     * reason, {@code rejected} for an invalid number, or {@code duplicate} for a number the list named before or whose
     * {@code foreign_id} an earlier send used for it).
     * Queues nothing.
     */
    @PostMapping(path = "/api/v2/outgoing/preview", produces = MediaType.APPLICATION_JSON_VALUE)
    @Operation(operationId = "previewCalls", summary = "Preview what a send would do",
            description = "Takes the body of a send and answers, per recipient, what the dialer would do now: "
                    + "`dial`, `defer` until `not_before`, `block` or `expire` with a `reason`, `rejected` for an "
                    + "invalid number, or `duplicate` for a number the list named before (the send calls it once) "
                    + "or whose `foreign_id` an earlier send used for it (`reason: foreign_id`). Queues nothing.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = {
                    @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
                            schema = @Schema(implementation = SendDocs.class), examples = {
                                    @ExampleObject(name = "ivr-journey", summary = "Using an IVR journey id",
                                            value = ApiDocs.SEND_WITH_FLOW),
                                    @ExampleObject(name = "bulk", summary = "Several recipients, retried every 15 "
                                            + "minutes", value = ApiDocs.SEND_BULK)}),
                    @Content(mediaType = MediaType.APPLICATION_FORM_URLENCODED_VALUE,
                            schema = @Schema(implementation = SendDocs.class), encoding = @Encoding(
                                    name = "variables", style = "DEEP_OBJECT", explode = true),
                            examples = @ExampleObject(name = "form", value = ApiDocs.SEND_FORM))}))
    @ApiResponse(responseCode = "200", description = "What the dialer would do with each recipient now")
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "413", description = TOO_LARGE, content = @Content(mediaType = ApiDocs.PROBLEM_JSON,
            schema = @Schema(ref = ApiDocs.PROBLEM), examples = {
                    @ExampleObject(name = "payload-too-large", value = ApiDocs.TOO_LARGE_EXAMPLE
                            + DEFAULT_MAX_BODY_BYTES + ApiDocs.BYTES),
                    @ExampleObject(name = "too-many-recipients", value = TOO_MANY_RECIPIENTS)}))
    @ApiResponse(responseCode = "415", description = UNSUPPORTED, content = @Content(
            mediaType = ApiDocs.PROBLEM_JSON, schema = @Schema(ref = ApiDocs.PROBLEM),
            examples = @ExampleObject(name = "unsupported-media-type", value = UNSUPPORTED_EXAMPLE)))
    Mono<java.util.Map<String, Object>> preview(@RequestAttribute(Account.ATTRIBUTE) Account account,
                                                ServerHttpRequest request) {
        ApiProblem unreadable = unreadableType(request.getHeaders());
        if (unreadable != null) {
            return Mono.error(unreadable);
        }
        Charset charset = RequestBodies.charsetOf(request.getHeaders());
        return RequestBodies.text(request, maxBodyBytes).flatMap(body -> preview.preview(account, body, charset));
    }

    /**
     * A 415 naming the types read ({@code Accept}, RFC 9110 §15.5.16) when the Content-Type names another one: a
     * multipart form read as a URL-encoded one would be refused for every field it does hold. Null for a readable
     * type, for no Content-Type, for a wildcard (which names no type), and for one that cannot be parsed (read as
     * UTF-8, as {@link RequestBodies} reads it).
     */
    static ApiProblem unreadableType(HttpHeaders headers) {
        String label = headers.getFirst(HttpHeaders.CONTENT_TYPE);
        if (label == null || label.isBlank()) {
            return null;
        }
        MediaType type;
        try {
            type = MediaType.parseMediaType(label);
        } catch (IllegalArgumentException unparsable) {
            return null;
        }
        if (type.isWildcardType() || READABLE.stream().anyMatch(readable -> readable.includes(type))) {
            return null;
        }
        return Problems.unsupportedMediaType("The body is labelled " + type.getType() + "/" + type.getSubtype()
                + UNSUPPORTED_DETAIL, READABLE);
    }

    /** The answer as UTF-8 bytes, written once (a thousand rows' JSON is not built as a string first). */
    private Mono<byte[]> queue(Account account, String body, Charset charset, IdempotencyKey key) {
        return calls.queue(account, body, charset, key).map(json::writeValueAsBytes);
    }
}
