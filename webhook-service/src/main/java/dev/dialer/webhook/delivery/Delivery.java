package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.WebhookConfig;

/**
 * One event on its way to one webhook.
 *
 * @param eventId   the event's id: the {@code webhook-id} header, the same on every attempt
 * @param webhookId the webhook's id
 * @param accountId the account both belong to
 * @param url       where the event is POSTed
 * @param secret    the webhook's {@code whsec_} signing secret
 * @param body      the event exactly as it was on the topic
 */
record Delivery(String eventId, String webhookId, String accountId, String url, String secret, byte[] body) {

    static Delivery of(CallEvent event, WebhookConfig webhook, byte[] body) {
        return new Delivery(event.eventId(), webhook.id() == null ? event.webhookId() : webhook.id(),
                event.accountId(), webhook.url(), webhook.secret(), body);
    }

    AttemptRecord attempt(int number, AttemptResult result) {
        return new AttemptRecord(eventId, webhookId, accountId, number, result.statusCode(), result.error(),
                result.latency().toMillis());
    }
}
