package dev.dialer.api.webhook;

import java.time.Instant;
import reactor.core.publisher.Mono;

/** Disables a webhook on the dialer's own initiative (webhook-service found the endpoint gone or failing). */
public interface WebhookDisabler {

    /**
     * Disables the account's webhook unless it changed after {@code observedAt} (a customer who re-enabled it since
     * keeps it enabled) or is already disabled; answers whether it did. Idempotent: called again for one observation,
     * it changes nothing.
     *
     * @param reason what webhook-service observed: {@code gone} or {@code failing}
     */
    Mono<Boolean> disable(String accountId, String webhookId, String reason, Instant observedAt);
}
