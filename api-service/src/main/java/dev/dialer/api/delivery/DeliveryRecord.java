package dev.dialer.api.delivery;

import dev.dialer.common.contract.DeliveryAttempt;
import java.time.Instant;

/**
 * One attempt as the delivery log keeps it in {@code api.webhook_deliveries}. Its text is kept as PostgreSQL can store
 * it: a NUL character (U+0000, which a {@code text} column refuses, every time) becomes U+FFFD. The response body is an
 * endpoint's, and an endpoint may answer anything; refusing the row would stop the log at it.
 */
record DeliveryRecord(String attemptId, String accountId, String webhookId, String eventId, String eventType,
                      String target, String requestId, int attemptNo, String outcome, Integer statusCode,
                      String error, String responseBody, long latencyMs, Instant nextAttemptAt,
                      boolean endpointDisabled, boolean replay, Instant attemptedAt) {

    static DeliveryRecord of(DeliveryAttempt attempt) {
        return new DeliveryRecord(storable(attempt.attemptId()), storable(attempt.accountId()),
                storable(attempt.webhookId()), storable(attempt.eventId()), storable(attempt.eventType()),
                storable(attempt.target()), storable(attempt.requestId()), attempt.attemptNo(),
                attempt.outcome().wire(), attempt.statusCode(), storable(attempt.error()),
                storable(attempt.responseBody()), attempt.latencyMs(), attempt.nextAttemptAt(),
                Boolean.TRUE.equals(attempt.endpointDisabled()), Boolean.TRUE.equals(attempt.replay()),
                attempt.attemptedAt());
    }

    static String storable(String text) {
        return text == null || text.indexOf('\u0000') < 0 ? text : text.replace('\u0000', '\uFFFD');
    }
}
