package dev.dialer.common.contract;

import java.time.Instant;
import java.util.List;

/**
 * An account's subscription of one webhook to event types, so requests need not name a {@code webhook_id}: published
 * by api-service on the compacted {@code dialer.webhook.config} topic keyed by {@link #key()} (webhooks themselves
 * are keyed by their bare id, see {@link WebhookConfig}); a tombstone deletes it. Its JSON Schema is
 * {@code schemas/subscription-config.v1.json}.
 *
 * @param kind       always {@value #KIND}: tells it apart from a {@link WebhookConfig} on the same topic
 * @param id         the subscription's id
 * @param accountId  the owning account
 * @param webhookId  the webhook (of the same account) that receives the events
 * @param eventTypes the event types delivered: {@code call.status}, {@code call.deferred}, {@code call.final},
 *                   {@code webhook.disabled}
 * @param enabled    whether the subscription is active
 * @param updatedAt  when this version was written
 */
public record SubscriptionConfig(
        String kind,
        String id,
        String accountId,
        String webhookId,
        List<String> eventTypes,
        boolean enabled,
        Instant updatedAt) {

    public static final String KIND = "subscription";
    /** Key prefix of subscriptions on {@code dialer.webhook.config}. */
    public static final String KEY_PREFIX = "subscription:";
    /** The event webhook-service emits when it disables an endpoint. */
    public static final String WEBHOOK_DISABLED = "webhook.disabled";

    public SubscriptionConfig {
        kind = KIND;
        eventTypes = eventTypes == null ? List.of() : List.copyOf(eventTypes);
    }

    public String key() {
        return key(id);
    }

    public static String key(String id) {
        return KEY_PREFIX + id;
    }

    /** Whether a record key of {@code dialer.webhook.config} names a subscription rather than a webhook. */
    public static boolean isSubscriptionKey(String key) {
        return key != null && key.startsWith(KEY_PREFIX);
    }
}
