package dev.dialer.api.problem;

/** One thing wrong with a request: the field (e.g. {@code to[1]}) and what is wrong with its value. */
public record FieldError(String field, String message) {
}
