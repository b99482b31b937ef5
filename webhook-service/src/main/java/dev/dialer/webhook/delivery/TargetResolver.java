package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.EventType;
import dev.dialer.common.contract.Hook;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.hook.HookSecrets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Where one event goes: the request's webhook (every event), the account's webhooks subscribed to the event's type,
 * its {@code notify_url} (every event), its {@code action_hook} ({@code call.final} only) and its {@code amd_hook}
 * (the {@code call.status} event that carries an answering-machine detection only, {@link #carriesDetection}).
 *
 * <p>Each webhook and each distinct URL gets the event once: when two targets share a webhook or a URL the first of
 * named webhook, subscriptions, notify, action, amd wins, so a webhook both named and subscribed gets it once, and a
 * {@code notify_url} equal to the webhook's URL is sent once, signed with the webhook's secret. A webhook that would be
 * refused (disabled, by its configuration or for its endpoint's health, or another account's) comes last, so it never
 * takes a URL from a target that would receive.
 *
 * <p>Hooks are named per request and have no secret of their own, so they are signed with the event's account's hook
 * secret, derived from {@code dialer.webhook.delivery.hook-signing-key} ({@link HookSecrets}), which the account reads
 * from {@code GET /api/v2/account/hook-secret}: another account's secret never verifies them. Without a key they are
 * sent unsigned (still with {@code webhook-id} and {@code webhook-timestamp}); a warning at start-up says so.
 *
 * <p>A hook's URL is taken as the event carries it: the {@link WebhookDeliverer} checks it before every try, a stored
 * retry's too, and dead-letters one the API would have refused.
 */
final class TargetResolver {

    private final HookSecrets hookSecrets;
    private final Predicate<WebhookConfig> healthDisabled;

    /** @param hookSecrets each account's secret for its hooks, or null to send hooks unsigned */
    TargetResolver(HookSecrets hookSecrets) {
        this(hookSecrets, webhook -> false);
    }

    /**
     * @param hookSecrets    each account's secret for its hooks, or null to send hooks unsigned
     * @param healthDisabled whether a webhook is disabled for its endpoint's health ({@link EndpointHealth}), which
     *                       its configuration does not say until api-service has heard of it
     */
    TargetResolver(HookSecrets hookSecrets, Predicate<WebhookConfig> healthDisabled) {
        this.hookSecrets = hookSecrets;
        this.healthDisabled = healthDisabled;
    }

    /** Each account's secret for its hooks, or null when hooks go unsigned. */
    HookSecrets hookSecrets() {
        return hookSecrets;
    }

    /**
     * @param webhook the request's webhook when it may be delivered to (known, enabled, same account), else null
     */
    List<Target> resolve(CallEvent event, WebhookConfig webhook) {
        return resolve(event, webhook, List.of());
    }

    /**
     * @param webhook    the request's webhook when it is known, else null
     * @param subscribed the account's webhooks subscribed to the event's type
     */
    List<Target> resolve(CallEvent event, WebhookConfig webhook, List<WebhookConfig> subscribed) {
        Map<String, Target> byUrl = new LinkedHashMap<>();
        Set<String> webhookIds = new HashSet<>();
        List<Target> refusedLater = new ArrayList<>();
        if (webhook != null) {
            String id = webhook.id() == null ? event.webhookId() : webhook.id();
            webhookIds.add(id);
            Target named = new Target(Target.Kind.WEBHOOK, id, webhook.url(), "POST", webhook.secret());
            if (deliverable(webhook, event)) {
                add(byUrl, named);
            } else {
                refusedLater.add(named);
            }
        }
        for (WebhookConfig subscriber : subscribed) {
            if (webhookIds.add(subscriber.id())) {
                Target target = new Target(Target.Kind.SUBSCRIPTION, subscriber.id(), subscriber.url(), "POST",
                        subscriber.secret());
                if (deliverable(subscriber, event)) {
                    add(byUrl, target);
                } else {
                    refusedLater.add(target);
                }
            }
        }
        add(byUrl, hook(Target.Kind.NOTIFY, event.notifyUrl(), event.accountId()));
        if (event.eventType() == EventType.FINAL) {
            add(byUrl, hook(Target.Kind.ACTION, event.actionHook(), event.accountId()));
        }
        if (carriesDetection(event)) {
            add(byUrl, hook(Target.Kind.AMD, event.amdHook(), event.accountId()));
        }
        // A webhook that will be refused (disabled, or another account's) takes a URL only no one else has: sharing it
        // with a target that takes events, it would keep the event from that one and be refused itself.
        refusedLater.forEach(target -> add(byUrl, target));
        return new ArrayList<>(byUrl.values());
    }

    /**
     * Whether the event is the one the dispatcher publishes for an answering-machine detection (ADR 0034): a
     * {@code call.status} with {@code answered_by} whose status did not change. The attempt's {@code completed} event
     * and the {@code call.final} carry the stored result as well, but they report the call's end, not a detection:
     * the hook gets each detection once, as the carrier would have posted it there.
     */
    static boolean carriesDetection(CallEvent event) {
        return event.eventType() == EventType.STATUS && event.answeredBy() != null && event.status() != null
                && event.status().equals(event.previousStatus());
    }

    /**
     * Whether a delivery to {@code webhook} can be made: enabled (by its configuration and for its endpoint's health),
     * and of the event's own account.
     */
    private boolean deliverable(WebhookConfig webhook, CallEvent event) {
        return webhook.enabled() && (webhook.accountId() == null || webhook.accountId().equals(event.accountId()))
                && !healthDisabled.test(webhook);
    }

    private Target hook(Target.Kind kind, Hook hook, String accountId) {
        return hook == null || hook.url() == null || hook.url().isBlank() ? null
                : new Target(kind, kind.tag(), hook.url(), hook.method(), secretOf(accountId));
    }

    private String secretOf(String accountId) {
        return hookSecrets == null ? null : hookSecrets.of(accountId);
    }

    private static void add(Map<String, Target> byUrl, Target target) {
        if (target != null) {
            byUrl.putIfAbsent(target.url().trim(), target);
        }
    }
}
