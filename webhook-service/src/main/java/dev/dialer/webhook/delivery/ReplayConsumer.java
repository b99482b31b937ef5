package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.ContractViolation;
import dev.dialer.common.contract.ReplayRequest;
import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.KafkaSubscriber;
import dev.dialer.common.kafka.Topics;
import dev.dialer.common.trace.TraceParent;
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
 * the webhook receives, i.e. call events that name it and events whose type it is subscribed to; a
 * {@code webhook.disabled} notice names the webhook it is about, which never received it, so it goes only to a
 * webhook subscribed to that type. Replayed deliveries keep their event ids ({@code webhook-id}) and are signed afresh
 * when sent.
 *
 * <p>The events are read a page at a time ({@code dialer.webhook.replay.page-size}, keyset-paged in occurrence order)
 * and each page's deliveries are stored in a transaction of its own, so a replay holds one page in memory however long
 * its window, and the first pages' deliveries may go out while later pages are still being read.
 *
 * <p>Delivery guarantee: each event at least once per replay request, and queued once: a request is acknowledged once
 * all its pages are stored, and every queued event is marked with the replay id in {@code webhook.replayed_events}
 * in the page's transaction, so a request handled again (read again after a failure or a restart) queues only the
 * events not marked yet. While PostgreSQL cannot be reached the page is stored again and again, holding back the
 * requests after it.
 *
 * <p>A record that holds no request, or whose replay fails for another reason than PostgreSQL being away (a defect),
 * is acknowledged only once its copy is in {@code dialer.webhook.control.dlq} ({@link BadRecords}), with the error's
 * code ({@code not_json}, {@code schema_invalid}, {@code processing_error}); the requests after it wait meanwhile. A
 * failed replay's copy, published again to the topic once the cause is put right, queues only the events the failed
 * handling had not queued.
 */
public final class ReplayConsumer {

    static final String GROUP = "dialer-webhook-replay";
    private static final Logger log = LoggerFactory.getLogger(ReplayConsumer.class);

    private final KafkaSettings settings;
    private final WebhookDirectory directory;
    private final EventStore events;
    private final RetryStore store;
    private final DeliveryMetrics metrics;
    private final BadRecords badRecords;
    private final Clock clock;
    private final int pageSize;

    /** What one page of a replay came to; {@code next} is where the next page starts, or null after the last. */
    record Page(int read, long queued, long repeated, EventStore.Position next) {

        static final Page NONE = new Page(0, 0, 0, null);

        Page plus(Page later) {
            return new Page(read + later.read, queued + later.queued, repeated + later.repeated, later.next);
        }
    }

    ReplayConsumer(KafkaSettings settings, WebhookDirectory directory, EventStore events, RetryStore store,
                   DeliveryMetrics metrics, BadRecords badRecords, Clock clock, int pageSize) {
        this.settings = settings;
        this.directory = directory;
        this.events = events;
        this.store = store;
        this.metrics = metrics;
        this.badRecords = badRecords;
        this.clock = clock;
        this.pageSize = pageSize;
    }

    public Mono<Void> run() {
        return KafkaSubscriber.receive(settings, GROUP, List.of(Topics.WEBHOOK_CONTROL), 50)
                .concatMap(record -> handle(record).then(Mono.fromRunnable(record::acknowledge)))
                .then();
    }

    private Mono<Void> handle(InboundRecord record) {
        ReplayRequest request;
        try {
            request = read(record);
        } catch (ContractViolation violation) {
            // A bad record must not stop the consumer: it is acknowledged once its copy is in the DLQ (and counted).
            return badRecords.send(record, violation);
        }
        // The replay's deliveries are spans of the trace of the request that asked for it (api-service's record).
        String traceparent = TraceParent.ifValid(record.headers().get(TraceParent.HEADER));
        return handle(record, request)
                .contextWrite(context -> traceparent == null ? context : context.put(TraceParent.HEADER, traceparent));
    }

    /** The record's request; throws when it holds none. */
    private static ReplayRequest read(InboundRecord record) {
        try {
            if (record.value() == null) {
                throw new ContractViolation(ContractViolation.Code.NOT_JSON, "no value");
            }
            ReplayRequest request = Contract.read(record.value(), ReplayRequest.class);
            if (request == null || request.replayId() == null || request.accountId() == null
                    || request.webhookId() == null) {
                throw new ContractViolation(ContractViolation.Code.SCHEMA_INVALID,
                        "replay_id, account_id or webhook_id missing");
            }
            return request;
        } catch (ContractViolation e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ContractViolation(ContractViolation.Code.SCHEMA_INVALID, e.toString());
        }
    }

    private Mono<Void> handle(InboundRecord record, ReplayRequest request) {
        // Deferred, so that an error in building the replay is handled below rather than ending the consumer.
        return Mono.defer(() -> replay(request))
                .onErrorResume(error -> {
                    // Any other error than a store failure (retried per page) is a bug, and handling the request
                    // again now would meet it again: its copy is kept to publish again once the bug is put right.
                    log.error("replay {} of webhook {} failed; a copy of its request goes to {}", request.replayId(),
                            request.webhookId(), Topics.WEBHOOK_CONTROL_DLQ, error);
                    return badRecords.send(record, new ContractViolation(ContractViolation.Code.PROCESSING_ERROR,
                            "replay failed: " + error));
                });
    }

    /**
     * The API answered 202 once the request was in Kafka, after the webhook and subscriptions it names: the directory
     * is read to now first, or a replay asked for right after they were made would find them missing (its reader may
     * be seconds behind, a broker's leader election) and queue nothing while the customer was told it was taken.
     */
    Mono<Void> replay(ReplayRequest request) {
        return directory.readToNow()
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200)).maxBackoff(Duration.ofSeconds(30))
                        .doBeforeRetry(signal -> log.warn("replay {}: the webhook directory could not be read to now, "
                                + "trying again: {}", request.replayId(), signal.failure().toString())))
                .then(Mono.defer(() -> replayOnceRead(request)));
    }

    private Mono<Void> replayOnceRead(ReplayRequest request) {
        WebhookConfig webhook = directory.current(request.webhookId());
        if (webhook == null || !webhook.accountId().equals(request.accountId())) {
            log.warn("replay {} names webhook {}, unknown for account {}: skipped", request.replayId(),
                    request.webhookId(), request.accountId());
            return Mono.empty();
        }
        return pages(request, webhook)
                .reduce(Page.NONE, Page::plus)
                .doOnNext(total -> queued(request, webhook, total))
                .then();
    }

    /** The replay's pages, each read and stored before the next is read. */
    Flux<Page> pages(ReplayRequest request, WebhookConfig webhook) {
        return page(request, webhook, null)
                .expand(page -> page.next() == null ? Mono.empty() : page(request, webhook, page.next()));
    }

    private Mono<Page> page(ReplayRequest request, WebhookConfig webhook, EventStore.Position after) {
        return Mono.defer(() -> read(request, after).collectList())
                .flatMap(read -> queue(request, webhook, read))
                // Skipping would lose the rest of the replay: the customer asked for it once and is told nothing.
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200)).maxBackoff(Duration.ofSeconds(30))
                        .filter(CallEventConsumer::isStoreFailure)
                        .doBeforeRetry(signal -> storeUnavailable(request, signal.failure())))
                .doOnNext(page -> metrics.replayPage(page.queued(), page.repeated()));
    }

    private Flux<EventStore.StoredEvent> read(ReplayRequest request, EventStore.Position after) {
        return request.eventIds().isEmpty()
                ? events.between(request.accountId(), request.from(), request.to(), after, pageSize)
                : events.byIds(request.accountId(), request.eventIds(), after, pageSize);
    }

    /** Stores the deliveries of the page's events that the replay covers; a full page may have a next. */
    private Mono<Page> queue(ReplayRequest request, WebhookConfig webhook, List<EventStore.StoredEvent> read) {
        return Mono.deferContextual(context -> {
            String traceparent = context.<String>getOrEmpty(TraceParent.HEADER).orElse(null);
            List<DeliveryTask> tasks = read.stream()
                    .filter(event -> !request.eventIds().isEmpty() || receives(webhook, event))
                    .map(event -> task(webhook, event, traceparent))
                    .toList();
            EventStore.Position next = read.size() < pageSize ? null
                    : EventStore.Position.of(read.get(read.size() - 1));
            return store.queueReplay(request.replayId(), tasks, clock.instant())
                    .map(queued -> new Page(read.size(), queued, tasks.size() - queued, next));
        });
    }

    private static void storeUnavailable(ReplayRequest request, Throwable error) {
        log.warn("replay {} of webhook {}: a page not stored, PostgreSQL unavailable; storing it again: {}",
                request.replayId(), request.webhookId(), error.toString());
    }

    private static void queued(ReplayRequest request, WebhookConfig webhook, Page total) {
        if (total.repeated() > 0) {
            log.info("replay {}: {} events queued for webhook {}, {} already queued by an earlier handling of it",
                    request.replayId(), total.queued(), webhook.id(), total.repeated());
        } else {
            log.info("replay {}: {} events queued for webhook {}", request.replayId(), total.queued(), webhook.id());
        }
    }

    private boolean receives(WebhookConfig webhook, EventStore.StoredEvent event) {
        return names(webhook, event) || directory.subscribed(event.accountId(), event.eventType(), webhook.id());
    }

    /** Whether the event went to the webhook as the one its call names (a notice's webhook_id is its subject). */
    private static boolean names(WebhookConfig webhook, EventStore.StoredEvent event) {
        return !SubscriptionConfig.WEBHOOK_DISABLED.equals(event.eventType())
                && webhook.id().equals(field(event, "webhook_id"));
    }

    private static DeliveryTask task(WebhookConfig webhook, EventStore.StoredEvent event, String traceparent) {
        Target.Kind kind = names(webhook, event) ? Target.Kind.WEBHOOK : Target.Kind.SUBSCRIPTION;
        return new DeliveryTask(null, event.eventId(), event.eventType(),
                Target.storedWebhook(kind, webhook.id()), field(event, "request_id"), event.accountId(),
                event.payload(), 0, null, true, null, null, traceparent, EndpointIsolation.endpoint(webhook.url()));
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
