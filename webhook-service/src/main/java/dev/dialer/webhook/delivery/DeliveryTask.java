package dev.dialer.webhook.delivery;

import java.time.Instant;

/**
 * One event on its way to one target, from its first try to its last; stored in {@code webhook.retries} between
 * tries. A webhook target is looked up again before every try (its URL, secrets and state may have changed), so
 * only a hook's URL and method are kept.
 *
 * @param id        the retry row, or null before the delivery is stored
 * @param eventId   the {@code webhook-id} header, the same on every try
 * @param eventType the event's type, e.g. {@code call.status}
 * @param target    where it goes (a webhook's URL and secrets are filled in for each try)
 * @param requestId the call the event belongs to, or null (an endpoint-disabled notice)
 * @param accountId the account the event belongs to
 * @param payload   the event exactly as received
 * @param tries     tries made so far
 * @param orderKey  deliveries with the same key go out in order (a call's events to one target), or null
 * @param replay    whether a replay asked for it
 * @param lease     when the claim that took the row from the table runs out ({@code lease_until} as claimed), or
 *                  null for a delivery no claim took: every write of the claimed row's outcome names it, so a try
 *                  that outlived its lease changes nothing once another claim has the row
 * @param storedAt  when the delivery was first stored in the table ({@code created_at}), or null for one never stored
 * @param traceparent the W3C {@code traceparent} of the event's record, which each try continues with a span of its
 *                  own (for a replay, the trace of the request that asked for it); null when there is none
 * @param endpoint  the endpoint (scheme, host and port, as {@link EndpointIsolation#endpoint} writes it) its row is
 *                  counted against by the claims ({@link RetriesInFlight#endpointOf}): a hook's URL's, a webhook's
 *                  URL's when it was stored (its URL is looked up again before each try); null when not known (a
 *                  webhook not known yet, a delivery never stored)
 */
record DeliveryTask(Long id, String eventId, String eventType, Target target, String requestId, String accountId,
                    byte[] payload, int tries, String orderKey, boolean replay, Instant lease, Instant storedAt,
                    String traceparent, String endpoint) {

    DeliveryTask(Long id, String eventId, String eventType, Target target, String requestId, String accountId,
                 byte[] payload, int tries, String orderKey, boolean replay, Instant lease, Instant storedAt,
                 String traceparent) {
        this(id, eventId, eventType, target, requestId, accountId, payload, tries, orderKey, replay, lease, storedAt,
                traceparent, null);
    }

    static DeliveryTask first(String eventId, String eventType, Target target, String requestId, String accountId,
                              byte[] payload, String traceparent) {
        String orderKey = requestId == null ? null
                : requestId + "|" + target.kind().tag() + "|" + (target.kind().isWebhook() ? target.id() : target.url());
        return new DeliveryTask(null, eventId, eventType, target, requestId, accountId, payload, 0, orderKey, false,
                null, null, traceparent);
    }

    /** Whether the delivery has a row in {@code webhook.retries}. */
    boolean stored() {
        return id != null;
    }

    DeliveryTask withTarget(Target resolved) {
        return new DeliveryTask(id, eventId, eventType, resolved, requestId, accountId, payload, tries, orderKey,
                replay, lease, storedAt, traceparent, endpoint);
    }

    /**
     * The endpoint a row stored for it now is counted against: its target's URL's when the target has one (a hook,
     * or a webhook resolved for a try), else {@link #endpoint}.
     */
    String endpointToStore() {
        return target.url() == null ? endpoint : EndpointIsolation.endpoint(target.url());
    }

    /** What this try sends to its target, and what the signature covers ({@link HookRequest}). */
    HookRequest request() {
        return HookRequest.of(target.method(), target.url(), payload);
    }
}
