package dev.dialer.api.delivery;

import io.r2dbc.spi.Readable;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The delivery log in {@code api.webhook_deliveries}: written by the consumer, read per webhook and account, pruned
 * by age (a deleted webhook's attempts too: nobody can read them, decision 0057).
 */
@Repository
class DeliveryLogRepository {

    private final DatabaseClient db;

    DeliveryLogRepository(DatabaseClient db) {
        this.db = db;
    }

    /** Stores the attempt unless its id is already there; answers whether it was new. */
    Mono<Boolean> insert(DeliveryRecord attempt) {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("attempt_id", attempt.attemptId());
        values.put("account_id", attempt.accountId());
        values.put("webhook_id", attempt.webhookId());
        values.put("event_id", attempt.eventId());
        values.put("event_type", attempt.eventType());
        values.put("target", attempt.target());
        values.put("request_id", attempt.requestId());
        values.put("attempt_no", attempt.attemptNo());
        values.put("outcome", attempt.outcome());
        values.put("status_code", attempt.statusCode());
        values.put("error", attempt.error());
        values.put("response_body", attempt.responseBody());
        values.put("latency_ms", attempt.latencyMs());
        values.put("next_attempt_at", time(attempt.nextAttemptAt()));
        values.put("endpoint_disabled", attempt.endpointDisabled());
        values.put("replay", attempt.replay());
        values.put("attempted_at", time(attempt.attemptedAt()));
        String columns = String.join(", ", values.keySet());
        String parameters = ":" + String.join(", :", values.keySet());
        DatabaseClient.GenericExecuteSpec insert = db.sql("INSERT INTO api.webhook_deliveries (" + columns
                + ") VALUES (" + parameters + ") ON CONFLICT (attempt_id) DO NOTHING");
        for (Map.Entry<String, Object> value : values.entrySet()) {
            insert = value.getValue() == null ? insert.bindNull(value.getKey(), typeOf(value.getKey()))
                    : insert.bind(value.getKey(), value.getValue());
        }
        return insert.fetch().rowsUpdated().map(rows -> rows > 0);
    }

    /**
     * A page of one webhook's attempts, newest first, after the cursor position; {@code limit + 1} rows are read so
     * the caller knows whether there is a next page.
     */
    Flux<DeliveryRecord> page(String accountId, String webhookId, DeliveryQuery query) {
        StringBuilder sql = new StringBuilder("""
                SELECT * FROM api.webhook_deliveries WHERE webhook_id = :webhook AND account_id = :account""");
        if (query.eventId() != null) {
            sql.append(" AND event_id = :event");
        }
        if (query.outcome() != null) {
            sql.append(" AND outcome = :outcome");
        }
        if (query.after() != null) {
            sql.append(" AND (attempted_at, attempt_id) < (:cursorAt, :cursorId)");
        }
        sql.append(" ORDER BY attempted_at DESC, attempt_id DESC LIMIT :limit");
        DatabaseClient.GenericExecuteSpec select = db.sql(sql.toString())
                .bind("webhook", webhookId)
                .bind("account", accountId)
                .bind("limit", query.limit() + 1);
        if (query.eventId() != null) {
            select = select.bind("event", query.eventId());
        }
        if (query.outcome() != null) {
            select = select.bind("outcome", query.outcome());
        }
        if (query.after() != null) {
            select = select.bind("cursorAt", time(query.after().attemptedAt()))
                    .bind("cursorId", query.after().attemptId());
        }
        return select.map(DeliveryLogRepository::attempt).all();
    }

    /**
     * Deletes at most {@code batch} attempts made before {@code cutoff}; answers how many. Rows another instance is
     * deleting at the same time are skipped, not waited for.
     */
    Mono<Long> pruneBefore(Instant cutoff, int batch) {
        return db.sql("""
                        DELETE FROM api.webhook_deliveries WHERE attempt_id IN (
                            SELECT attempt_id FROM api.webhook_deliveries WHERE attempted_at < :cutoff
                            LIMIT :batch FOR UPDATE SKIP LOCKED)""")
                .bind("cutoff", time(cutoff))
                .bind("batch", batch)
                .fetch().rowsUpdated();
    }

    private static DeliveryRecord attempt(Readable row) {
        Number latency = row.get("latency_ms", Number.class);
        Number attemptNo = row.get("attempt_no", Number.class);
        return new DeliveryRecord(row.get("attempt_id", String.class), row.get("account_id", String.class),
                row.get("webhook_id", String.class), row.get("event_id", String.class),
                row.get("event_type", String.class), row.get("target", String.class),
                row.get("request_id", String.class), attemptNo == null ? 0 : attemptNo.intValue(),
                row.get("outcome", String.class), row.get("status_code", Integer.class),
                row.get("error", String.class), row.get("response_body", String.class),
                latency == null ? 0 : latency.longValue(),
                instant(row.get("next_attempt_at", OffsetDateTime.class)),
                Boolean.TRUE.equals(row.get("endpoint_disabled", Boolean.class)),
                Boolean.TRUE.equals(row.get("replay", Boolean.class)),
                instant(row.get("attempted_at", OffsetDateTime.class)));
    }

    private static Class<?> typeOf(String column) {
        return switch (column) {
            case "status_code", "attempt_no" -> Integer.class;
            case "latency_ms" -> Long.class;
            case "next_attempt_at", "attempted_at" -> OffsetDateTime.class;
            case "endpoint_disabled", "replay" -> Boolean.class;
            default -> String.class;
        };
    }

    private static OffsetDateTime time(Instant instant) {
        return instant == null ? null : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    private static Instant instant(OffsetDateTime time) {
        return time == null ? null : time.toInstant();
    }
}
