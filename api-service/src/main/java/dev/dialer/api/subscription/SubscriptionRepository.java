package dev.dialer.api.subscription;

import dev.dialer.api.webhook.WebhookSubscriptions;
import dev.dialer.common.kafka.OutboundRecord;
import io.r2dbc.spi.Readable;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Subscriptions in {@code api.subscriptions}; every lookup is scoped to the owning account. */
@Repository
class SubscriptionRepository implements WebhookSubscriptions {

    private static final String COLUMNS = "id, account_id, webhook_id, event_types, enabled, created_at, updated_at";

    private final DatabaseClient db;

    SubscriptionRepository(DatabaseClient db) {
        this.db = db;
    }

    Mono<Void> insert(Subscription subscription) {
        return db.sql("""
                        INSERT INTO api.subscriptions (id, account_id, webhook_id, event_types, enabled, created_at,
                            updated_at)
                        VALUES (:id, :account, :webhook, :types, :enabled, :created, :updated)""")
                .bind("id", subscription.id())
                .bind("account", subscription.accountId())
                .bind("webhook", subscription.webhookId())
                .bind("types", subscription.eventTypes().toArray(String[]::new))
                .bind("enabled", subscription.enabled())
                .bind("created", time(subscription.createdAt()))
                .bind("updated", time(subscription.updatedAt()))
                .then();
    }

    Mono<Void> update(Subscription subscription) {
        return db.sql("""
                        UPDATE api.subscriptions SET webhook_id = :webhook, event_types = :types, enabled = :enabled,
                            updated_at = :updated
                        WHERE id = :id AND account_id = :account""")
                .bind("id", subscription.id())
                .bind("account", subscription.accountId())
                .bind("webhook", subscription.webhookId())
                .bind("types", subscription.eventTypes().toArray(String[]::new))
                .bind("enabled", subscription.enabled())
                .bind("updated", time(subscription.updatedAt()))
                .then();
    }

    Mono<Subscription> find(String accountId, String id) {
        return db.sql("SELECT " + COLUMNS + " FROM api.subscriptions WHERE id = :id AND account_id = :account")
                .bind("id", id)
                .bind("account", accountId)
                .map(SubscriptionRepository::subscription)
                .one();
    }

    /** Locked until the surrounding transaction ends: changes are read-modify-write. */
    Mono<Subscription> lock(String accountId, String id) {
        return db.sql("SELECT " + COLUMNS
                        + " FROM api.subscriptions WHERE id = :id AND account_id = :account FOR UPDATE")
                .bind("id", id)
                .bind("account", accountId)
                .map(SubscriptionRepository::subscription)
                .one();
    }

    /** A subscription by id alone, whichever account has it, locked until the surrounding transaction ends. */
    Mono<Subscription> lock(String id) {
        return db.sql("SELECT " + COLUMNS + " FROM api.subscriptions WHERE id = :id FOR UPDATE")
                .bind("id", id)
                .map(SubscriptionRepository::subscription)
                .one();
    }

    /** The account's subscriptions, oldest first, optionally only those of one webhook. */
    Flux<Subscription> list(String accountId, String webhookId) {
        DatabaseClient.GenericExecuteSpec query = db.sql("SELECT " + COLUMNS + """
                         FROM api.subscriptions
                        WHERE account_id = :account AND (CAST(:webhook AS text) IS NULL OR webhook_id = :webhook)
                        ORDER BY created_at, id""")
                .bind("account", accountId);
        query = webhookId == null ? query.bindNull("webhook", String.class) : query.bind("webhook", webhookId);
        return query.map(SubscriptionRepository::subscription).all();
    }

    Mono<Boolean> delete(String accountId, String id) {
        return db.sql("DELETE FROM api.subscriptions WHERE id = :id AND account_id = :account")
                .bind("id", id)
                .bind("account", accountId)
                .fetch().rowsUpdated()
                .map(rows -> rows > 0);
    }

    @Override
    public Flux<String> removeAllOf(String accountId, String webhookId) {
        return db.sql("DELETE FROM api.subscriptions WHERE account_id = :account AND webhook_id = :webhook RETURNING id")
                .bind("account", accountId)
                .bind("webhook", webhookId)
                .map(row -> row.get("id", String.class))
                .all();
    }

    @Override
    public Mono<List<OutboundRecord>> committed(String accountId, List<String> ids) {
        if (ids.isEmpty()) {
            return Mono.just(List.of());
        }
        return db.sql("SELECT " + COLUMNS + """
                         FROM api.subscriptions WHERE account_id = :account AND id = ANY(:ids)
                        ORDER BY id FOR UPDATE""")
                .bind("account", accountId)
                .bind("ids", ids.toArray(String[]::new))
                .map(SubscriptionRepository::subscription)
                .all()
                .collectMap(Subscription::id, Function.identity())
                .map(found -> records(ids, found));
    }

    @Override
    public Mono<List<OutboundRecord>> committedOf(String accountId, String webhookId) {
        return db.sql("SELECT " + COLUMNS + """
                         FROM api.subscriptions WHERE account_id = :account AND webhook_id = :webhook
                        ORDER BY id FOR UPDATE""")
                .bind("account", accountId)
                .bind("webhook", webhookId)
                .map(SubscriptionRepository::subscription)
                .all()
                .map(Subscription::record)
                .collectList();
    }

    /** Each id's config in {@code found}, or its tombstone. */
    private static List<OutboundRecord> records(List<String> ids, Map<String, Subscription> found) {
        return ids.stream()
                .map(id -> found.containsKey(id) ? found.get(id).record() : Subscription.tombstone(id))
                .toList();
    }

    private static Subscription subscription(Readable row) {
        String[] types = row.get("event_types", String[].class);
        return new Subscription(row.get("id", String.class), row.get("account_id", String.class),
                row.get("webhook_id", String.class), types == null ? List.of() : List.of(types),
                Boolean.TRUE.equals(row.get("enabled", Boolean.class)),
                instant(row.get("created_at", OffsetDateTime.class)),
                instant(row.get("updated_at", OffsetDateTime.class)));
    }

    private static OffsetDateTime time(Instant instant) {
        return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    private static Instant instant(OffsetDateTime time) {
        return time == null ? null : time.toInstant();
    }
}
