package dev.dialer.webhook.delivery;

import java.util.Map;
import reactor.core.publisher.Mono;

/** Sends one attempt to a webhook endpoint. */
interface WebhookTransport {

    /**
     * Sends {@code body} as JSON with the given method and headers; an empty body is not sent at all. Never errors:
     * a failure (no answer, timeout, bad URL) is described by the result.
     */
    Mono<AttemptResult> send(String method, String url, Map<String, String> headers, byte[] body);

    /** A JSON POST, as webhooks get. */
    default Mono<AttemptResult> post(String url, Map<String, String> headers, byte[] body) {
        return send("POST", url, headers, body);
    }
}
