package dev.dialer.api.webhook;

import dev.dialer.api.account.Account;
import dev.dialer.api.account.AccountLimits;
import dev.dialer.api.kafka.CommittedStates;
import dev.dialer.api.kafka.Compensations;
import dev.dialer.api.kafka.OwedState;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.common.hook.PlainHttpPolicy;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Creates, changes, rotates and deletes an account's webhook endpoints. Every change is published to
 * {@code dialer.webhook.config} inside the database transaction that makes it, and the transaction commits only after
 * Kafka acknowledged the record: a 2xx means webhook-service will see the change, a 503 means nothing changed. A
 * create, change or delete whose record may still land after its transaction rolled back (acknowledged too late for
 * the answer, or its commit failed) is followed on the topic by the webhook's committed state (a tombstone for a
 * create, whose webhook nobody could otherwise reference or delete), and its subscriptions' for a delete
 * ({@link Compensations}): webhook-service ends with what the API shows. Should that be lost (the process stopped),
 * the sweeper publishes the webhook's committed state and its subscriptions' from the row the change left (decision
 * 0129).
 */
@Service
class Webhooks implements WebhookDisabler, CommittedStates {

    private static final Logger log = LoggerFactory.getLogger(Webhooks.class);

    static final String SECRET_PREFIX = "whsec_";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final WebhookRepository repository;
    private final Compensations compensations;
    private final WebhookSubscriptions subscriptions;
    private final WebhookProperties properties;
    private final AccountLimits limits;
    private final PlainHttpPolicy plainHttp;
    private final MeterRegistry registry;

    Webhooks(WebhookRepository repository, Compensations compensations, WebhookSubscriptions subscriptions,
             WebhookProperties properties, AccountLimits limits, PlainHttpPolicy plainHttp, MeterRegistry registry) {
        this.repository = repository;
        this.compensations = compensations;
        this.plainHttp = plainHttp;
        this.limits = limits;
        this.subscriptions = subscriptions;
        this.properties = properties;
        this.registry = registry;
    }

    /**
     * Stores the webhook and publishes its config in one database transaction that commits only after Kafka
     * acknowledged the record: if Kafka does not, nothing is stored and the answer is 503. A config Kafka may still
     * store then (or whose commit failed) is followed by the webhook's tombstone, its committed state: webhook-service
     * never keeps a webhook whose id was not answered, which nobody could reference or delete.
     */
    Mono<Webhook> create(Account account, String body) {
        return Mono.fromCallable(() -> WebhookRequest.parse(body, plainHttp))
                .map(request -> newWebhook(account, request))
                .flatMap(webhook -> compensations.transactional("webhook_create",
                        OwedState.webhook(account.id(), webhook.id()), committed(account.id(), webhook.id()),
                        publication -> limits.requireRoomFor(webhook.accountId(), AccountLimits.Kept.WEBHOOKS)
                                .then(repository.insert(webhook))
                                .then(publication.publish(List.of(configRecord(webhook))))
                                .thenReturn(webhook)))
                .doOnSuccess(created -> count("created"));
    }

    Mono<Webhook> find(Account account, String id) {
        return repository.find(account.id(), id).switchIfEmpty(notFound(id));
    }

    /** The account's webhooks, oldest first. */
    Flux<Webhook> list(Account account) {
        return repository.list(account.id());
    }

    /**
     * Changes url, description or enabled. Enabling clears the disabled reason; disabling records {@code customer}
     * as the reason. The row is locked while the change is published, so concurrent changes reach the topic in the
     * order they commit.
     */
    Mono<Webhook> update(Account account, String id, String body) {
        return Mono.fromCallable(() -> WebhookPatch.parse(body, plainHttp))
                .flatMap(patch -> compensations.transactional("webhook_update", OwedState.webhook(account.id(), id),
                        config(account.id(), id), publication -> repository.lock(account.id(), id)
                                .switchIfEmpty(notFound(id))
                                .map(webhook -> patch.applyTo(webhook, now()))
                                .flatMap(webhook -> saveAndPublish(webhook, publication))))
                .doOnSuccess(webhook -> count("updated"));
    }

    /**
     * Gives the webhook a new secret, shown in the answer only. The replaced secret stays in use beside it for
     * {@code dialer.api.webhooks.secret-overlap}, so deliveries carry both signatures while receivers switch; a second
     * rotation within that time drops the oldest secret at once.
     */
    Mono<Webhook> rotateSecret(Account account, String id) {
        return compensations.transactional("webhook_rotate", OwedState.webhook(account.id(), id),
                        config(account.id(), id),
                        publication -> repository.lock(account.id(), id).switchIfEmpty(notFound(id))
                                .map(this::rotated)
                                .flatMap(webhook -> saveAndPublish(webhook, publication)))
                .doOnSuccess(webhook -> count("rotated"));
    }

    private Webhook rotated(Webhook webhook) {
        Instant now = now();
        return webhook.rotated(newSecret(), now, now.plus(properties.secretOverlap()));
    }

    /**
     * Deletes the account's webhook and its subscriptions and publishes the tombstones, in one transaction that
     * commits only after Kafka acknowledged them; webhook-service stops delivering to it. Calls already queued with
     * this {@code webhook_id} keep their other targets. The webhook is locked first: a subscription to it being
     * created meanwhile either committed before (and is found, and gets its tombstone) or waits and is refused, never
     * deleted by the cascade without one.
     *
     * <p>Its delivery log is left to {@link dev.dialer.api.delivery.DeliveryLogPruner}, which deletes every attempt
     * past the log's retention whatever its webhook (decision 0057). Deleting the log here made the request's
     * transaction as long as the log (a month of attempts, while the webhook row is locked), and the rows are
     * unreadable from the commit on: the log is read only through a webhook of the asking account, and ids are never
     * reused. An attempt webhook-service reports after the delete goes the same way.
     */
    Mono<Void> delete(Account account, String id) {
        return Mono.defer(() -> {
            List<String> removed = new CopyOnWriteArrayList<>();
            Mono<List<OutboundRecord>> committed = config(account.id(), id)
                    .flatMap(webhook -> subscriptions.committed(account.id(), List.copyOf(removed))
                            .map(ofIt -> Stream.concat(webhook.stream(), ofIt.stream()).toList()));
            return compensations.transactional("webhook_delete", OwedState.webhook(account.id(), id), committed,
                    publication -> repository.lock(account.id(), id)
                            .thenMany(subscriptions.removeAllOf(account.id(), id))
                            .doOnNext(removed::add)
                            .map(subscription -> tombstone(SubscriptionConfig.key(subscription)))
                            .collectList()
                            .flatMap(tombstones -> repository.delete(account.id(), id)
                                    .flatMap(deleted -> deleted
                                            ? publication.publish(Stream.concat(tombstones.stream(),
                                                    Stream.of(tombstone(id))).toList())
                                            : notFound(id).then())));
        }).doOnSuccess(done -> count("deleted"));
    }

    /**
     * At least once per observation: the delivery log consumer calls this for an attempt that disabled the endpoint;
     * a repeat finds the webhook already disabled and changes nothing. Published as a customer's change is
     * ({@link Compensations}): a disable whose record Kafka acknowledged too late is followed by the committed state,
     * else that record, landing after a customer's re-enable, would leave webhook-service refusing an enabled webhook.
     */
    @Override
    public Mono<Boolean> disable(String accountId, String webhookId, String reason, Instant observedAt) {
        return compensations.transactional("webhook_disable", OwedState.webhook(accountId, webhookId),
                        config(accountId, webhookId), publication -> repository.lock(accountId, webhookId)
                                .filter(webhook -> webhook.enabled() && !webhook.enabledSince().isAfter(observedAt))
                                .map(webhook -> webhook.withChanges(webhook.url(), webhook.description(), false,
                                        reason, now()))
                                .flatMap(webhook -> saveAndPublish(webhook, publication)))
                .doOnNext(webhook -> {
                    log.info("webhook {} of account {} disabled by webhook-service: {}", webhook.id(),
                            webhook.accountId(), reason);
                    count("disabled");
                })
                .hasElement();
    }

    private Mono<Webhook> saveAndPublish(Webhook webhook, Compensations.Publication publication) {
        return repository.update(webhook)
                .then(publication.publish(List.of(configRecord(webhook))))
                .thenReturn(webhook);
    }

    @Override
    public OwedState.Kind kind() {
        return OwedState.Kind.WEBHOOK;
    }

    /**
     * The webhook's committed config (or its tombstone) and its subscriptions' configs, locked in that order as a
     * delete locks them: what a change, rotation or delete of the webhook owes Kafka, read from the webhook's id alone.
     * A delete that failed had tombstoned the subscriptions that deliver to it now (ones created since are published
     * once more, unchanged); a webhook that is gone has none, their tombstones published by the delete that committed.
     * A webhook whose create failed is gone too: its tombstone alone.
     */
    @Override
    public Mono<List<OutboundRecord>> committed(OwedState webhook) {
        return committed(webhook.accountId(), webhook.objectId());
    }

    private Mono<List<OutboundRecord>> committed(String accountId, String id) {
        return config(accountId, id).flatMap(webhook -> webhook.isEmpty() ? Mono.just(webhook)
                : subscriptions.committedOf(accountId, id)
                        .map(ofIt -> Stream.concat(webhook.stream(), ofIt.stream()).toList()));
    }

    /**
     * The webhook's committed config, or its tombstone when no account has it; its row locked until the surrounding
     * transaction ends, as a change locks it. A webhook of another account (a change named its id, was refused, and
     * left its owed row behind) is none of this account's: nothing, so that no tombstone drops it; nor is an id that
     * keys a subscription on the same topic (a change named one in the path).
     */
    private Mono<List<OutboundRecord>> config(String accountId, String id) {
        if (SubscriptionConfig.isSubscriptionKey(id)) {
            // No webhook has such an id (they are UUIDs): its tombstone would be read as a subscription's.
            return Mono.just(List.of());
        }
        return repository.lock(id)
                .map(webhook -> accountId.equals(webhook.accountId()) ? List.of(configRecord(webhook))
                        : List.<OutboundRecord>of())
                .defaultIfEmpty(List.of(tombstone(id)));
    }

    private void count(String change) {
        Counter.builder("dialer.api.webhook.changes").description("Webhook changes published")
                .tag("change", change).register(registry).increment();
    }

    private static <T> Mono<T> notFound(String id) {
        return Mono.error(() -> Problems.notFound("No webhook " + id + " in this account."));
    }

    private static OutboundRecord tombstone(String key) {
        return new OutboundRecord(Topics.WEBHOOK_CONFIG, key, null, null);
    }

    private static Instant now() {
        // PostgreSQL keeps microseconds: truncating makes the answer equal to what is read back later.
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }

    private static OutboundRecord configRecord(Webhook webhook) {
        return OutboundRecord.of(Topics.WEBHOOK_CONFIG, webhook.id(), Contract.toBytes(webhook.config()));
    }

    private static Webhook newWebhook(Account account, WebhookRequest request) {
        Instant now = now();
        return new Webhook(UUID.randomUUID().toString(), account.id(), request.url(), request.description(),
                newSecret(), true, now, now, null, null, null, now);
    }

    /** Standard Webhooks form: {@code whsec_} and the base64 of 32 random bytes. */
    static String newSecret() {
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        return SECRET_PREFIX + Base64.getEncoder().encodeToString(random);
    }
}
