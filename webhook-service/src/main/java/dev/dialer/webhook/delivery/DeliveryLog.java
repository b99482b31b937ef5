package dev.dialer.webhook.delivery;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.Parameter;
import reactor.core.publisher.Mono;

/** The delivery log in {@code webhook.delivery_attempts}: one row per HTTP attempt. */
final class DeliveryLog implements AttemptLog {

    private static final Logger log = LoggerFactory.getLogger(DeliveryLog.class);
    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(5);
    private static final String INSERT = """
            INSERT INTO webhook.delivery_attempts
                (event_id, webhook_id, account_id, attempt_no, status_code, error, latency_ms)
            VALUES (:eventId, :webhookId, :accountId, :attemptNo, :statusCode, :error, :latencyMs)""";

    private final DatabaseClient database;
    private final DeliveryMetrics metrics;

    DeliveryLog(DatabaseClient database, DeliveryMetrics metrics) {
        this.database = database;
        this.metrics = metrics;
    }

    @Override
    public Mono<Void> record(AttemptRecord attempt) {
        return database.sql(INSERT)
                .bind("eventId", attempt.eventId())
                .bind("webhookId", attempt.webhookId())
                .bind("accountId", attempt.accountId())
                .bind("attemptNo", attempt.attemptNo())
                .bind("statusCode", Parameter.fromOrEmpty(attempt.statusCode(), Integer.class))
                .bind("error", Parameter.fromOrEmpty(attempt.error(), String.class))
                .bind("latencyMs", attempt.latencyMs())
                .then()
                .timeout(WRITE_TIMEOUT)
                // The attempt happened whether or not its row is written; failing here would resend the event.
                .onErrorResume(error -> unlogged(attempt, error));
    }

    private Mono<Void> unlogged(AttemptRecord attempt, Throwable error) {
        log.warn("attempt {} of event {} to webhook {} not written to the delivery log: {}", attempt.attemptNo(),
                attempt.eventId(), attempt.webhookId(), error.toString());
        metrics.unloggedAttempt();
        return Mono.empty();
    }
}
