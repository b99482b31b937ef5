package dev.dialer.api.webhook;

import java.time.Instant;
import java.time.OffsetDateTime;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/** Webhooks in the {@code api} schema; every read is scoped to the account (another account's webhook is absent). */
@Component
public class Webhooks {

    private final DatabaseClient db;

    Webhooks(DatabaseClient db) {
        this.db = db;
    }

    /** A stored webhook. */
    public record Stored(String id, String accountId, String url, String description, String secret, boolean enabled,
                         Instant createdAt) {
    }

    Mono<Void> insert(Stored webhook) {
        DatabaseClient.GenericExecuteSpec spec = db.sql("""
                        INSERT INTO api.webhooks (id, account_id, url, description, secret, enabled, created_at, updated_at)
                        VALUES (:id, :account, :url, :description, :secret, :enabled, :created, :created)""")
                .bind("id", webhook.id()).bind("account", webhook.accountId()).bind("url", webhook.url())
                .bind("secret", webhook.secret()).bind("enabled", webhook.enabled())
                .bind("created", webhook.createdAt().atOffset(java.time.ZoneOffset.UTC));
        spec = webhook.description() == null ? spec.bindNull("description", String.class)
                : spec.bind("description", webhook.description());
        return spec.fetch().rowsUpdated().then();
    }

    /** The account's webhook, or empty when it does not exist or belongs to someone else. */
    public Mono<Stored> find(String accountId, String id) {
        return db.sql("""
                        SELECT id, account_id, url, description, secret, enabled, created_at FROM api.webhooks
                        WHERE id = :id AND account_id = :account""")
                .bind("id", id).bind("account", accountId)
                .map((row, meta) -> new Stored(row.get("id", String.class), row.get("account_id", String.class),
                        row.get("url", String.class), row.get("description", String.class),
                        row.get("secret", String.class), Boolean.TRUE.equals(row.get("enabled", Boolean.class)),
                        row.get("created_at", OffsetDateTime.class).toInstant()))
                .one();
    }
}
