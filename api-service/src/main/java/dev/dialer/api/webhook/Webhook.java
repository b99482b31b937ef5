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
 * @param enabledAt               when it was last enabled: created, or enabled again by its account; null for a
 *                                webhook stored before this was kept ({@link #enabledSince})
 */
record Webhook(String id, String accountId, String url, String description, String secret, boolean enabled,
               Instant createdAt, Instant updatedAt, String previousSecret, Instant previousSecretExpiresAt,
               String disabledReason, Instant enabledAt) {

    /** Disabled by the account itself through the API. */
    static final String DISABLED_BY_CUSTOMER = "customer";

    /** The form webhook-service reads from {@code dialer.webhook.config}. */
    WebhookConfig config() {
        return new WebhookConfig(id, accountId, url, description, secret, enabled, updatedAt, previousSecret,
                previousSecretExpiresAt, disabledReason, enabledAt);
    }

    /**
     * Since when it has been enabled: {@link #enabledAt}, or its last change for a webhook stored before that was
     * kept. A disable webhook-service observed before then is the account's to have lifted.
     */
    Instant enabledSince() {
        return config().enabledSince();
    }

    /** The previous secret's expiry while it is still signed with at {@code now}, else null. */
    Instant previousSecretAt(Instant now) {
        return config().previousSecretAt(now) == null ? null : previousSecretExpiresAt;
    }

    /** The webhook changed at {@code at}; enabled since then if it was disabled and is enabled now. */
    Webhook withChanges(String newUrl, String newDescription, boolean nowEnabled, String reason, Instant at) {
        return withChanges(newUrl, newDescription, nowEnabled, reason, at, false);
    }

    /**
     * The webhook changed at {@code at}; enabled since then if it was disabled and is enabled now, or if
     * {@code enabledAgain} (the account said so, whatever it showed).
     */
    Webhook withChanges(String newUrl, String newDescription, boolean nowEnabled, String reason, Instant at,
                        boolean enabledAgain) {
        boolean since = nowEnabled && (!enabled || enabledAgain);
        return new Webhook(id, accountId, newUrl, newDescription, secret, nowEnabled, createdAt, at, previousSecret,
                previousSecretExpiresAt, nowEnabled ? null : reason, since ? at : enabledAt);
    }

    Webhook rotated(String newSecret, Instant at, Instant previousExpiresAt) {
        return new Webhook(id, accountId, url, description, newSecret, enabled, createdAt, at, secret,
                previousExpiresAt, disabledReason, enabledAt);
    }
}
