package dev.dialer.api.problem;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.springframework.http.HttpStatus;

/** A request the API refuses, rendered as {@code application/problem+json}. */
public final class ApiProblem extends RuntimeException {

    private final HttpStatus status;
    private final URI type;
    private final List<FieldError> errors;
    private final Duration retryAfter;

    private ApiProblem(HttpStatus status, URI type, String detail, List<FieldError> errors, Duration retryAfter) {
        super(detail, null, false, false);
        this.status = status;
        this.type = type;
        this.errors = List.copyOf(errors);
        this.retryAfter = retryAfter;
    }

    public static ApiProblem invalid(List<FieldError> errors) {
        String detail = errors.size() == 1 ? errors.get(0).field() + " " + errors.get(0).message()
                : errors.size() + " fields are invalid";
        return new ApiProblem(HttpStatus.BAD_REQUEST, Problems.VALIDATION, detail, errors, null);
    }

    public static ApiProblem invalid(String field, String message) {
        return invalid(List.of(new FieldError(field, message)));
    }

    public static ApiProblem unauthorized(String detail) {
        return new ApiProblem(HttpStatus.UNAUTHORIZED, Problems.UNAUTHORIZED, detail, List.of(), null);
    }

    public static ApiProblem notFound(String what) {
        return new ApiProblem(HttpStatus.NOT_FOUND, Problems.NOT_FOUND, what + " not found", List.of(), null);
    }

    public static ApiProblem unavailable(String detail, Duration retryAfter) {
        return new ApiProblem(HttpStatus.SERVICE_UNAVAILABLE, Problems.UNAVAILABLE, detail, List.of(), retryAfter);
    }

    public HttpStatus status() {
        return status;
    }

    public URI type() {
        return type;
    }

    public List<FieldError> errors() {
        return errors;
    }

    public Duration retryAfter() {
        return retryAfter;
    }
}
