package dev.dialer.webhook.delivery;

import java.time.Duration;

/**
 * What one HTTP try came to.
 *
 * @param statusCode   the endpoint's status, or null when it never answered
 * @param reason       {@link Reason#OK} for a 2xx, otherwise why the try failed
 * @param error        what went wrong when there was no answer (for the delivery log), or null
 * @param latency      from the start of the try until its answer's status arrived, or it failed
 * @param responseBody the start of the answer's body (bounded by the read limit), or null
 * @param retryAfter   the endpoint's {@code Retry-After}; for a try an open circuit refused, how long it stays open;
 *                     for one a 429's back-off refused, how long that lasts; else null
 */
record AttemptResult(Integer statusCode, Reason reason, String error, Duration latency, String responseBody,
                     Duration retryAfter) {

    private static final int MAX_ERROR_LENGTH = 1000;

    static AttemptResult answered(int statusCode, Duration latency) {
        return answered(statusCode, latency, null, null);
    }

    static AttemptResult answered(int statusCode, Duration latency, String body, Duration retryAfter) {
        return new AttemptResult(statusCode, reasonFor(statusCode), null, latency, body, retryAfter);
    }

    private static Reason reasonFor(int statusCode) {
        if (statusCode >= 200 && statusCode < 300) {
            return Reason.OK;
        }
        return statusCode == 410 ? Reason.GONE : Reason.HTTP_STATUS;
    }

    static AttemptResult failed(Reason reason, String error, Duration latency) {
        String text = error == null ? reason.tag() : error;
        return new AttemptResult(null, reason, text.length() <= MAX_ERROR_LENGTH ? text
                : text.substring(0, MAX_ERROR_LENGTH), latency, null, null);
    }

    /** A try the endpoint's open circuit refused, which it goes on refusing for {@code openFor}. */
    static AttemptResult circuitOpen(Duration openFor) {
        return new AttemptResult(null, Reason.CIRCUIT_OPEN, "circuit open", Duration.ZERO, null, openFor);
    }

    /** A try refused while its endpoint backs off after a 429, which it goes on doing for {@code backOff}. */
    static AttemptResult rateLimited(Duration backOff) {
        return new AttemptResult(null, Reason.RATE_LIMITED, "rate limited", Duration.ZERO, null, backOff);
    }

    boolean succeeded() {
        return reason == Reason.OK;
    }

    /**
     * Whether the try never left: the endpoint's concurrency limit, open circuit or back-off after a 429 refused it
     * (not a try).
     */
    boolean refusedLocally() {
        return reason == Reason.ENDPOINT_BUSY || reason == Reason.CIRCUIT_OPEN || reason == Reason.RATE_LIMITED;
    }
}
