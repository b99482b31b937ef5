package dev.dialer.webhook.delivery;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.SubscriptionConfig;
import java.time.Instant;
import java.util.Collection;
import java.util.UUID;

/**
 * The announcement that a webhook was disabled: a {@value SubscriptionConfig#WEBHOOK_DISABLED} event, kept like any
 * event (replayable) and queued in {@code webhook.retries}, due at once, for every other webhook of the account
 * subscribed to that event type. {@link EndpointHealth} writes it with the disable, in the statement that writes the
 * disable, so that a disable is never without its notice; the retry poller then sends it, signed, with the usual
 * retries.
 */
final class DisabledNotice {

    /** The announced event's JSON. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record WebhookDisabled(int version, String eventId, String eventType, String accountId, String webhookId,
                           String reason, Instant occurredAt) {
    }

    /** Who subscribed to an event type in an account ({@code WebhookDirectory.subscribers}). */
    interface Subscribers {
        Collection<String> of(String accountId, String eventType);
    }

    /**
     * One notice, to be written with its disable.
     *
     * @param subscribers the webhooks that get it: the account's subscribers to it, but the disabled webhook
     */
    record Notice(String eventId, String accountId, Instant occurredAt, byte[] payload, String[] subscribers) {

        String eventType() {
            return SubscriptionConfig.WEBHOOK_DISABLED;
        }
    }

    private final Subscribers subscribers;

    DisabledNotice(Subscribers subscribers) {
        this.subscribers = subscribers;
    }

    Notice of(String webhookId, String accountId, String reason, Instant disabledAt) {
        WebhookDisabled event = new WebhookDisabled(1, UUID.randomUUID().toString(),
                SubscriptionConfig.WEBHOOK_DISABLED, accountId, webhookId, reason, disabledAt);
        String[] to = subscribers.of(accountId, event.eventType()).stream()
                .filter(subscriber -> !subscriber.equals(webhookId))
                .toArray(String[]::new);
        return new Notice(event.eventId(), accountId, disabledAt, Contract.toBytes(event), to);
    }
}
