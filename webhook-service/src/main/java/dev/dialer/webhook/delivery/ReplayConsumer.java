package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.ContractViolation;
import dev.dialer.common.contract.ReplayRequest;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.KafkaSubscriber;
import dev.dialer.common.kafka.Topics;
import dev.dialer.webhook.directory.WebhookDirectory;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;
import tools.jackson.databind.JsonNode;

/**
 * Consumes replay requests from {@code dialer.webhook.control} (group {@value #GROUP}) and queues the named events
 * (kept in {@code webhook.events}) for the webhook again, durably in {@code webhook.retries}, due at once and marked
 * {@code replay}. By event ids: the account's events with those ids. By time range: the account's events in it that
 * the webhook receives, i.e. those that name it or whose type it is subscribed to. Replayed deliveries keep their
 * event ids ({@code webhook-id}) and are signed afresh when sent.
 *
 * <p>Delivery guarantee: at least once per replay request; a request is acknowledged once its deliveries are stored.
 * A request's deliveries are stored in one transaction, so a request handled again after a failure queues each event
 * once; while PostgreSQL cannot be reached the request is handled again and again, holding back those after it.
 */
public final class ReplayConsumer {

    static final String GROUP = "dialer-webhook-replay";
    private static final Logger log = LoggerFactory.getLogger(ReplayConsumer.class);

    private final KafkaSettings settings;
    private final WebhookDirectory directory;
    private final EventStore events;
    private final RetryStore store;
    private final DeliveryMetrics metrics;
    private final Clock clock;

    ReplayConsumer(KafkaSettings settings, WebhookDirectory directory, EventStore events, RetryStore store,
                   DeliveryMetrics metrics, Clock clock) {
        this.settings = settings;
        this.directory = directory;
        this.events = events;
        this.store = store;
        this.metrics = metrics;
        this.clock = clock;
    }

    public Mono<Void> run() {
        return KafkaSubscriber.receive(settings, GROUP, List.of(Topics.WEBHOOK_CONTROL), 50)
                .concatMap(record -> handle(record).then(Mono.fromRunnable(record::acknowledge)))
                .then();
    }

    private Mono<Void> handle(InboundRecord record) {
        ReplayRequest request = read(record);
        return request == null ? Mono.empty() : handle(request);
    }

    /** The request, or null when the record holds none (counted, logged, and skipped). */
    private ReplayRequest read(InboundRecord record) {
        try {
            if (record.value() == null) {
                throw new ContractViolation(ContractViolation.Code.NOT_JSON, "no value");
            }
            ReplayRequest request = Contract.read(record.value(), ReplayRequest.class);
            if (request == null || request.accountId() == null || request.webhookId() == null) {
                throw new ContractViolation(ContractViolation.Code.SCHEMA_INVALID, "account_id or webhook_id missing");
            }
            return request;
        } catch (RuntimeException e) {
            // A bad record must not stop the consumer: it is counted, logged and acknowledged.
            log.warn("unreadable replay request at {}-{}@{} skipped: {}", record.topic(), record.partition(),
                    record.offset(), e.getMessage());
            metrics.unreadableReplay();
            return null;
        }
    }

    private Mono<Void> handle(ReplayRequest request) {
        // Deferred, so that an error in building the replay is handled below rather than ending the consumer.
        return Mono.defer(() -> replay(request))
                // Skipping would lose the replay for good: the customer asked for it once and is told nothing.
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200)).maxBackoff(Duration.ofSeconds(30))
                        .filter(CallEventConsumer::isStoreFailure)
                        .doBeforeRetry(signal -> storeUnavailable(request, signal.failure())))
                .onErrorResume(error -> {
                    // Any other error is a bug, and handling the request again would meet it again.
                    log.error("replay {} of webhook {} failed; skipped", request.replayId(), request.webhookId(),
                            error);
                    return Mono.empty();
                });
    }

    private static void storeUnavailable(ReplayRequest request, Throwable error) {
        log.warn("replay {} of webhook {} not stored, PostgreSQL unavailable; handling it again: {}",
                request.replayId(), request.webhookId(), error.toString());
    }

    private Mono<Void> replay(ReplayRequest request) {
        WebhookConfig webhook = directory.current(request.webhookId());
        if (webhook == null || !webhook.accountId().equals(request.accountId())) {
            log.warn("replay {} names webhook {}, unknown for account {}: skipped", request.replayId(),
                    request.webhookId(), request.accountId());
            return Mono.empty();
        }
        Flux<EventStore.StoredEvent> chosen = request.eventIds().isEmpty()
                ? events.between(request.accountId(), request.from(), request.to())
                        .filter(event -> receives(webhook, event))
                : events.byIds(request.accountId(), request.eventIds());
        return chosen
                .map(event -> task(webhook, event))
                .collectList()
                .flatMap(tasks -> store.saveAll(tasks, clock.instant()).thenReturn(tasks.size()))
                .doOnNext(count -> log.info("replay {}: {} events queued for webhook {}", request.replayId(), count,
                        webhook.id()))
                .then();
    }

    private boolean receives(WebhookConfig webhook, EventStore.StoredEvent event) {
        return webhook.id().equals(field(event, "webhook_id"))
                || directory.subscribers(event.accountId(), event.eventType()).contains(webhook.id());
    }

    private static DeliveryTask task(WebhookConfig webhook, EventStore.StoredEvent event) {
        Target.Kind kind = webhook.id().equals(field(event, "webhook_id")) ? Target.Kind.WEBHOOK
                : Target.Kind.SUBSCRIPTION;
        return new DeliveryTask(null, event.eventId(), event.eventType(),
                new Target(kind, webhook.id(), null, "POST", null), field(event, "request_id"), event.accountId(),
                event.payload(), 0, null, true);
    }

    private static String field(EventStore.StoredEvent event, String name) {
        try {
            JsonNode value = Contract.mapper().readTree(event.payload()).get(name);
            return value == null || value.isNull() ? null : value.asString();
        } catch (RuntimeException e) {
            return null;
        }
    }
}
