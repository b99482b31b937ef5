package dev.dialer.api.webhook;

import dev.dialer.common.contract.WebhookConfig;
import java.time.Instant;

/** A webhook endpoint as stored in {@code api.webhooks}. */
record Webhook(String id, String accountId, String url, String description, String secret, boolean enabled,
               Instant createdAt, Instant updatedAt) {

    /** The form webhook-service reads from {@code dialer.webhook.config}. */
    WebhookConfig config() {
        return new WebhookConfig(id, accountId, url, description, secret, enabled, updatedAt);
    }
}
