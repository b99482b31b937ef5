package dev.dialer.webhook.delivery;

import java.time.Instant;

/**
 * One row of the delivery log: one HTTP attempt.
 *
 * @param webhookId   the webhook's id, or the hook kind's tag ({@code notify}, {@code action}) for a hook
 * @param target      which kind of target the attempt went to
 * @param requestId   the call the event belongs to
 * @param attemptNo   1 for the first attempt at this event and target
 * @param statusCode  the endpoint's answer, or null when there was none
 * @param error       what went wrong when there was no answer, or null
 * @param latencyMs   how long the attempt took
 * @param attemptedAt when the attempt ended
 */
record AttemptRecord(String eventId, String webhookId, Target.Kind target, String requestId, String accountId,
                     int attemptNo, Integer statusCode, String error, long latencyMs, Instant attemptedAt) {
}
