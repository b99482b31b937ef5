package dev.dialer.api.webhook;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import reactor.core.publisher.Mono;

/** Webhooks in {@code api.webhooks}; every lookup is scoped to the owning account. */
@Repository
class WebhookRepository implements WebhookDirectory {

    private final DatabaseClient db;

    WebhookRepository(DatabaseClient db) {
        this.db = db;
    }

    Mono<Void> insert(Webhook webhook) {
        DatabaseClient.GenericExecuteSpec insert = db.sql("""
                        INSERT INTO api.webhooks (id, account_id, url, description, secret, enabled, created_at, updated_at)
                        VALUES (:id, :account, :url, :description, :secret, :enabled, :created, :updated)""")
                .bind("id", webhook.id())
                .bind("account", webhook.accountId())
                .bind("url", webhook.url())
                .bind("secret", webhook.secret())
                .bind("enabled", webhook.enabled())
                .bind("created", OffsetDateTime.ofInstant(webhook.createdAt(), ZoneOffset.UTC))
                .bind("updated", OffsetDateTime.ofInstant(webhook.updatedAt(), ZoneOffset.UTC));
        insert = webhook.description() == null ? insert.bindNull("description", String.class)
                : insert.bind("description", webhook.description());
        return insert.then();
    }

    Mono<Webhook> find(String accountId, String id) {
        return db.sql("""
                        SELECT id, account_id, url, description, secret, enabled, created_at, updated_at
                        FROM api.webhooks WHERE id = :id AND account_id = :account""")
                .bind("id", id)
                .bind("account", accountId)
                .map((row, meta) -> new Webhook(row.get("id", String.class), row.get("account_id", String.class),
                        row.get("url", String.class), row.get("description", String.class),
                        row.get("secret", String.class), Boolean.TRUE.equals(row.get("enabled", Boolean.class)),
                        instant(row.get("created_at", OffsetDateTime.class)),
                        instant(row.get("updated_at", OffsetDateTime.class))))
                .one();
    }

    /** Whether the account's webhook existed and is now gone. */
    Mono<Boolean> delete(String accountId, String id) {
        return db.sql("DELETE FROM api.webhooks WHERE id = :id AND account_id = :account")
                .bind("id", id)
                .bind("account", accountId)
                .fetch().rowsUpdated()
                .map(rows -> rows > 0);
    }

    @Override
    public Mono<Boolean> belongsTo(String webhookId, String accountId) {
        return db.sql("SELECT 1 FROM api.webhooks WHERE id = :id AND account_id = :account")
                .bind("id", webhookId)
                .bind("account", accountId)
                .map((row, meta) -> Boolean.TRUE)
                .one()
                .defaultIfEmpty(Boolean.FALSE);
    }

    private static Instant instant(OffsetDateTime time) {
        return time == null ? null : time.toInstant();
    }
}
