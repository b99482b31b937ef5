package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.CallEvent;
import java.time.Instant;

/**
 * One event on its way to one target.
 *
 * @param eventId   the event's id: the {@code webhook-id} header, the same on every attempt
 * @param target    where it goes, how, and with which secret
 * @param requestId the call the event belongs to
 * @param accountId the account the event belongs to
 * @param body      the event exactly as it was on the topic
 */
record Delivery(String eventId, Target target, String requestId, String accountId, byte[] body) {

    static Delivery of(CallEvent event, Target target, byte[] body) {
        return new Delivery(event.eventId(), target, event.requestId(), event.accountId(), body);
    }

    String url() {
        return target.url();
    }

    String secret() {
        return target.secret();
    }

    /**
     * What is sent and signed: the event, except for a {@code GET} or {@code HEAD} hook, which carries no body and
     * gets the headers only (the signature then covers an empty body).
     */
    byte[] payload() {
        return "GET".equals(target.method()) || "HEAD".equals(target.method()) ? new byte[0] : body;
    }

    AttemptRecord attempt(int number, AttemptResult result) {
        return new AttemptRecord(eventId, target.id(), target.kind(), requestId, accountId, number,
                result.statusCode(), result.error(), result.latency().toMillis(), Instant.now());
    }
}
