package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DeliveryAttempt;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Publishes every try as a {@link DeliveryAttempt} on {@code dialer.webhook.deliveries}, which feeds api-service's
 * delivery log and tells it when a webhook was disabled. Keyed by the webhook id, so one webhook's tries stay in
 * order; a hook has no id of its own and is keyed by its kind and the request id ({@code notify_url:<request id>}).
 * The response body is cut to {@code published-body-limit} bytes.
 *
 * <p>Best effort, at most once per try: the local delivery log in PostgreSQL is the record of truth, so a publish
 * that fails is counted and logged, never retried, and never fails or resends the delivery.
 */
final class AttemptFeed implements AttemptLog {

    private static final Logger log = LoggerFactory.getLogger(AttemptFeed.class);
    private static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(10);

    private final Function<OutboundRecord, Mono<Void>> publisher;
    private final DeliveryMetrics metrics;
    private final int bodyLimit;

    /** @param publisher publishes one record, e.g. {@code KafkaPublisher::publish} */
    AttemptFeed(Function<OutboundRecord, Mono<Void>> publisher, DeliveryMetrics metrics, int bodyLimit) {
        this.publisher = publisher;
        this.metrics = metrics;
        this.bodyLimit = bodyLimit;
    }

    @Override
    public Mono<Void> record(DeliveryAttempt attempt) {
        return Mono.defer(() -> publisher.apply(toRecord(attempt)))
                .timeout(PUBLISH_TIMEOUT)
                .onErrorResume(error -> unpublished(attempt, error));
    }

    OutboundRecord toRecord(DeliveryAttempt attempt) {
        return OutboundRecord.of(Topics.WEBHOOK_DELIVERIES, key(attempt), Contract.toBytes(truncated(attempt)));
    }

    private DeliveryAttempt truncated(DeliveryAttempt a) {
        String body = truncate(a.responseBody(), bodyLimit);
        return body == a.responseBody() ? a : new DeliveryAttempt(a.version(), a.attemptId(), a.eventId(),
                a.eventType(), a.webhookId(), a.target(), a.requestId(), a.accountId(), a.attemptNo(), a.outcome(),
                a.statusCode(), a.error(), body, a.latencyMs(), a.nextAttemptAt(), a.endpointDisabled(), a.replay(),
                a.attemptedAt());
    }

    /** At most {@code limit} bytes of UTF-8, never cutting a character in two. */
    static String truncate(String text, int limit) {
        if (text == null || text.length() * 3 <= limit) {
            return text;
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= limit) {
            return text;
        }
        int end = limit;
        while (end > 0 && (bytes[end] & 0xC0) == 0x80) {
            end--;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8);
    }

    private static String key(DeliveryAttempt attempt) {
        return attempt.webhookId() != null ? attempt.webhookId() : attempt.target() + ":" + attempt.requestId();
    }

    private Mono<Void> unpublished(DeliveryAttempt attempt, Throwable error) {
        log.warn("try {} of event {} to {} {} not published to {}: {}", attempt.attemptNo(), attempt.eventId(),
                attempt.target(), attempt.webhookId(), Topics.WEBHOOK_DELIVERIES, error.toString());
        metrics.unpublishedAttempt();
        return Mono.empty();
    }
}
