package dev.dialer.common.contract;

import java.time.Instant;
import java.util.List;

/**
 * A customer's request to deliver events to a webhook again, from api-service to webhook-service on
 * {@code dialer.webhook.control} keyed by {@link #webhookId()}. Either {@code eventIds} or the time range
 * [{@code from}, {@code to}) names the events; replayed deliveries keep their event ids and are signed afresh. Its
 * JSON Schema is {@code schemas/replay-request.v1.json}.
 *
 * @param version     contract version, {@value #VERSION}
 * @param replayId    unique id of this replay (answered by the API with its 202)
 * @param accountId   the owning account
 * @param webhookId   the webhook to deliver to
 * @param eventIds    the events to deliver again, or empty for a time range
 * @param from        start of the range of events' occurrence (inclusive)
 * @param to          end of the range (exclusive)
 * @param requestedAt when the customer asked
 */
public record ReplayRequest(
        int version,
        String replayId,
        String accountId,
        String webhookId,
        List<String> eventIds,
        Instant from,
        Instant to,
        Instant requestedAt) {

    public static final int VERSION = 1;

    public ReplayRequest {
        eventIds = eventIds == null ? List.of() : List.copyOf(eventIds);
        if (eventIds.isEmpty() && (from == null || to == null)) {
            throw new IllegalArgumentException("a replay names event_ids or a from/to range");
        }
    }
}
