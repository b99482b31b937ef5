package dev.dialer.webhook.delivery;

import java.time.Duration;

/**
 * What one HTTP attempt came to.
 *
 * @param statusCode the endpoint's status, or null when it never answered
 * @param reason     {@link Reason#OK} for a 2xx, otherwise why the attempt failed
 * @param error      what went wrong when there was no answer (for the delivery log), or null
 * @param latency    from the start of the attempt until its answer was drained or it failed
 */
record AttemptResult(Integer statusCode, Reason reason, String error, Duration latency) {

    private static final int MAX_ERROR_LENGTH = 1000;

    static AttemptResult answered(int statusCode, Duration latency) {
        return new AttemptResult(statusCode, reasonFor(statusCode), null, latency);
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
                : text.substring(0, MAX_ERROR_LENGTH), latency);
    }

    boolean succeeded() {
        return reason == Reason.OK;
    }

    /** Whether another attempt is pointless: the endpoint said it is gone for good. */
    boolean isFinal() {
        return succeeded() || reason == Reason.GONE;
    }
}
