package dev.dialer.api.problem;

import java.net.URI;

/** The catalogue of problem types (RFC 9457) this API answers with; the URIs are stable. */
public final class Problems {

    public static final URI VALIDATION = URI.create("https://dialer.dev/problems/validation");
    public static final URI UNAUTHORIZED = URI.create("https://dialer.dev/problems/unauthorized");
    public static final URI NOT_FOUND = URI.create("https://dialer.dev/problems/not-found");
    public static final URI UNSUPPORTED = URI.create("https://dialer.dev/problems/unsupported-media-type");
    public static final URI UNAVAILABLE = URI.create("https://dialer.dev/problems/kafka-unavailable");
    public static final URI BAD_REQUEST = URI.create("https://dialer.dev/problems/bad-request");

    private Problems() {
    }
}
