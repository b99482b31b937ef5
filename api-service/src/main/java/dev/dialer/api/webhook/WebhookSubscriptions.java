package dev.dialer.api.webhook;

import dev.dialer.common.kafka.OutboundRecord;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The subscriptions that deliver to a webhook, removed with it. Called inside the transaction that deletes the
 * webhook, so the rows go (or stay) together with it.
 */
public interface WebhookSubscriptions {

    /** Deletes the webhook's subscriptions and answers their ids, so their tombstones can be published. */
    Flux<String> removeAllOf(String accountId, String webhookId);

    /**
     * The committed state of the account's subscriptions {@code ids}, as records for {@code dialer.webhook.config}:
     * each one's config, or its tombstone when it is gone. Their rows are locked until the surrounding transaction
     * ends, so no change of them is published meanwhile. For a delete that failed after its tombstones were handed to
     * Kafka: published again after them.
     */
    Mono<List<OutboundRecord>> committed(String accountId, List<String> ids);

    /**
     * As {@link #committed(String, List)}, for the subscriptions that deliver to the webhook now: after a delete that
     * failed, the ones it had tombstoned (decision 0129), read again from the webhook's id alone.
     */
    Mono<List<OutboundRecord>> committedOf(String accountId, String webhookId);
}
