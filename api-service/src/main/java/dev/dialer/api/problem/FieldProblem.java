package dev.dialer.api.problem;

/**
 * One invalid field of a request.
 *
 * @param field   the field as the client named it ({@code to}, {@code to[1]}, {@code variables[otp]})
 * @param message what is wrong with its value
 */
public record FieldProblem(String field, String message) {
}
