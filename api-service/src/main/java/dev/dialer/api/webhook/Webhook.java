package dev.dialer.api.webhook;

import dev.dialer.common.contract.WebhookConfig;
import java.time.Instant;

/**
 * A webhook endpoint as stored in {@code api.webhooks}.
 *
 * @param previousSecret          the secret a rotation replaced, still signed with until
 *                                {@code previousSecretExpiresAt}
 * @param disabledReason          why it is disabled ({@code customer}, {@code gone}, {@code failing}); null when
 *                                enabled
 */
record Webhook(String id, String accountId, String url, String description, String secret, boolean enabled,
               Instant createdAt, Instant updatedAt, String previousSecret, Instant previousSecretExpiresAt,
               String disabledReason) {

    /** Disabled by the account itself through the API. */
    static final String DISABLED_BY_CUSTOMER = "customer";

    /** The form webhook-service reads from {@code dialer.webhook.config}. */
    WebhookConfig config() {
        return new WebhookConfig(id, accountId, url, description, secret, enabled, updatedAt, previousSecret,
                previousSecretExpiresAt, disabledReason);
    }

    /** The previous secret's expiry while it is still signed with at {@code now}, else null. */
    Instant previousSecretAt(Instant now) {
        return config().previousSecretAt(now) == null ? null : previousSecretExpiresAt;
    }

    Webhook withChanges(String newUrl, String newDescription, boolean nowEnabled, String reason, Instant at) {
        return new Webhook(id, accountId, newUrl, newDescription, secret, nowEnabled, createdAt, at, previousSecret,
                previousSecretExpiresAt, nowEnabled ? null : reason);
    }

    Webhook rotated(String newSecret, Instant at, Instant previousExpiresAt) {
        return new Webhook(id, accountId, url, description, newSecret, enabled, createdAt, at, secret,
                previousExpiresAt, disabledReason);
    }
}
