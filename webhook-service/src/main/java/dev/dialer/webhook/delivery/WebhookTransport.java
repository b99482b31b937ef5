package dev.dialer.webhook.delivery;

import java.util.Map;
import reactor.core.publisher.Mono;

/** Sends one attempt to a webhook endpoint. */
interface WebhookTransport {

    /**
     * POSTs {@code body} as JSON with the given headers. Never errors: a failure (no answer, timeout, bad URL) is
     * described by the result.
     */
    Mono<AttemptResult> post(String url, Map<String, String> headers, byte[] body);
}
