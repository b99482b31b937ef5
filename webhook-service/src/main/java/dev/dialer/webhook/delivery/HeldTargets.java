package dev.dialer.webhook.delivery;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The targets whose rows the retry poller leaves unclaimed because their endpoint refuses tries now (circuit open,
 * trial under way, or limit in flight; see {@link EndpointIsolation#refusing}). A claimed row that its endpoint refuses
 * is not a try, but it takes a share of the poller's capacity for nothing; an endpoint with thousands of due rows would
 * take all of it, tick after tick, and other accounts' retries would wait behind them.
 *
 * <p>A target is remembered when its endpoint refuses one of its tries, and forgotten as soon as the endpoint would
 * take a try again, so only targets whose endpoint refuses right now are held. A webhook's rows are held by its id (the
 * URL is looked up before each try), a per-request hook's by its endpoint ({@link EndpointIsolation#endpoint}, kept in
 * {@code webhook.retries.endpoint}): per-call hook URLs ({@code https://app.example.com/status?call=<id>}) share one
 * endpoint and one circuit, and held by URL each of them would be claimed and refused once before it was held.
 */
final class HeldTargets {

    /** What a claim passes over: webhook ids, and the endpoints of per-request hooks. */
    record Held(String[] webhookIds, String[] hookEndpoints) {
    }

    private final EndpointIsolation isolation;
    /** Webhook id, or a hook's endpoint, to the URL whose endpoint refused it. */
    private final Map<String, String> webhooks = new ConcurrentHashMap<>();
    private final Map<String, String> hooks = new ConcurrentHashMap<>();

    HeldTargets(EndpointIsolation isolation) {
        this.isolation = isolation;
    }

    /** The target's endpoint refused a try of it. */
    void refused(Target target) {
        if (target.url() == null) {
            return;
        }
        if (target.kind().isWebhook()) {
            webhooks.put(target.id(), target.url());
        } else {
            hooks.put(EndpointIsolation.endpoint(target.url()), target.url());
        }
    }

    /** The targets whose endpoint refuses tries now; the others are forgotten. */
    Held current() {
        return new Held(stillRefusing(webhooks), stillRefusing(hooks));
    }

    /** Targets held now, for the gauge. */
    int size() {
        return webhooks.size() + hooks.size();
    }

    private String[] stillRefusing(Map<String, String> targets) {
        List<String> held = new ArrayList<>();
        targets.forEach((target, url) -> {
            if (isolation.refusing(url)) {
                held.add(target);
            } else {
                targets.remove(target, url);
            }
        });
        return held.toArray(String[]::new);
    }
}
