package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.ContractViolation;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.KafkaSubscriber;
import dev.dialer.common.kafka.Topics;
import dev.dialer.webhook.directory.WebhookDirectory;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Consumes {@code dialer.call.events} in the {@value #GROUP} consumer group and delivers every event that names a
 * webhook to it.
 *
 * <p>Delivery guarantee: <b>at least once</b>. A record is acknowledged only after its delivery has finished
 * (delivered, given up after the in-line attempts, or skipped), so a crash or a rebalance before that delivers it
 * again; receivers de-duplicate by the {@code webhook-id} header, which is the event id on every attempt. Records of
 * one partition are handled one after another, which keeps each call's events (keyed by request id) in order, while
 * partitions proceed in parallel. Until failed deliveries move to a durable retry table, the in-line retries hold
 * back the events behind them on their partition, and a given-up event is not tried again.
 */
public final class CallEventConsumer {

    static final String GROUP = "dialer-webhook";
    private static final Logger log = LoggerFactory.getLogger(CallEventConsumer.class);
    /** Records fetched per poll: bounds what waits in memory while a partition retries. */
    private static final int MAX_POLL_RECORDS = 100;
    private static final int MIN_PARTITION_CONCURRENCY = 256;

    private final KafkaSettings settings;
    private final int partitionConcurrency;
    private final WebhookDirectory directory;
    private final WebhookDeliverer deliverer;
    private final Duration lookupWait;
    private final DeliveryMetrics metrics;
    private volatile boolean running;

    CallEventConsumer(KafkaSettings settings, int partitions, WebhookDirectory directory, WebhookDeliverer deliverer,
                      Duration lookupWait, DeliveryMetrics metrics) {
        this.settings = settings;
        // Every partition needs its own inner stream at once, or groupBy stops the consumer.
        this.partitionConcurrency = Math.max(MIN_PARTITION_CONCURRENCY, partitions);
        this.directory = directory;
        this.deliverer = deliverer;
        this.lookupWait = lookupWait;
        this.metrics = metrics;
    }

    /** Consumes until cancelled; a consumer failure resubscribes inside the Kafka port. */
    public Mono<Void> run() {
        return KafkaSubscriber.receive(settings, GROUP, List.of(Topics.CALL_EVENTS), MAX_POLL_RECORDS)
                .groupBy(InboundRecord::partition)
                .flatMap(partition -> partition.concatMap(this::handle), partitionConcurrency)
                .doOnSubscribe(subscription -> running = true)
                .doFinally(signal -> running = false)
                .then();
    }

    /** Whether the consumer is subscribed and has not stopped. */
    public boolean isRunning() {
        return running;
    }

    private Mono<Void> handle(InboundRecord record) {
        metrics.consumed();
        return Mono.defer(() -> deliver(record))
                .onErrorResume(error -> unexpected(record, error))
                .then(Mono.fromRunnable(record::acknowledge));
    }

    private Mono<DeliveryOutcome> deliver(InboundRecord record) {
        CallEvent event = read(record);
        if (event == null || event.webhookId() == null) {
            return Mono.empty();
        }
        return directory.find(event.webhookId(), lookupWait)
                .flatMap(webhook -> deliverTo(webhook, event, record.value()))
                .switchIfEmpty(Mono.fromSupplier(() -> DeliveryOutcome.skipped(Reason.UNKNOWN_WEBHOOK)))
                .doOnNext(outcome -> settle(event, outcome));
    }

    private CallEvent read(InboundRecord record) {
        try {
            if (record.value() == null || record.value().length == 0) {
                throw new ContractViolation(ContractViolation.Code.NOT_JSON, "empty value");
            }
            CallEvent event = Contract.read(record.value(), CallEvent.class);
            if (event.eventId() == null || event.accountId() == null) {
                throw new ContractViolation(ContractViolation.Code.SCHEMA_INVALID, "event_id or account_id missing");
            }
            return event;
        } catch (ContractViolation e) {
            // A bad record must not stop the consumer: it is counted, logged and acknowledged.
            log.warn("unreadable call event at {}-{}@{} skipped: {}", record.topic(), record.partition(),
                    record.offset(), e.getMessage());
            metrics.unreadable();
            return null;
        }
    }

    private Mono<DeliveryOutcome> deliverTo(WebhookConfig webhook, CallEvent event, byte[] body) {
        Reason refusal = refusal(webhook, event);
        return refusal == null
                ? deliverer.deliver(Delivery.of(event, webhook, body))
                : Mono.just(DeliveryOutcome.skipped(refusal));
    }

    private static Reason refusal(WebhookConfig webhook, CallEvent event) {
        if (!webhook.accountId().equals(event.accountId())) {
            return Reason.FOREIGN_ACCOUNT;
        }
        return webhook.enabled() ? null : Reason.DISABLED;
    }

    private void settle(CallEvent event, DeliveryOutcome outcome) {
        metrics.outcome(outcome);
        if (outcome.status() == DeliveryOutcome.Status.FAILED) {
            log.warn("gave up delivering event {} of request {} to webhook {} after {} attempts ({}, status {})",
                    event.eventId(), event.requestId(), event.webhookId(), outcome.attempts(), outcome.reason().tag(),
                    outcome.statusCode());
        } else {
            log.debug("event {} of request {} to webhook {}: {} ({})", event.eventId(), event.requestId(),
                    event.webhookId(), outcome.status().tag(), outcome.reason().tag());
        }
    }

    private Mono<DeliveryOutcome> unexpected(InboundRecord record, Throwable error) {
        // Skipping keeps the partition moving; the event is lost to this webhook, so it is logged as an error.
        log.error("handling call event at {}-{}@{} failed; skipped", record.topic(), record.partition(),
                record.offset(), error);
        metrics.unexpected();
        return Mono.empty();
    }
}
