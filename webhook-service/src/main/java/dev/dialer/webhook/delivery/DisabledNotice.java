package dev.dialer.webhook.delivery;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.webhook.directory.WebhookDirectory;
import java.time.Clock;
import java.time.Instant;
import java.util.UUID;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Announces that a webhook was disabled: a {@value SubscriptionConfig#WEBHOOK_DISABLED} event, kept like any event
 * (replayable) and queued durably in {@code webhook.retries}, due at once, for every other webhook of the account
 * subscribed to that event type. The retry poller sends it, signed, with the usual retries.
 */
final class DisabledNotice {

    /** The announced event's JSON. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record WebhookDisabled(int version, String eventId, String eventType, String accountId, String webhookId,
                           String reason, Instant occurredAt) {
    }

    private final WebhookDirectory directory;
    private final RetryStore store;
    private final EventStore events;
    private final Clock clock;

    DisabledNotice(WebhookDirectory directory, RetryStore store, EventStore events, Clock clock) {
        this.directory = directory;
        this.store = store;
        this.events = events;
        this.clock = clock;
    }

    Mono<Void> announce(String webhookId, String accountId, String reason) {
        Instant now = clock.instant();
        WebhookDisabled event = new WebhookDisabled(1, UUID.randomUUID().toString(),
                SubscriptionConfig.WEBHOOK_DISABLED, accountId, webhookId, reason, now);
        byte[] payload = Contract.toBytes(event);
        Mono<Void> kept = events.keep(new EventStore.StoredEvent(event.eventId(), accountId, event.eventType(), now,
                payload));
        Flux<DeliveryTask> tasks = Flux.fromIterable(directory.subscribers(accountId, event.eventType()))
                .filter(subscriber -> !subscriber.equals(webhookId))
                .map(subscriber -> new DeliveryTask(null, event.eventId(), event.eventType(),
                        new Target(Target.Kind.SUBSCRIPTION, subscriber, null, "POST", null), null, accountId,
                        payload, 0, null, false));
        return kept.thenMany(tasks.concatMap(task -> store.save(task, 0, now, null))).then();
    }
}
