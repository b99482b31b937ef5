package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.DeliveryAttempt;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.Parameter;
import reactor.core.publisher.Mono;

/**
 * The delivery log in {@code webhook.delivery_attempts}: one row per HTTP try, with the start of the endpoint's answer
 * (as much as was read, at most {@code dialer.webhook.delivery.response-body-limit}). Rows older than the retention
 * are purged by {@link #purge(Instant)}.
 */
final class DeliveryLog implements AttemptLog {

    private static final Logger log = LoggerFactory.getLogger(DeliveryLog.class);
    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(5);
    private static final String INSERT = """
            INSERT INTO webhook.delivery_attempts
                (event_id, webhook_id, account_id, attempt_no, status_code, error, latency_ms, event_type, target,
                 outcome, response_body, next_attempt_at, replay, attempted_at)
            VALUES (:eventId, :webhookId, :accountId, :attemptNo, :statusCode, :error, :latencyMs, :eventType, :target,
                    :outcome, :responseBody, :nextAttemptAt, :replay, :attemptedAt)""";

    private final DatabaseClient database;
    private final DeliveryMetrics metrics;

    DeliveryLog(DatabaseClient database, DeliveryMetrics metrics) {
        this.database = database;
        this.metrics = metrics;
    }

    @Override
    public Mono<Void> record(DeliveryAttempt attempt) {
        return database.sql(INSERT)
                .bind("eventId", attempt.eventId())
                .bind("webhookId", attempt.webhookId() != null ? attempt.webhookId() : attempt.target())
                .bind("accountId", attempt.accountId())
                .bind("attemptNo", attempt.attemptNo())
                .bind("statusCode", Parameter.fromOrEmpty(attempt.statusCode(), Integer.class))
                .bind("error", Parameter.fromOrEmpty(attempt.error(), String.class))
                .bind("latencyMs", attempt.latencyMs())
                .bind("eventType", Parameter.fromOrEmpty(attempt.eventType(), String.class))
                .bind("target", attempt.target())
                .bind("outcome", attempt.outcome().wire())
                .bind("responseBody", Parameter.fromOrEmpty(attempt.responseBody(), String.class))
                .bind("nextAttemptAt", Parameter.fromOrEmpty(attempt.nextAttemptAt(), Instant.class))
                .bind("replay", Boolean.TRUE.equals(attempt.replay()))
                .bind("attemptedAt", attempt.attemptedAt())
                .then()
                .timeout(WRITE_TIMEOUT)
                // The try happened whether or not its row is written; failing here would resend the event.
                .onErrorResume(error -> unlogged(attempt, error));
    }

    /** Deletes tries logged before {@code before}; completes with how many. */
    Mono<Long> purge(Instant before) {
        return database.sql("DELETE FROM webhook.delivery_attempts WHERE attempted_at < :before")
                .bind("before", before)
                .fetch().rowsUpdated();
    }

    private Mono<Void> unlogged(DeliveryAttempt attempt, Throwable error) {
        log.warn("try {} of event {} to {} {} not written to the delivery log: {}", attempt.attemptNo(),
                attempt.eventId(), attempt.target(), attempt.webhookId(), error.toString());
        metrics.unloggedAttempt();
        return Mono.empty();
    }
}
