package dev.dialer.common.contract;

import java.time.Instant;

/**
 * A webhook endpoint as api-service publishes it on the compacted {@code dialer.webhook.config} topic, keyed by
 * {@link #id()}; a tombstone (null value) deletes it. Carries the signing secrets, so the topic must be readable
 * only by the dialer's own services. Subscriptions share the topic under keys prefixed
 * {@value SubscriptionConfig#KEY_PREFIX} ({@link SubscriptionConfig}).
 *
 * @param id                      the webhook's id
 * @param accountId               the owning account
 * @param url                     where events are POSTed
 * @param description             the customer's label
 * @param secret                  {@code whsec_…} signing secret
 * @param enabled                 whether deliveries go out
 * @param updatedAt               when this version was written
 * @param previousSecret          during a secret rotation, the secret being replaced: deliveries carry a signature
 *                                with each secret until {@code previousSecretExpiresAt}
 * @param previousSecretExpiresAt when the previous secret stops being used
 * @param disabledReason          why the webhook is disabled, when it is ({@code gone}, {@code failing},
 *                                {@code customer})
 * @param enabledAt               when the webhook was last enabled: created enabled, or enabled again by the account;
 *                                null in records written before it was carried ({@link #enabledSince})
 */
public record WebhookConfig(
        String id,
        String accountId,
        String url,
        String description,
        String secret,
        boolean enabled,
        Instant updatedAt,
        String previousSecret,
        Instant previousSecretExpiresAt,
        String disabledReason,
        Instant enabledAt) {

    public WebhookConfig(String id, String accountId, String url, String description, String secret, boolean enabled,
                         Instant updatedAt, String previousSecret, Instant previousSecretExpiresAt,
                         String disabledReason) {
        this(id, accountId, url, description, secret, enabled, updatedAt, previousSecret, previousSecretExpiresAt,
                disabledReason, null);
    }

    public WebhookConfig(String id, String accountId, String url, String description, String secret, boolean enabled,
                         Instant updatedAt) {
        this(id, accountId, url, description, secret, enabled, updatedAt, null, null, null);
    }

    /**
     * Since when the webhook has been enabled, as far as this record tells: {@link #enabledAt}, or, in a record
     * written before that was carried, {@link #updatedAt} (any change then counted). A disable the dialer made before
     * that time was lifted by the account; one made after it stands, whatever else (a description) changed since.
     */
    public Instant enabledSince() {
        return enabledAt != null ? enabledAt : updatedAt;
    }

    /** The previous secret if it is still in use at {@code now}. */
    public String previousSecretAt(Instant now) {
        return previousSecret != null && previousSecretExpiresAt != null && now.isBefore(previousSecretExpiresAt)
                ? previousSecret : null;
    }
}
