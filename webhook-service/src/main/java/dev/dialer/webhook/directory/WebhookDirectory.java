package dev.dialer.webhook.directory;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.ContractViolation;
import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.CompactedTopicReader;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

/**
 * The webhooks and subscriptions api-service publishes on the compacted {@code dialer.webhook.config} topic, held in
 * memory. Every instance reads the whole topic from the beginning and then follows it (no consumer group, nothing
 * committed), so each one holds the complete directory; a tombstone removes a webhook or a subscription. Keys starting
 * with {@value SubscriptionConfig#KEY_PREFIX} are subscriptions, every other key a webhook.
 */
public final class WebhookDirectory {

    private static final Logger log = LoggerFactory.getLogger(WebhookDirectory.class);

    private final Supplier<Flux<InboundRecord>> records;
    private final Mono<Void> readerCaughtUp;
    private final Map<String, WebhookConfig> webhooks = new ConcurrentHashMap<>();
    /** Subscriptions by account, then by subscription id. */
    private final Map<String, Map<String, SubscriptionConfig>> subscriptions = new ConcurrentHashMap<>();
    /** The account of each subscription, so a tombstone (no value) finds it. */
    private final Map<String, String> subscriptionAccounts = new ConcurrentHashMap<>();
    /** Ids of webhooks that changed, so that lookups waiting for one wake up without polling. */
    private final Sinks.Many<String> changes = Sinks.many().multicast().directBestEffort();
    private final Sinks.Empty<Void> caughtUpSignal = Sinks.empty();
    private final Counter unreadable;
    private volatile boolean caughtUp;

    WebhookDirectory(Supplier<Flux<InboundRecord>> records, Mono<Void> caughtUp, MeterRegistry registry) {
        this.records = records;
        this.readerCaughtUp = caughtUp;
        this.unreadable = Counter.builder("dialer.webhook.config.unreadable")
                .description("Webhook configuration records that could not be read; the webhook is dropped")
                .register(registry);
        Gauge.builder("dialer.webhook.directory.size", webhooks, Map::size)
                .description("Webhooks known to this instance")
                .register(registry);
    }

    /** A directory fed by the compacted topic; nothing is read before {@link #follow()} is subscribed. */
    public static WebhookDirectory reading(KafkaSettings settings, MeterRegistry registry) {
        CompactedTopicReader reader = new CompactedTopicReader(settings, Topics.WEBHOOK_CONFIG);
        return new WebhookDirectory(reader::records, reader.caughtUp(), registry);
    }

    /**
     * Applies the topic to the directory until cancelled. Every record is applied, in order per webhook id, as it is
     * read; nothing is committed. After a consumer failure the topic is read again from the beginning, and the reader
     * passes over what was applied already ({@code CompactedTopicReader}). A record that cannot be applied is
     * counted and skipped: failing the reader would read the topic again and meet the same record for ever.
     */
    public Mono<Void> follow() {
        Mono<Void> apply = Flux.defer(records)
                .doOnNext(this::applyOrSkip)
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(500)).maxBackoff(Duration.ofSeconds(10))
                        .doBeforeRetry(signal -> log.warn("webhook directory reader failed, reading again",
                                signal.failure())))
                .then();
        return Mono.when(apply, readerCaughtUp.doOnSuccess(done -> markCaughtUp()));
    }

    /** Whether everything that was on the topic when reading began has been read. */
    public boolean isCaughtUp() {
        return caughtUp;
    }

    /**
     * Completes once everything that was on the topic when reading began has been read (at once if it has been);
     * never before {@link #follow()} is subscribed.
     */
    public Mono<Void> caughtUp() {
        return caughtUpSignal.asMono();
    }

    /**
     * The webhook with this id, waiting up to {@code wait} for it to appear: a webhook created just before a call may
     * still be on its way through the topic. Empty if it is unknown (or deleted) when the wait ends.
     */
    public Mono<WebhookConfig> find(String id, Duration wait) {
        Mono<WebhookConfig> known = Mono.fromSupplier(() -> webhooks.get(id));
        if (wait.isZero() || wait.isNegative()) {
            return known;
        }
        Flux<WebhookConfig> arrivals = changes.asFlux()
                .filter(id::equals)
                .mapNotNull(changed -> webhooks.get(id));
        // merge() subscribes to the arrivals first, so one that lands between the two is not missed.
        return Flux.merge(arrivals, known)
                .next()
                .timeout(wait, Mono.empty());
    }

    /**
     * The ids of the account's webhooks with an enabled subscription to {@code eventType}, each once, in no particular
     * order. Whether each webhook exists and is enabled is the caller's to check.
     */
    public Set<String> subscribers(String accountId, String eventType) {
        Map<String, SubscriptionConfig> ofAccount = subscriptions.get(accountId);
        if (ofAccount == null) {
            return Set.of();
        }
        Set<String> webhookIds = new LinkedHashSet<>();
        for (SubscriptionConfig subscription : ofAccount.values()) {
            if (subscription.enabled() && subscription.eventTypes().contains(eventType)) {
                webhookIds.add(subscription.webhookId());
            }
        }
        return webhookIds;
    }

    /** The webhook with this id if it is known now. */
    public WebhookConfig current(String id) {
        return webhooks.get(id);
    }

    private void applyOrSkip(InboundRecord record) {
        try {
            apply(record);
        } catch (RuntimeException e) {
            log.error("webhook config record {} at {}-{}@{} could not be applied: skipped", record.key(),
                    record.topic(), record.partition(), record.offset(), e);
            unreadable.increment();
        }
    }

    private void apply(InboundRecord record) {
        String id = record.key();
        if (id == null) {
            log.warn("webhook config record without a key at {}-{}@{}: ignored", record.topic(), record.partition(),
                    record.offset());
            unreadable.increment();
            return;
        }
        if (SubscriptionConfig.isSubscriptionKey(id)) {
            applySubscription(id, record);
            return;
        }
        if (record.value() == null) {
            webhooks.remove(id);
            log.debug("webhook {} deleted", id);
        } else {
            WebhookConfig config = readable(record);
            if (config == null) {
                // The newest version cannot be used: stop delivering rather than keep a URL and secret that were
                // replaced (once the topic is compacted the older version is gone anyway).
                webhooks.remove(id);
            } else {
                webhooks.put(id, config);
            }
        }
        changes.tryEmitNext(id);
    }

    private void applySubscription(String key, InboundRecord record) {
        removeSubscription(key);
        if (record.value() == null) {
            return;
        }
        try {
            SubscriptionConfig subscription = Contract.read(record.value(), SubscriptionConfig.class);
            if (subscription == null || subscription.accountId() == null || subscription.webhookId() == null) {
                throw new ContractViolation(ContractViolation.Code.SCHEMA_INVALID, "account_id or webhook_id missing");
            }
            subscriptions.computeIfAbsent(subscription.accountId(), account -> new ConcurrentHashMap<>())
                    .put(key, subscription);
            subscriptionAccounts.put(key, subscription.accountId());
        } catch (ContractViolation e) {
            log.warn("subscription {} is not readable ({}): subscription dropped", key, e.getMessage());
            unreadable.increment();
        }
    }

    private void removeSubscription(String key) {
        String account = subscriptionAccounts.remove(key);
        if (account != null) {
            subscriptions.computeIfPresent(account, (ignored, ofAccount) -> {
                ofAccount.remove(key);
                return ofAccount.isEmpty() ? null : ofAccount;
            });
        }
    }

    private WebhookConfig readable(InboundRecord record) {
        try {
            WebhookConfig config = Contract.read(record.value(), WebhookConfig.class);
            if (config != null && config.accountId() != null && config.url() != null && config.secret() != null) {
                return config;
            }
            log.warn("webhook config {} lacks account, url or secret: webhook dropped", record.key());
        } catch (ContractViolation e) {
            log.warn("webhook config {} is not readable ({}): webhook dropped", record.key(), e.getMessage());
        }
        unreadable.increment();
        return null;
    }

    private void markCaughtUp() {
        caughtUp = true;
        log.info("webhook directory caught up: {} webhooks", webhooks.size());
        caughtUpSignal.tryEmitEmpty();
    }
}
