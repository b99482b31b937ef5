package dev.dialer.api.webhook;

import reactor.core.publisher.Mono;

/** Answers whether a webhook id names one of an account's webhooks (send requests may reference one). */
public interface WebhookDirectory {

    Mono<Boolean> belongsTo(String webhookId, String accountId);
}
