package dev.dialer.webhook.delivery;

import java.time.Instant;
import java.util.List;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Events as received ({@code webhook.events}), kept for their retention so that a replay can deliver them again.
 * Writing one twice (a redelivered record) keeps the first.
 */
final class EventStore {

    /** A kept event. */
    record StoredEvent(String eventId, String accountId, String eventType, Instant occurredAt, byte[] payload) {
    }

    private final DatabaseClient database;

    EventStore(DatabaseClient database) {
        this.database = database;
    }

    Mono<Void> keep(StoredEvent event) {
        return database.sql("""
                        INSERT INTO webhook.events (event_id, account_id, event_type, occurred_at, payload)
                        VALUES (:eventId, :accountId, :eventType, :occurredAt, :payload)
                        ON CONFLICT (event_id) DO NOTHING""")
                .bind("eventId", event.eventId())
                .bind("accountId", event.accountId())
                .bind("eventType", event.eventType())
                .bind("occurredAt", event.occurredAt())
                .bind("payload", event.payload())
                .then();
    }

    /** The account's events with these ids (another account's are not found). */
    Flux<StoredEvent> byIds(String accountId, List<String> eventIds) {
        return database.sql("""
                        SELECT * FROM webhook.events WHERE account_id = :accountId AND event_id = ANY(:ids)
                        ORDER BY occurred_at""")
                .bind("accountId", accountId)
                .bind("ids", eventIds.toArray(String[]::new))
                .map(EventStore::event)
                .all();
    }

    /** The account's events that occurred in [from, to). */
    Flux<StoredEvent> between(String accountId, Instant from, Instant to) {
        return database.sql("""
                        SELECT * FROM webhook.events
                        WHERE account_id = :accountId AND occurred_at >= :from AND occurred_at < :to
                        ORDER BY occurred_at""")
                .bind("accountId", accountId)
                .bind("from", from)
                .bind("to", to)
                .map(EventStore::event)
                .all();
    }

    Mono<Long> purge(Instant before) {
        return database.sql("DELETE FROM webhook.events WHERE received_at < :before").bind("before", before)
                .fetch().rowsUpdated();
    }

    private static StoredEvent event(io.r2dbc.spi.Readable row) {
        Object payload = row.get("payload");
        byte[] bytes;
        if (payload instanceof java.nio.ByteBuffer buffer) {
            bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
        } else {
            bytes = (byte[]) payload;
        }
        return new StoredEvent(row.get("event_id", String.class), row.get("account_id", String.class),
                row.get("event_type", String.class), row.get("occurred_at", Instant.class), bytes);
    }
}
