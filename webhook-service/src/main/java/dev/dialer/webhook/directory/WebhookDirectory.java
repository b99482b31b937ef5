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
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
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
 *
 * <p>Calls already queued keep naming their webhook after it is deleted, so events naming a webhook that is gone are
 * ordinary traffic, and a lookup must not make each of them wait for a webhook that will never come. The directory
 * remembers the ids it knows to be deleted (a tombstone, or a version it could not read) and answers a lookup of one of
 * them at once; a newer version of the id forgets its deletion.
 *
 * <p>An id never seen is not taken for deleted, however long it was waited for: the directory cannot tell a webhook
 * that does not exist from one whose record is still on its way while its reader is behind the topic (a broker leader
 * election holds it up for seconds), and taking the second for the first dropped the new webhook's events until its
 * record arrived. So a lookup of an id never seen waits for it in full, from its own start; but at most
 * {@value #MAX_WAITS_PER_ID} lookups of one id wait at a time, and {@value #MAX_WAITS} of all ids together, and one
 * more is answered at once as not known (its event is stored for a try after the ordering wait, not dropped): events
 * naming an id that never comes (a typo written straight to Kafka), or many such ids, would otherwise each hold one of
 * their partition's records in flight for the whole wait, and hold up every other account's events behind them.
 */
public final class WebhookDirectory {

    private static final Logger log = LoggerFactory.getLogger(WebhookDirectory.class);
    /** Deleted ids remembered at most; the oldest is forgotten first (and costs a wait if it is named again). */
    static final int MAX_ABSENT = 100_000;
    /** Lookups of one id never seen that wait for it at a time; more are answered at once ({@link #find}). */
    static final int MAX_WAITS_PER_ID = 4;
    /** Lookups of ids never seen that wait at a time, all ids together; more are answered at once ({@link #find}). */
    static final int MAX_WAITS = 32;

    private final Supplier<Flux<InboundRecord>> records;
    private final Mono<Void> readerCaughtUp;
    private final Map<String, WebhookConfig> webhooks = new ConcurrentHashMap<>();
    /** Subscriptions by account, then by subscription id. */
    private final Map<String, Map<String, SubscriptionConfig>> subscriptions = new ConcurrentHashMap<>();
    /** The account of each subscription, so a tombstone (no value) finds it. */
    private final Map<String, String> subscriptionAccounts = new ConcurrentHashMap<>();
    /** Ids whose newest version is a tombstone or unreadable, oldest first. */
    private final Map<String, Boolean> absent;
    /** Ids of webhooks that changed, so that lookups waiting for one wake up without polling. */
    private final Sinks.Many<String> changes = Sinks.many().multicast().directBestEffort();
    private final Supplier<Mono<Void>> readToNow;
    private final Sinks.Empty<Void> caughtUpSignal = Sinks.empty();
    private final Counter unreadable;
    private final Counter lookupWaits;
    private final Counter waitsRefused;
    /** How many lookups wait for each id never seen, now. */
    private final Map<String, Integer> waiting = new ConcurrentHashMap<>();
    /** How many lookups wait now, all ids together. */
    private final AtomicInteger waitingInAll = new AtomicInteger();
    private volatile boolean caughtUp;

    WebhookDirectory(Supplier<Flux<InboundRecord>> records, Mono<Void> caughtUp, MeterRegistry registry) {
        this(records, caughtUp, Mono::empty, registry, MAX_ABSENT);
    }

    WebhookDirectory(Supplier<Flux<InboundRecord>> records, Mono<Void> caughtUp, MeterRegistry registry,
                     int maxAbsent) {
        this(records, caughtUp, Mono::empty, registry, maxAbsent);
    }

    WebhookDirectory(Supplier<Flux<InboundRecord>> records, Mono<Void> caughtUp, Supplier<Mono<Void>> readToNow,
                     MeterRegistry registry, int maxAbsent) {
        this.records = records;
        this.readerCaughtUp = caughtUp;
        this.readToNow = readToNow;
        this.absent = Collections.synchronizedMap(new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > maxAbsent;
            }
        });
        this.unreadable = Counter.builder("dialer.webhook.config.unreadable")
                .description("Webhook configuration records that could not be read; the webhook is dropped")
                .register(registry);
        this.lookupWaits = Counter.builder("dialer.webhook.directory.waits")
                .description("Lookups that waited for a webhook id not known yet")
                .register(registry);
        this.waitsRefused = Counter.builder("dialer.webhook.directory.waits.refused")
                .description("Lookups of a webhook id not known yet answered at once: as many lookups of the id, "
                        + "or of any ids, were waiting already")
                .register(registry);
        Gauge.builder("dialer.webhook.directory.size", webhooks, Map::size)
                .description("Webhooks known to this instance")
                .register(registry);
        Gauge.builder("dialer.webhook.directory.absent", absent, Map::size)
                .description("Webhook ids remembered as deleted, answered without waiting")
                .register(registry);
    }

    /** A directory fed by the compacted topic; nothing is read before {@link #follow()} is subscribed. */
    public static WebhookDirectory reading(KafkaSettings settings, MeterRegistry registry) {
        CompactedTopicReader reader = new CompactedTopicReader(settings, Topics.WEBHOOK_CONFIG);
        return new WebhookDirectory(reader::records, reader.caughtUp(), reader::readToNow, registry, MAX_ABSENT);
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

    /**
     * Completes once every record on the topic when subscribed has been applied: the directory then holds every change
     * the API had acknowledged before (a webhook and subscriptions made just before a replay that names them). Errors
     * when the topic's offsets cannot be read.
     */
    public Mono<Void> readToNow() {
        return Mono.defer(readToNow);
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
     * still be on its way through the topic. Empty at once if the id is known to be deleted; empty when the wait ends
     * if it is still unknown. Each lookup waits its own {@code wait} from when it is subscribed, whatever other lookups
     * of the id waited for before: an id waited for in vain is not remembered, the record may only be late. Empty at
     * once, too, while {@value #MAX_WAITS_PER_ID} lookups of the id, or {@value #MAX_WAITS} of any ids, are waiting
     * already.
     */
    public Mono<WebhookConfig> find(String id, Duration wait) {
        return Mono.defer(() -> {
            WebhookConfig known = webhooks.get(id);
            if (known != null || wait.isZero() || wait.isNegative() || absent.containsKey(id)) {
                return Mono.justOrEmpty(known);
            }
            if (!startWaiting(id)) {
                waitsRefused.increment();
                return Mono.<WebhookConfig>empty();
            }
            return waitFor(id, wait).flatMap(Mono::justOrEmpty).doFinally(signal -> stopWaiting(id));
        });
    }

    /**
     * Counts a lookup of {@code id} in as waiting, unless as many as may wait for it, or for any id, are waiting
     * already.
     */
    private boolean startWaiting(String id) {
        if (waitingInAll.incrementAndGet() > MAX_WAITS) {
            waitingInAll.decrementAndGet();
            return false;
        }
        boolean[] started = {false};
        waiting.compute(id, (key, count) -> {
            int now = count == null ? 0 : count;
            started[0] = now < MAX_WAITS_PER_ID;
            return started[0] ? now + 1 : now;
        });
        if (!started[0]) {
            waitingInAll.decrementAndGet();
        }
        return started[0];
    }

    private void stopWaiting(String id) {
        waiting.computeIfPresent(id, (key, count) -> count <= 1 ? null : count - 1);
        waitingInAll.decrementAndGet();
    }

    /** One lookup's wait for an id, ended by the first record of the id or by the timeout. */
    private Mono<Optional<WebhookConfig>> waitFor(String id, Duration wait) {
        lookupWaits.increment();
        Flux<Optional<WebhookConfig>> changed = changes.asFlux()
                .filter(id::equals)
                .map(ignored -> Optional.ofNullable(webhooks.get(id)));
        // merge() subscribes to the changes first, so a record that lands between the two is not missed.
        Mono<Optional<WebhookConfig>> settledMeanwhile = Mono.fromSupplier(() -> Optional.ofNullable(webhooks.get(id)))
                .filter(known -> known.isPresent() || absent.containsKey(id));
        return Flux.merge(changed, settledMeanwhile)
                .next()
                .timeout(wait, Mono.fromSupplier(() -> missed(id, wait)));
    }

    private Optional<WebhookConfig> missed(String id, Duration wait) {
        Optional<WebhookConfig> known = Optional.ofNullable(webhooks.get(id));
        if (known.isEmpty()) {
            log.info("webhook {} not known after waiting {} for it: this event skips it", id, wait);
        }
        return known;
    }

    /** Whether the id's newest version is known to be a deletion (a tombstone, or a version that could not be read). */
    public boolean deleted(String id) {
        return absent.containsKey(id);
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

    /**
     * Whether the account's webhook {@code webhookId} has an enabled subscription to {@code eventType}: one of
     * {@link #subscribers}, found without collecting them all.
     */
    public boolean subscribed(String accountId, String eventType, String webhookId) {
        Map<String, SubscriptionConfig> ofAccount = subscriptions.get(accountId);
        if (ofAccount == null) {
            return false;
        }
        for (SubscriptionConfig subscription : ofAccount.values()) {
            if (subscription.enabled() && subscription.webhookId().equals(webhookId)
                    && subscription.eventTypes().contains(eventType)) {
                return true;
            }
        }
        return false;
    }

    /** Every webhook known now: a view that follows the directory's changes. */
    public Collection<WebhookConfig> webhooks() {
        return Collections.unmodifiableCollection(webhooks.values());
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
            absent.put(id, Boolean.TRUE);
            log.debug("webhook {} deleted", id);
        } else {
            WebhookConfig config = readable(record);
            if (config == null) {
                // The newest version cannot be used: stop delivering rather than keep a URL and secret that were
                // replaced (once the topic is compacted the older version is gone anyway).
                webhooks.remove(id);
                absent.put(id, Boolean.TRUE);
            } else {
                webhooks.put(id, config);
                absent.remove(id);
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
            if (config != null && config.id() != null && config.accountId() != null && config.url() != null
                    && config.secret() != null) {
                return config;
            }
            log.warn("webhook config {} lacks id, account, url or secret: webhook dropped", record.key());
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
