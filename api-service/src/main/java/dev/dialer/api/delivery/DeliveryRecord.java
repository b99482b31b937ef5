package dev.dialer.api.delivery;

import dev.dialer.common.contract.DeliveryAttempt;
import java.time.Instant;

/**
 * One attempt as the delivery log keeps it in {@code api.webhook_deliveries}. Its text is already as PostgreSQL can
 * store it: {@link DeliveryAttempt} replaces a NUL character, which a {@code text} column refuses, when it is read.
 */
record DeliveryRecord(String attemptId, String accountId, String webhookId, String eventId, String eventType,
                      String target, String requestId, int attemptNo, String outcome, Integer statusCode,
                      String error, String responseBody, long latencyMs, Instant nextAttemptAt,
                      boolean endpointDisabled, boolean replay, Instant attemptedAt) {

    static DeliveryRecord of(DeliveryAttempt attempt) {
        return new DeliveryRecord(attempt.attemptId(), attempt.accountId(), attempt.webhookId(), attempt.eventId(),
                attempt.eventType(), attempt.target(), attempt.requestId(), attempt.attemptNo(),
                attempt.outcome().wire(), attempt.statusCode(), attempt.error(), attempt.responseBody(),
                attempt.latencyMs(), attempt.nextAttemptAt(), Boolean.TRUE.equals(attempt.endpointDisabled()),
                Boolean.TRUE.equals(attempt.replay()), attempt.attemptedAt());
    }
}
