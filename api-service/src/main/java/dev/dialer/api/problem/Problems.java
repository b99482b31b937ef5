package dev.dialer.api.problem;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.server.PathContainer;
import org.springframework.http.server.reactive.ServerHttpRequest;

/**
 * The catalogue of problem types the API answers with. The type URIs are stable: clients may switch on them.
 * Every status the API can produce maps to one type, so a problem raised by the framework (405, 406, 415…) is typed
 * the same way as one raised by our own code.
 */
public final class Problems {

    /** The property holding the invalid fields, a list of {@code {field, message}}. */
    public static final String ERRORS = "errors";
    /** The property counting the invalid fields beyond {@link #MAX_LISTED_ERRORS}, which are not listed. */
    public static final String ERRORS_OMITTED = "errors_omitted";
    /**
     * The most invalid fields a problem lists: every recipient of a send as large as the default allows (1,000), and
     * the send's other fields besides. A body can name far more (some 20,000 invalid variables in 256 KB), and each
     * listed costs the answer some 60 bytes.
     */
    public static final int MAX_LISTED_ERRORS = 1100;

    private static final String BASE = "https://dialer.dev/problems/";

    public static final URI VALIDATION = URI.create(BASE + "validation");
    public static final URI MALFORMED_REQUEST = URI.create(BASE + "malformed-request");
    public static final URI UNAUTHORIZED = URI.create(BASE + "unauthorized");
    public static final URI NOT_FOUND = URI.create(BASE + "not-found");
    public static final URI METHOD_NOT_ALLOWED = URI.create(BASE + "method-not-allowed");
    public static final URI NOT_ACCEPTABLE = URI.create(BASE + "not-acceptable");
    public static final URI PAYLOAD_TOO_LARGE = URI.create(BASE + "payload-too-large");
    public static final URI REQUEST_TIMEOUT = URI.create(BASE + "request-timeout");
    public static final URI UNSUPPORTED_MEDIA_TYPE = URI.create(BASE + "unsupported-media-type");
    public static final URI UNAVAILABLE = URI.create(BASE + "unavailable");
    public static final URI IDEMPOTENCY_CONFLICT = URI.create(BASE + "idempotency-conflict");
    public static final URI INTERNAL = URI.create(BASE + "internal");
    /** Any other client error the framework reports (none of our own code uses it). */
    public static final URI BAD_REQUEST = URI.create(BASE + "bad-request");

    private static final Map<Integer, URI> BY_STATUS = Map.ofEntries(
            Map.entry(400, BAD_REQUEST),
            Map.entry(401, UNAUTHORIZED),
            Map.entry(404, NOT_FOUND),
            Map.entry(405, METHOD_NOT_ALLOWED),
            Map.entry(406, NOT_ACCEPTABLE),
            Map.entry(408, REQUEST_TIMEOUT),
            Map.entry(413, PAYLOAD_TOO_LARGE),
            Map.entry(415, UNSUPPORTED_MEDIA_TYPE),
            Map.entry(503, UNAVAILABLE),
            Map.entry(403, Catalogue.FORBIDDEN),
            Map.entry(429, Catalogue.RATE_LIMITED));

    private Problems() {
    }

    /**
     * Request fields that are missing or invalid; each is named, up to {@link #MAX_LISTED_ERRORS} (the first ones
     * found; the others are counted in {@link #ERRORS_OMITTED}, and the detail counts them all).
     */
    public static ApiProblem validation(List<FieldProblem> errors) {
        ProblemDetail problem = problem(HttpStatus.BAD_REQUEST, VALIDATION, "Invalid request",
                errors.size() == 1 ? errors.get(0).field() + " " + errors.get(0).message()
                        : errors.size() + " fields are invalid");
        if (errors.size() > MAX_LISTED_ERRORS) {
            problem.setProperty(ERRORS, List.copyOf(errors.subList(0, MAX_LISTED_ERRORS)));
            problem.setProperty(ERRORS_OMITTED, errors.size() - MAX_LISTED_ERRORS);
        } else {
            problem.setProperty(ERRORS, List.copyOf(errors));
        }
        return new ApiProblem(problem, null);
    }

    public static ApiProblem validation(String field, String message) {
        return validation(List.of(new FieldProblem(field, message)));
    }

    /**
     * A campaign's name in the path with an unescaped {@code ;}: the path's parser takes what follows for a matrix
     * parameter and binds the name without it, so {@code /campaigns/promo;v2/cancel} would cancel {@code promo}.
     * Refused, naming the name, for any {@code ;} parameters in the request's path.
     *
     * @throws ApiProblem 400 when a segment of the path carries one
     */
    public static void refuseMatrixParameters(ServerHttpRequest request) {
        for (PathContainer.Element element : request.getPath().pathWithinApplication().elements()) {
            if (element instanceof PathContainer.PathSegment segment && !segment.parameters().isEmpty()) {
                throw validation("name", "a ';' in the path must be written %3B: '" + segment.value()
                        + "' would be read as '" + segment.valueToMatch() + "'");
            }
        }
    }

    /** The body cannot be read at all (not JSON, not a form). */
    public static ApiProblem malformed(String detail) {
        return new ApiProblem(problem(HttpStatus.BAD_REQUEST, MALFORMED_REQUEST, "Malformed request", detail), null);
    }

    public static ApiProblem unauthorized(String detail) {
        ApiProblem unauthorized = new ApiProblem(
                problem(HttpStatus.UNAUTHORIZED, UNAUTHORIZED, "Unauthorized", detail), null);
        unauthorized.getHeaders().set(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        return unauthorized;
    }

    /** The body is larger than the endpoint accepts. */
    public static ApiProblem tooLarge(int maxBytes) {
        return new ApiProblem(problem(HttpStatus.CONTENT_TOO_LARGE, PAYLOAD_TOO_LARGE, "Content too large",
                "The body is larger than " + maxBytes + " bytes."), null);
    }

    /** The body did not arrive within {@code limit}: nothing of it was taken. */
    public static ApiProblem requestTimeout(Duration limit) {
        return new ApiProblem(problem(HttpStatus.REQUEST_TIMEOUT, REQUEST_TIMEOUT, "Request timeout",
                "The body did not arrive within " + limit.toSeconds() + " s; nothing of it was taken. Send the request "
                        + "again."), null);
    }

    /**
     * A list in the body holds more entries than one request may; the problem names the list's field.
     *
     * @param entries what the list holds, in the plural ({@code recipients})
     */
    public static ApiProblem tooMany(String field, String entries, int max, int given) {
        return tooMany(field, entries, max, Integer.toString(given));
    }

    /**
     * As {@link #tooMany(String, String, int, int)}, when the reading stopped at the first entry past the limit (the
     * list's length is not known).
     */
    public static ApiProblem tooMany(String field, String entries, int max) {
        return tooMany(field, entries, max, "more than " + max);
    }

    private static ApiProblem tooMany(String field, String entries, int max, String given) {
        ProblemDetail problem = problem(HttpStatus.CONTENT_TOO_LARGE, PAYLOAD_TOO_LARGE, "Content too large",
                field + " holds " + given + " " + entries + "; a request may hold at most " + max + ".");
        problem.setProperty(ERRORS, List.of(new FieldProblem(field, "must hold at most " + max + " " + entries)));
        return new ApiProblem(problem, null);
    }

    /** The Content-Type header cannot be read (not {@code type/subtype}, or a charset that does not exist). */
    public static ApiProblem unsupportedMediaType(String detail) {
        return new ApiProblem(problem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type", detail), null);
    }

    /**
     * The body is of a type the endpoint does not read; {@code Accept} lists those it does (RFC 9110 §15.5.16).
     */
    public static ApiProblem unsupportedMediaType(String detail, List<MediaType> accepted) {
        ApiProblem unsupported = unsupportedMediaType(detail);
        unsupported.getHeaders().setAccept(accepted);
        return unsupported;
    }

    /**
     * The body is compressed ({@code Content-Encoding}), which the API does not read; {@code Accept-Encoding:
     * identity} says so (RFC 9110 §12.5.3, §15.5.16).
     */
    public static ApiProblem unsupportedContentEncoding(String encoding) {
        ApiProblem unsupported = unsupportedMediaType("The body is encoded " + encoding + " (Content-Encoding); "
                + "send it uncompressed.");
        unsupported.getHeaders().set(HttpHeaders.ACCEPT_ENCODING, "identity");
        return unsupported;
    }

    /** The {@code Idempotency-Key} was already used with another body. */
    public static ApiProblem idempotencyConflict(String key) {
        return new ApiProblem(problem(HttpStatus.CONFLICT, IDEMPOTENCY_CONFLICT, "Idempotency key reused",
                "Idempotency-Key '" + key + "' was used with a different body in the last 24 hours."), null);
    }

    public static ApiProblem notFound(String detail) {
        return new ApiProblem(problem(HttpStatus.NOT_FOUND, NOT_FOUND, "Not found", detail), null);
    }

    /**
     * The request could not be made durable (Kafka did not acknowledge in time). Safe to retry after
     * {@code retryAfter}. A request sent with an {@code Idempotency-Key} gets the same call ids when repeated, so
     * its retry can never create a second call; without one, so does each recipient with a {@code foreign_id}, and
     * for any other a late-stored first try and its retry are two calls.
     */
    public static ApiProblem unavailable(String detail, Duration retryAfter, Throwable cause) {
        ApiProblem unavailable = new ApiProblem(
                problem(HttpStatus.SERVICE_UNAVAILABLE, UNAVAILABLE, "Service unavailable", detail), cause);
        unavailable.getHeaders().set(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, retryAfter.toSeconds())));
        return unavailable;
    }

    /**
     * Kafka acknowledged the request's records, then the request failed (its {@code foreign_id} claims or its
     * {@code Idempotency-Key} answer could not be stored): as ambiguous an outcome as a late acknowledgement, and
     * answered alike, a 503. A retry with the same key reuses the call ids (and a {@code foreign_id}'s id is the same on
     * every try), so it places no call twice.
     */
    public static ApiProblem unconfirmed(Duration retryAfter, Throwable cause) {
        return unavailable("The calls may have been queued: Kafka has them, but the request failed after producing "
                + "them. Retry with the same Idempotency-Key: the retry reuses the call ids, so no call is placed "
                + "twice.", retryAfter, cause);
    }

    /**
     * As {@link #unconfirmed}, for a request sent without an {@code Idempotency-Key}: only its recipients with a
     * {@code foreign_id} have ids a retry reproduces, so the client must not be told that any retry is safe.
     */
    public static ApiProblem unconfirmedWithoutKey(Duration retryAfter, Throwable cause) {
        return unavailable("The calls may have been queued: Kafka has them, but the request failed after producing "
                + "them. The request had no Idempotency-Key: a retry places each recipient with a foreign_id once, "
                + "but queues the others again. " + NOT_LISTED_YET, retryAfter, cause);
    }

    /**
     * Why a client whose send is in doubt cannot tell from the calls list which of its calls were queued: a call whose
     * send did not finish has no row until the dispatcher takes its command up, which the caller ID's pace, a backlog
     * or a calling window may put off for hours.
     */
    public static final String NOT_LISTED_YET = "A call Kafka took may not show in GET /api/v2/calls until the "
            + "dispatcher takes it up (behind a caller ID's backlog or outside a calling window, hours later), so not "
            + "finding it does not mean it was not queued. Send with an Idempotency-Key to be able to retry safely.";

    static ProblemDetail internal() {
        return problem(HttpStatus.INTERNAL_SERVER_ERROR, INTERNAL, "Internal error",
                "The request failed on our side; it is safe to retry.");
    }

    /** Gives a framework-made problem our type for its status, and a title when it has none. */
    static ProblemDetail typed(ProblemDetail problem) {
        if (problem.getType() == null || "about:blank".equals(problem.getType().toString())) {
            problem.setType(BY_STATUS.getOrDefault(problem.getStatus(),
                    problem.getStatus() >= 500 ? INTERNAL : BAD_REQUEST));
        }
        if (problem.getTitle() == null) {
            HttpStatus status = HttpStatus.resolve(problem.getStatus());
            problem.setTitle(status == null ? "Error" : status.getReasonPhrase());
        }
        return problem;
    }

    private static ProblemDetail problem(HttpStatus status, URI type, String title, String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setType(type);
        problem.setTitle(title);
        return problem;
    }

    /**
     * Types of the calls, control, DNC, settings and rate-limit features. A nested holder so that their constants
     * are initialised before {@link #BY_STATUS} reads them.
     */
    public static final class Catalogue {
        public static final URI FORBIDDEN = URI.create(BASE + "forbidden");
        public static final URI RATE_LIMITED = URI.create(BASE + "rate-limited");
        public static final URI CALL_ALREADY_FINAL = URI.create(BASE + "call-already-final");
        public static final URI CAMPAIGN_CANCELED = URI.create(BASE + "campaign-canceled");
        public static final URI LIMIT_REACHED = URI.create(BASE + "limit-reached");

        private Catalogue() {
        }
    }

    /** The account may not do this with that value of the field (a caller ID outside its allowed list). */
    public static ApiProblem forbidden(String field, String message) {
        ProblemDetail problem = problem(HttpStatus.FORBIDDEN, Catalogue.FORBIDDEN, "Forbidden", field + " " + message);
        problem.setProperty(ERRORS, List.of(new FieldProblem(field, message)));
        return new ApiProblem(problem, null);
    }

    /** The account sent more requests than its rate allows; retry after {@code retryAfter}. */
    public static ApiProblem rateLimited(Duration retryAfter) {
        long seconds = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
        ApiProblem limited = new ApiProblem(problem(HttpStatus.TOO_MANY_REQUESTS, Catalogue.RATE_LIMITED,
                "Too many requests", "This account's request rate is exceeded; retry in " + seconds + " s."), null);
        limited.getHeaders().set(HttpHeaders.RETRY_AFTER, Long.toString(seconds));
        return limited;
    }

    /** A call that already ended cannot be cancelled; the problem names its final status. */
    public static ApiProblem callAlreadyFinal(String requestId, String finalStatus) {
        ProblemDetail problem = problem(HttpStatus.CONFLICT, Catalogue.CALL_ALREADY_FINAL, "Call already final",
                "Call " + requestId + " already ended: " + finalStatus + ".");
        problem.setProperty("final_status", finalStatus);
        return new ApiProblem(problem, null);
    }

    /** The account already has the most {@code what} it may keep ({@code limit}); one must go before another comes. */
    public static ApiProblem limitReached(String what, int limit) {
        ProblemDetail problem = problem(HttpStatus.CONFLICT, Catalogue.LIMIT_REACHED, "Limit reached",
                "This account already has " + limit + " " + what + ", the most it may keep; delete one first.");
        problem.setProperty("limit", limit);
        return new ApiProblem(problem, null);
    }

    /** {@link #limitReached(String, int)} for a change adding {@code adding} at once to the {@code kept} there are. */
    public static ApiProblem limitReached(String what, int limit, long kept, long adding) {
        ProblemDetail problem = problem(HttpStatus.CONFLICT, Catalogue.LIMIT_REACHED, "Limit reached",
                "This account keeps " + kept + " " + what + " and this change adds " + adding
                        + ": the most it may keep is " + limit + ". Nothing was added; delete some first, or add "
                        + "fewer.");
        problem.setProperty("limit", limit);
        return new ApiProblem(problem, null);
    }

    /** A canceled campaign stays canceled: pausing or resuming it would replace the cancel on the compacted topic. */
    public static ApiProblem campaignCanceled(String campaign) {
        return new ApiProblem(problem(HttpStatus.CONFLICT, Catalogue.CAMPAIGN_CANCELED, "Campaign canceled",
                "Campaign " + campaign + " was canceled; a canceled campaign cannot be paused or resumed."), null);
    }
}
