package dev.dialer.api.webhook;

import reactor.core.publisher.Flux;

/**
 * The subscriptions that deliver to a webhook, removed with it. Called inside the transaction that deletes the
 * webhook, so the rows go (or stay) together with it.
 */
public interface WebhookSubscriptions {

    /** Deletes the webhook's subscriptions and answers their ids, so their tombstones can be published. */
    Flux<String> removeAllOf(String accountId, String webhookId);
}
