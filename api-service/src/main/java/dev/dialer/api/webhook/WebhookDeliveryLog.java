package dev.dialer.api.webhook;

import reactor.core.publisher.Mono;

/**
 * The delivery log of a webhook, removed with it. Called inside the transaction that deletes the webhook, so the
 * rows go (or stay) together with it.
 */
public interface WebhookDeliveryLog {

    /** Deletes every logged attempt to the webhook; answers how many. */
    Mono<Long> removeAllOf(String webhookId);
}
