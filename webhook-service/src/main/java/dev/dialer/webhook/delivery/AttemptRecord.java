package dev.dialer.webhook.delivery;

/**
 * One row of the delivery log: one HTTP attempt.
 *
 * @param attemptNo  1 for the first attempt at this event and webhook
 * @param statusCode the endpoint's answer, or null when there was none
 * @param error      what went wrong when there was no answer, or null
 * @param latencyMs  how long the attempt took
 */
record AttemptRecord(String eventId, String webhookId, String accountId, int attemptNo, Integer statusCode,
                     String error, long latencyMs) {
}
