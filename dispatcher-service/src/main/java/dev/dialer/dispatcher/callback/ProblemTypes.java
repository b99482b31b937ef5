package dev.dialer.dispatcher.callback;

import java.net.URI;
import java.util.Locale;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;

/** The problem types (RFC 9457) this service answers with; the catalogue of their {@code type} URIs. */
enum ProblemTypes {
    INVALID_SIGNATURE(HttpStatus.UNAUTHORIZED, "Invalid signature"),
    INVALID_SEAL(HttpStatus.FORBIDDEN, "Invalid seal"),
    INVALID_CALLBACK(HttpStatus.BAD_REQUEST, "Invalid callback"),
    UNKNOWN_ATTEMPT(HttpStatus.NOT_FOUND, "Unknown attempt"),
    CALLBACK_NOT_APPLIED(HttpStatus.INTERNAL_SERVER_ERROR, "Callback not applied");

    private static final String BASE = "https://dialer.dev/problems/";

    private final HttpStatus status;
    private final String title;

    ProblemTypes(HttpStatus status, String title) {
        this.status = status;
        this.title = title;
    }

    HttpStatus status() {
        return status;
    }

    ProblemDetail detail(String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setType(URI.create(BASE + name().toLowerCase(Locale.ROOT).replace('_', '-')));
        problem.setTitle(title);
        return problem;
    }
}
