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
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Consumes {@code dialer.call.events} in the {@value #GROUP} consumer group and delivers every event to its targets
 * (see {@link TargetResolver}): the webhook it names, its {@code notify_url}, and for {@code call.final} its
 * {@code action_hook}. The targets of one event are delivered concurrently, each independently of the others.
 *
 * <p>Delivery guarantee: <b>at least once</b> per target. A record is acknowledged only after the deliveries to all
 * its targets have finished (delivered, given up after the in-line attempts, or skipped), so a crash or a rebalance
 * before that delivers it again, to every target; receivers de-duplicate by the {@code webhook-id} header, which is
 * the event id on every attempt. Records of one partition are handled one after another, which keeps each call's
 * events (keyed by request id) in order, while partitions proceed in parallel. Until failed deliveries move to a
 * durable retry table, the in-line retries hold back the events behind them on their partition, and a given-up event
 * is not tried again.
 */
public final class CallEventConsumer {

    static final String GROUP = "dialer-webhook";
    private static final Logger log = LoggerFactory.getLogger(CallEventConsumer.class);
    /** Records fetched per poll: bounds what waits in memory while a partition retries. */
    private static final int MAX_POLL_RECORDS = 100;
    private static final int MIN_PARTITION_CONCURRENCY = 256;
    /** An event has at most three targets (webhook, notify, action): all of them go out at once. */
    private static final int MAX_TARGETS_IN_FLIGHT = 3;

    private final KafkaSettings settings;
    private final int partitionConcurrency;
    private final WebhookDirectory directory;
    private final TargetResolver resolver;
    private final WebhookDeliverer deliverer;
    private final Duration lookupWait;
    private final DeliveryMetrics metrics;
    private volatile boolean running;

    CallEventConsumer(KafkaSettings settings, int partitions, WebhookDirectory directory, TargetResolver resolver,
                      WebhookDeliverer deliverer, Duration lookupWait, DeliveryMetrics metrics) {
        this.resolver = resolver;
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

    private Mono<Void> deliver(InboundRecord record) {
        CallEvent event = read(record);
        if (event == null) {
            return Mono.empty();
        }
        return usableWebhook(event)
                .map(webhook -> resolver.resolve(event, webhook.orElse(null)))
                .flatMapMany(Flux::fromIterable)
                .flatMap(target -> deliverTo(target, event, record.value()), MAX_TARGETS_IN_FLIGHT)
                .then();
    }

    /** The event's webhook if it may be delivered to; a webhook that may not is counted as skipped here. */
    private Mono<Optional<WebhookConfig>> usableWebhook(CallEvent event) {
        if (event.webhookId() == null) {
            return Mono.just(Optional.empty());
        }
        return directory.find(event.webhookId(), lookupWait)
                .map(webhook -> usable(webhook, event))
                .switchIfEmpty(Mono.fromSupplier(() -> {
                    skippedWebhook(event, Reason.UNKNOWN_WEBHOOK);
                    return Optional.empty();
                }));
    }

    private Optional<WebhookConfig> usable(WebhookConfig webhook, CallEvent event) {
        Reason refusal = refusal(webhook, event);
        if (refusal == null) {
            return Optional.of(webhook);
        }
        skippedWebhook(event, refusal);
        return Optional.empty();
    }

    private void skippedWebhook(CallEvent event, Reason reason) {
        settle(event, new Target(Target.Kind.WEBHOOK, event.webhookId(), "", "POST", null),
                DeliveryOutcome.skipped(reason));
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

    private Mono<DeliveryOutcome> deliverTo(Target target, CallEvent event, byte[] body) {
        return deliverer.deliver(Delivery.of(event, target, body))
                .doOnNext(outcome -> settle(event, target, outcome));
    }

    private static Reason refusal(WebhookConfig webhook, CallEvent event) {
        if (!webhook.accountId().equals(event.accountId())) {
            return Reason.FOREIGN_ACCOUNT;
        }
        return webhook.enabled() ? null : Reason.DISABLED;
    }

    private void settle(CallEvent event, Target target, DeliveryOutcome outcome) {
        metrics.outcome(target.kind(), outcome);
        if (outcome.reason() == Reason.GONE && target.kind() == Target.Kind.WEBHOOK) {
            directory.disableLocally(target.id());
            log.warn("webhook {} answered 410 Gone to event {}: disabled on this instance", target.id(),
                    event.eventId());
        } else if (outcome.reason() == Reason.FORBIDDEN_TARGET) {
            // The query string can carry a token, so only scheme, host, port and path are logged.
            log.warn("event {} of request {} not sent to {} target {} ({}): its URL is not http(s) or resolves "
                    + "to an internal address not on dialer.webhook.delivery.allowed-hosts", event.eventId(),
                    event.requestId(), target.kind().tag(), target.id(), target.redactedUrl());
        } else if (outcome.status() == DeliveryOutcome.Status.FAILED) {
            log.warn("gave up delivering event {} of request {} to {} target {} after {} attempts ({}, status {})",
                    event.eventId(), event.requestId(), target.kind().tag(), target.id(), outcome.attempts(),
                    outcome.reason().tag(), outcome.statusCode());
        } else {
            log.debug("event {} of request {} to {} target {}: {} ({})", event.eventId(), event.requestId(),
                    target.kind().tag(), target.id(), outcome.status().tag(), outcome.reason().tag());
        }
    }

    private Mono<Void> unexpected(InboundRecord record, Throwable error) {
        // Skipping keeps the partition moving; the event is lost to this webhook, so it is logged as an error.
        log.error("handling call event at {}-{}@{} failed; skipped", record.topic(), record.partition(),
                record.offset(), error);
        metrics.unexpected();
        return Mono.empty();
    }
}
