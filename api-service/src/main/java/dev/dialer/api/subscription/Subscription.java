package dev.dialer.api.subscription;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
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

    /** Its config as published on {@code dialer.webhook.config}. */
    OutboundRecord record() {
        SubscriptionConfig config = config();
        return OutboundRecord.of(Topics.WEBHOOK_CONFIG, config.key(), Contract.toBytes(config));
    }

    /** The tombstone of subscription {@code id}: webhook-service forgets it. */
    static OutboundRecord tombstone(String id) {
        return new OutboundRecord(Topics.WEBHOOK_CONFIG, SubscriptionConfig.key(id), null, null);
    }
}
