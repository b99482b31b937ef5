package dev.dialer.common.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.dialer.common.db.PostgresText;
import java.time.Instant;
import java.util.Locale;

/**
 * One webhook delivery attempt, as webhook-service publishes it on {@code dialer.webhook.deliveries} keyed by
 * {@link #webhookId()} (or the hook kind for per-request hooks), so api-service can serve the delivery log. Its JSON
 * Schema is {@code schemas/delivery-attempt.v1.json}.
 *
 * <p>Its text is kept as PostgreSQL can store it, since both services write it to a {@code text} column: a NUL
 * character (U+0000, which such a column refuses, every time) becomes U+FFFD, as bytes that are not UTF-8 already do
 * ({@link PostgresText}).
 * An endpoint may answer anything, a gzip or binary body included, and refusing the row would lose the try from the
 * delivery log and, in api-service, stop the log behind it. The rule holds for an attempt webhook-service builds and
 * for one api-service reads from the topic alike, whichever version of webhook-service wrote it.
 *
 * @param version          contract version, {@value #VERSION}
 * @param attemptId        unique id of this attempt
 * @param eventId          the delivered event's id ({@code webhook-id} header, stable across retries)
 * @param eventType        the delivered event's type
 * @param webhookId        the webhook's id; null for a per-request hook
 * @param target           {@code webhook}, {@code subscription}, {@code notify_url}, {@code action_hook} or
 *                         {@code amd_hook}
 * @param requestId        the call the event belongs to; null for an event of no call ({@code webhook.disabled})
 * @param accountId        the owning account
 * @param attemptNo        1 for the first try of this event at this target; a refused try has the number it would
 *                         have had
 * @param outcome          what became of the try
 * @param statusCode       the endpoint's HTTP status, null when there was none
 * @param error            what went wrong when there was no answer
 * @param responseBody     the start of the endpoint's answer (truncated)
 * @param latencyMs        how long the try took
 * @param nextAttemptAt    when the next try is due, for {@link Outcome#RETRYING}
 * @param endpointDisabled true when this try disabled the endpoint (410 Gone or sustained failure)
 * @param replay           true when the try was asked for by a replay
 * @param attemptedAt      when the try ended
 */
public record DeliveryAttempt(
        int version,
        String attemptId,
        String eventId,
        String eventType,
        String webhookId,
        String target,
        String requestId,
        String accountId,
        int attemptNo,
        Outcome outcome,
        Integer statusCode,
        String error,
        String responseBody,
        long latencyMs,
        Instant nextAttemptAt,
        Boolean endpointDisabled,
        Boolean replay,
        Instant attemptedAt) {

    public static final int VERSION = 1;

    public DeliveryAttempt {
        attemptId = PostgresText.storable(attemptId);
        eventId = PostgresText.storable(eventId);
        eventType = PostgresText.storable(eventType);
        webhookId = PostgresText.storable(webhookId);
        target = PostgresText.storable(target);
        requestId = PostgresText.storable(requestId);
        accountId = PostgresText.storable(accountId);
        error = PostgresText.storable(error);
        responseBody = PostgresText.storable(responseBody);
    }

    public enum Outcome {
        /** 2xx: done. */
        DELIVERED,
        /** Failed; another try is scheduled. */
        RETRYING,
        /** Failed for the last time: the event is in the dead letters, replayable. */
        DEAD,
        /** Not sent: the target is refused (address not allowed, endpoint disabled). */
        REFUSED;

        @JsonValue
        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        @JsonCreator
        public static Outcome fromWire(String wire) {
            return valueOf(wire.toUpperCase(Locale.ROOT));
        }
    }
}
