package dev.dialer.webhook.delivery;

import java.time.Instant;
import java.util.List;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Events as received ({@code webhook.events}), kept for their retention so that a replay can deliver them again.
 * Writing one twice (a redelivered record) keeps the first. Keeping an event fails as PostgreSQL being away does when
 * it has no answer within {@link RetryStore#STATEMENT_TIMEOUT}, and so does reading a replay's page when the next of
 * its events takes as long.
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
                .then()
                .timeout(RetryStore.STATEMENT_TIMEOUT);
    }

    /** Where a page of events ends: the next page starts after this event in (occurred_at, event_id) order. */
    record Position(Instant occurredAt, String eventId) {

        static Position of(StoredEvent event) {
            return new Position(event.occurredAt(), event.eventId());
        }
    }

    /**
     * Up to {@code limit} of the account's events with these ids (another account's are not found), after
     * {@code after} (null: from the first) in occurrence order.
     */
    Flux<StoredEvent> byIds(String accountId, List<String> eventIds, Position after, int limit) {
        return page("event_id = ANY(:ids)", accountId, after, limit)
                .bind("ids", eventIds.toArray(String[]::new))
                .map(EventStore::event)
                .all()
                .timeout(RetryStore.STATEMENT_TIMEOUT);
    }

    /**
     * Up to {@code limit} of the account's events that occurred in [from, to), after {@code after} (null: from the
     * first) in occurrence order.
     */
    Flux<StoredEvent> between(String accountId, Instant from, Instant to, Position after, int limit) {
        return page("occurred_at >= :from AND occurred_at < :to", accountId, after, limit)
                .bind("from", from)
                .bind("to", to)
                .map(EventStore::event)
                .all()
                .timeout(RetryStore.STATEMENT_TIMEOUT);
    }

    /**
     * Keyset paging in (occurred_at, event_id) order, a total order: the event id breaks ties between events that
     * occurred at the same instant, so a page boundary between them neither repeats nor skips one. The first
     * condition on occurred_at alone lets the (account_id, occurred_at) index find where the page starts.
     */
    private DatabaseClient.GenericExecuteSpec page(String chosen, String accountId, Position after, int limit) {
        String keyset = after == null ? ""
                : " AND occurred_at >= :afterAt AND (occurred_at > :afterAt OR event_id > :afterId)";
        DatabaseClient.GenericExecuteSpec spec = database.sql("SELECT * FROM webhook.events"
                        + " WHERE account_id = :accountId AND " + chosen + keyset
                        + " ORDER BY occurred_at, event_id LIMIT :limit")
                .bind("accountId", accountId)
                .bind("limit", limit);
        return after == null ? spec : spec.bind("afterAt", after.occurredAt()).bind("afterId", after.eventId());
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
