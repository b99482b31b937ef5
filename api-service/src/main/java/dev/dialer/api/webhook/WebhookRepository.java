package dev.dialer.api.webhook;

import io.r2dbc.spi.Readable;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Webhooks in {@code api.webhooks}; every lookup is scoped to the owning account. */
@Repository
class WebhookRepository implements WebhookDirectory {

    private static final String COLUMNS = """
            id, account_id, url, description, secret, enabled, created_at, updated_at, previous_secret,
            previous_secret_expires_at, disabled_reason, enabled_at""";

    private final DatabaseClient db;

    WebhookRepository(DatabaseClient db) {
        this.db = db;
    }

    Mono<Void> insert(Webhook webhook) {
        DatabaseClient.GenericExecuteSpec insert = db.sql("""
                        INSERT INTO api.webhooks (id, account_id, url, description, secret, enabled, created_at,
                            updated_at, enabled_at)
                        VALUES (:id, :account, :url, :description, :secret, :enabled, :created, :updated,
                            :enabledAt)""")
                .bind("id", webhook.id())
                .bind("account", webhook.accountId())
                .bind("url", webhook.url())
                .bind("secret", webhook.secret())
                .bind("enabled", webhook.enabled())
                .bind("created", time(webhook.createdAt()))
                .bind("updated", time(webhook.updatedAt()));
        insert = bindTime(insert, "enabledAt", webhook.enabledAt());
        return bindNullable(insert, "description", webhook.description()).then();
    }

    /** Writes every mutable column of an existing webhook. */
    Mono<Void> update(Webhook webhook) {
        DatabaseClient.GenericExecuteSpec update = db.sql("""
                        UPDATE api.webhooks SET url = :url, description = :description, secret = :secret,
                            enabled = :enabled, updated_at = :updated, previous_secret = :previous,
                            previous_secret_expires_at = :previousExpires, disabled_reason = :reason,
                            enabled_at = :enabledAt
                        WHERE id = :id AND account_id = :account""")
                .bind("id", webhook.id())
                .bind("account", webhook.accountId())
                .bind("url", webhook.url())
                .bind("secret", webhook.secret())
                .bind("enabled", webhook.enabled())
                .bind("updated", time(webhook.updatedAt()));
        update = bindNullable(update, "description", webhook.description());
        update = bindNullable(update, "previous", webhook.previousSecret());
        update = bindNullable(update, "reason", webhook.disabledReason());
        update = bindTime(update, "previousExpires", webhook.previousSecretExpiresAt());
        update = bindTime(update, "enabledAt", webhook.enabledAt());
        return update.then();
    }

    Mono<Webhook> find(String accountId, String id) {
        return db.sql("SELECT " + COLUMNS + " FROM api.webhooks WHERE id = :id AND account_id = :account")
                .bind("id", id)
                .bind("account", accountId)
                .map(WebhookRepository::webhook)
                .one();
    }

    /** The account's webhook, locked until the surrounding transaction ends (changes are read-modify-write). */
    Mono<Webhook> lock(String accountId, String id) {
        return db.sql("SELECT " + COLUMNS + " FROM api.webhooks WHERE id = :id AND account_id = :account FOR UPDATE")
                .bind("id", id)
                .bind("account", accountId)
                .map(WebhookRepository::webhook)
                .one();
    }

    /** A webhook by id alone, locked: for changes that come from the dialer itself rather than a request. */
    Mono<Webhook> lock(String id) {
        return db.sql("SELECT " + COLUMNS + " FROM api.webhooks WHERE id = :id FOR UPDATE")
                .bind("id", id)
                .map(WebhookRepository::webhook)
                .one();
    }

    /** The account's webhooks, oldest first. */
    Flux<Webhook> list(String accountId) {
        return db.sql("SELECT " + COLUMNS + " FROM api.webhooks WHERE account_id = :account ORDER BY created_at, id")
                .bind("account", accountId)
                .map(WebhookRepository::webhook)
                .all();
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

    private static Webhook webhook(Readable row) {
        return new Webhook(row.get("id", String.class), row.get("account_id", String.class),
                row.get("url", String.class), row.get("description", String.class),
                row.get("secret", String.class), Boolean.TRUE.equals(row.get("enabled", Boolean.class)),
                instant(row.get("created_at", OffsetDateTime.class)),
                instant(row.get("updated_at", OffsetDateTime.class)),
                row.get("previous_secret", String.class),
                instant(row.get("previous_secret_expires_at", OffsetDateTime.class)),
                row.get("disabled_reason", String.class),
                instant(row.get("enabled_at", OffsetDateTime.class)));
    }

    private static DatabaseClient.GenericExecuteSpec bindTime(DatabaseClient.GenericExecuteSpec spec, String name,
                                                              Instant value) {
        return value == null ? spec.bindNull(name, OffsetDateTime.class) : spec.bind(name, time(value));
    }

    private static DatabaseClient.GenericExecuteSpec bindNullable(DatabaseClient.GenericExecuteSpec spec, String name,
                                                                  String value) {
        return value == null ? spec.bindNull(name, String.class) : spec.bind(name, value);
    }

    private static OffsetDateTime time(Instant instant) {
        return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    private static Instant instant(OffsetDateTime time) {
        return time == null ? null : time.toInstant();
    }
}
