package dev.dialer.api.subscription;

import dev.dialer.common.contract.SubscriptionConfig;
import java.time.Instant;
import java.util.List;

/** A subscription as stored in {@code api.subscriptions}. */
record Subscription(String id, String accountId, String webhookId, List<String> eventTypes, boolean enabled,
                    Instant createdAt, Instant updatedAt) {

    /** The form webhook-service reads from {@code dialer.webhook.config}, keyed {@code subscription:<id>}. */
    SubscriptionConfig config() {
        return new SubscriptionConfig(SubscriptionConfig.KIND, id, accountId, webhookId, eventTypes, enabled,
                updatedAt);
    }
}
