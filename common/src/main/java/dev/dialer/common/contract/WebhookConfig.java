package dev.dialer.common.contract;

import java.time.Instant;

/**
 * A webhook endpoint as api-service publishes it on the compacted {@code dialer.webhook.config} topic, keyed by
 * {@link #id()}; a tombstone (null value) deletes it. Carries the signing secret, so the topic must be readable
 * only by the dialer's own services.
 *
 * @param id          the webhook's id
 * @param accountId   the owning account
 * @param url         where events are POSTed
 * @param description the customer's label
 * @param secret      {@code whsec_…} signing secret
 * @param enabled     whether deliveries go out
 * @param updatedAt   when this version was written
 */
public record WebhookConfig(
        String id,
        String accountId,
        String url,
        String description,
        String secret,
        boolean enabled,
        Instant updatedAt) {
}
