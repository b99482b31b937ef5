package dev.dialer.api.subscription;

import dev.dialer.api.account.Account;
import dev.dialer.api.account.AccountLimits;
import dev.dialer.api.kafka.CommittedStates;
import dev.dialer.api.kafka.Compensations;
import dev.dialer.api.kafka.OwedState;
import dev.dialer.api.problem.Problems;
import dev.dialer.api.webhook.WebhookDirectory;
import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.common.kafka.OutboundRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * An account's subscriptions: which event types go to which of its webhooks, so requests need not carry a
 * {@code webhook_id}. Every change is published as a {@link SubscriptionConfig} (key {@code subscription:<id>}) on
 * {@code dialer.webhook.config} inside the transaction that makes it, committed only after Kafka acknowledged: a 2xx
 * means webhook-service will see it, a 503 means nothing changed.
 *
 * <p>A create, change or delete whose record may reach Kafka although it failed (acknowledged too late for the
 * answer, or its commit failed) is followed by the subscription's committed state ({@link Compensations}), by this
 * process at once or by the sweeper from the row the change left (decision 0129). For a create that is its tombstone:
 * webhook-service never delivers to a subscription whose id was not answered, which nobody could see or delete.
 */
@Service
class Subscriptions implements CommittedStates {

    private final SubscriptionRepository repository;
    private final WebhookDirectory webhooks;
    private final Compensations compensations;
    private final AccountLimits limits;
    private final MeterRegistry registry;

    Subscriptions(SubscriptionRepository repository, WebhookDirectory webhooks, Compensations compensations,
                  AccountLimits limits, MeterRegistry registry) {
        this.repository = repository;
        this.compensations = compensations;
        this.limits = limits;
        this.webhooks = webhooks;
        this.registry = registry;
    }

    /**
     * Stores the subscription and publishes its config, committed once Kafka acknowledged it. Should it fail after the
     * hand-off, the subscription's committed state, its tombstone, follows the config.
     */
    Mono<Subscription> create(Account account, String body) {
        return Mono.fromCallable(() -> SubscriptionRequest.create(body))
                .flatMap(request -> ownWebhook(account, request))
                .map(request -> {
                    Instant now = now();
                    return new Subscription(UUID.randomUUID().toString(), account.id(), request.webhookId(),
                            request.eventTypes(), request.enabled(), now, now);
                })
                .flatMap(subscription -> compensations.transactional("subscription_create",
                        OwedState.subscription(account.id(), subscription.id()),
                        committed(account.id(), subscription.id()),
                        publication -> limits.requireRoomFor(account.id(), AccountLimits.Kept.SUBSCRIPTIONS)
                                .then(repository.insert(subscription))
                                .onErrorMap(DataIntegrityViolationException.class, Subscriptions::webhookGone)
                                .then(publication.publish(List.of(subscription.record())))
                                .thenReturn(subscription)))
                .doOnSuccess(created -> count("created"));
    }

    Mono<Subscription> find(Account account, String id) {
        return repository.find(account.id(), id).switchIfEmpty(notFound(id));
    }

    Flux<Subscription> list(Account account, String webhookId) {
        return repository.list(account.id(), webhookId);
    }

    Mono<Subscription> update(Account account, String id, String body) {
        return Mono.fromCallable(() -> SubscriptionRequest.change(body))
                .flatMap(request -> compensations.transactional("subscription_update",
                        OwedState.subscription(account.id(), id), committed(account.id(), id),
                        publication -> ownWebhook(account, request)
                                .flatMap(own -> repository.lock(account.id(), id).switchIfEmpty(notFound(id)))
                                .map(current -> new Subscription(current.id(), current.accountId(),
                                        request.webhookId() == null ? current.webhookId() : request.webhookId(),
                                        request.eventTypes() == null ? current.eventTypes() : request.eventTypes(),
                                        request.enabled() == null ? current.enabled() : request.enabled(),
                                        current.createdAt(), now()))
                                .flatMap(subscription -> repository.update(subscription)
                                        .onErrorMap(DataIntegrityViolationException.class, Subscriptions::webhookGone)
                                        .then(publication.publish(List.of(subscription.record())))
                                        .thenReturn(subscription))))
                .doOnSuccess(updated -> count("updated"));
    }

    /** Deletes the subscription and publishes its tombstone; committed only after Kafka acknowledged it. */
    Mono<Void> delete(Account account, String id) {
        return compensations.transactional("subscription_delete", OwedState.subscription(account.id(), id),
                        committed(account.id(), id),
                        publication -> repository.delete(account.id(), id)
                                .flatMap(deleted -> deleted
                                        ? publication.publish(List.of(Subscription.tombstone(id)))
                                        : notFound(id).then()))
                .doOnSuccess(done -> count("deleted"));
    }

    @Override
    public OwedState.Kind kind() {
        return OwedState.Kind.SUBSCRIPTION;
    }

    /**
     * The subscription's committed config, or its tombstone when it is gone (deleted, or its create failed); its row
     * locked until the surrounding transaction ends.
     */
    @Override
    public Mono<List<OutboundRecord>> committed(OwedState subscription) {
        return committed(subscription.accountId(), subscription.objectId());
    }

    /**
     * The subscription's committed config, or its tombstone when no account has it: one of another account (a change
     * named its id, was refused, and left its owed row behind) is none of this account's, and answers nothing.
     */
    private Mono<List<OutboundRecord>> committed(String accountId, String id) {
        return repository.lock(id)
                .map(subscription -> accountId.equals(subscription.accountId()) ? List.of(subscription.record())
                        : List.<OutboundRecord>of())
                .defaultIfEmpty(List.of(Subscription.tombstone(id)));
    }

    /** The webhook was deleted between the check that it is the account's and the write that refers to it. */
    private static Throwable webhookGone(DataIntegrityViolationException error) {
        return Problems.validation("webhook_id", "does not name a webhook of this account");
    }

    /** A webhook named in the body must be the account's own: otherwise the field is invalid. */
    private Mono<SubscriptionRequest> ownWebhook(Account account, SubscriptionRequest request) {
        if (request.webhookId() == null) {
            return Mono.just(request);
        }
        return webhooks.belongsTo(request.webhookId(), account.id())
                .flatMap(own -> own ? Mono.just(request)
                        : Mono.error(Problems.validation("webhook_id", "does not name a webhook of this account")));
    }

    private void count(String change) {
        Counter.builder("dialer.api.subscription.changes").description("Subscription changes published")
                .tag("change", change).register(registry).increment();
    }

    private static <T> Mono<T> notFound(String id) {
        return Mono.error(() -> Problems.notFound("No subscription " + id + " in this account."));
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }
}
