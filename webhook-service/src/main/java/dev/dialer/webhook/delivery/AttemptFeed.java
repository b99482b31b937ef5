package dev.dialer.webhook.delivery;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Publishes every attempt as JSON on {@code dialer.webhook.deliveries}, which feeds api-service's delivery log. Keyed
 * by the webhook id, so one webhook's attempts stay in order; a hook has no id of its own and is keyed by its kind and
 * the request id ({@code notify:<request id>}).
 *
 * <p>Best effort, at most once per attempt: the local delivery log in PostgreSQL is the record of truth, so a publish
 * that fails is counted and logged, never retried, and never fails or resends the delivery.
 */
final class AttemptFeed implements AttemptLog {

    private static final Logger log = LoggerFactory.getLogger(AttemptFeed.class);
    private static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(10);

    private final Function<OutboundRecord, Mono<Void>> publisher;
    private final DeliveryMetrics metrics;

    /** @param publisher publishes one record, e.g. {@code KafkaPublisher::publish} */
    AttemptFeed(Function<OutboundRecord, Mono<Void>> publisher, DeliveryMetrics metrics) {
        this.publisher = publisher;
        this.metrics = metrics;
    }

    @Override
    public Mono<Void> record(AttemptRecord attempt) {
        return Mono.defer(() -> publisher.apply(toRecord(attempt)))
                .timeout(PUBLISH_TIMEOUT)
                .onErrorResume(error -> unpublished(attempt, error));
    }

    static OutboundRecord toRecord(AttemptRecord attempt) {
        return OutboundRecord.of(Topics.WEBHOOK_DELIVERIES, key(attempt), Contract.toBytes(Message.of(attempt)));
    }

    private static String key(AttemptRecord attempt) {
        return attempt.target() == Target.Kind.WEBHOOK ? attempt.webhookId()
                : attempt.target().tag() + ":" + attempt.requestId();
    }

    private Mono<Void> unpublished(AttemptRecord attempt, Throwable error) {
        log.warn("attempt {} of event {} to {} target {} not published to {}: {}", attempt.attemptNo(),
                attempt.eventId(), attempt.target().tag(), attempt.webhookId(), Topics.WEBHOOK_DELIVERIES,
                error.toString());
        metrics.unpublishedAttempt();
        return Mono.empty();
    }

    /**
     * The published JSON (snake_case): {@code webhook_id} for a webhook, {@code hook} ({@code notify} or
     * {@code action}) for a per-request hook; {@code status_code} or {@code error} as the attempt went.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Message(String eventId, String webhookId, String hook, String requestId, String accountId, int attemptNo,
                   Integer statusCode, Long latencyMs, String error, Instant attemptedAt) {

        static Message of(AttemptRecord attempt) {
            boolean webhook = attempt.target() == Target.Kind.WEBHOOK;
            return new Message(attempt.eventId(), webhook ? attempt.webhookId() : null,
                    webhook ? null : attempt.target().tag(), attempt.requestId(), attempt.accountId(),
                    attempt.attemptNo(), attempt.statusCode(), attempt.latencyMs(), attempt.error(),
                    attempt.attemptedAt());
        }
    }
}
