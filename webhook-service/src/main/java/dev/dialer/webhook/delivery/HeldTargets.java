package dev.dialer.webhook.delivery;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The targets whose rows the retry poller leaves unclaimed because their account's endpoint refuses tries now (circuit
 * open, back-off after a 429, trial under way, or limit in flight; see {@link EndpointIsolation#refusing}). A claimed
 * row that its endpoint refuses is not a try, but it takes a share of the poller's capacity for nothing; an endpoint
 * with thousands of due rows would take all of it, tick after tick, and other accounts' retries would wait behind them.
 *
 * <p>A target is remembered when its endpoint refuses one of its tries, and forgotten as soon as the endpoint would
 * take a try again, so only targets whose endpoint refuses right now are held. A webhook's rows are held by its id (the
 * URL is looked up before each try), a per-request hook's by its account and endpoint
 * ({@link EndpointIsolation#endpoint}, kept in {@code webhook.retries.endpoint}): per-call hook URLs
 * ({@code https://app.example.com/status?call=<id>}) share one endpoint and one circuit, and held by URL each of them
 * would be claimed and refused once before it was held. Another account's rows for the same endpoint are not held:
 * its circuit is its own.
 *
 * <p>An account refused because it has its limit of tries in flight over all its endpoints
 * ({@link EndpointIsolation#accountRefusing}) is held whole, every row of it, while it is at that limit: its
 * endpoints may be a host per call, each held only once it had refused a row of its own.
 */
final class HeldTargets {

    /**
     * What a claim passes over: every row of the accounts, webhook ids, and the per-request hooks of
     * {@code hookAccounts[i]} to {@code hookEndpoints[i]}.
     */
    record Held(String[] accountIds, String[] webhookIds, String[] hookAccounts, String[] hookEndpoints) {

        /** Nothing held. */
        static Held none() {
            return new Held(new String[0], new String[0], new String[0], new String[0]);
        }

        /** Whether nothing is held. */
        boolean isEmpty() {
            return accountIds.length == 0 && webhookIds.length == 0 && hookAccounts.length == 0;
        }
    }

    /** What the isolation is asked about a held target. */
    private record Refused(String accountId, String url) {
    }

    /** A per-request hook's held rows: its account's, to its endpoint. */
    private record Hook(String accountId, String endpoint) {
    }

    private final EndpointIsolation isolation;
    private final Map<String, Refused> webhooks = new ConcurrentHashMap<>();
    private final Map<Hook, Refused> hooks = new ConcurrentHashMap<>();
    private final Set<String> accounts = ConcurrentHashMap.newKeySet();

    HeldTargets(EndpointIsolation isolation) {
        this.isolation = isolation;
    }

    /** The endpoint of the account's target, or the account, refused a try of it. */
    void refused(String accountId, Target target) {
        if (isolation.accountRefusing(accountId)) {
            accounts.add(accountId);
        }
        if (target.url() == null) {
            return;
        }
        Refused refused = new Refused(accountId, target.url());
        if (target.kind().isWebhook()) {
            webhooks.put(target.id(), refused);
        } else {
            hooks.put(new Hook(accountId, EndpointIsolation.endpoint(target.url())), refused);
        }
    }

    /** The accounts and targets that refuse tries now; the others are forgotten. */
    Held current() {
        accounts.removeIf(accountId -> !isolation.accountRefusing(accountId));
        // Removed only as they were tested: one refused again meanwhile, its entry replaced, stays.
        webhooks.values().removeIf(refused -> !isolation.refusing(refused.accountId(), refused.url()));
        hooks.values().removeIf(refused -> !isolation.refusing(refused.accountId(), refused.url()));
        return held(accounts, List.copyOf(webhooks.keySet()), List.copyOf(hooks.keySet()));
    }

    /**
     * The held targets whose endpoint is shut now ({@link EndpointIsolation#shut}: failing, or backing off after a
     * 429), held accounts left out: what the poller may give up once past the retry schedule's span. A target held
     * only because its endpoint, host or account has its limit in flight answers, and is not among them. Forgets
     * nothing: {@link #current} does.
     */
    Held shut() {
        return held(Set.of(), shut(webhooks), shut(hooks));
    }

    /** Accounts and targets held now, for the gauge. */
    int size() {
        return accounts.size() + webhooks.size() + hooks.size();
    }

    private static Held held(Set<String> accountIds, List<String> webhookIds, List<Hook> hooks) {
        return new Held(accountIds.toArray(String[]::new), webhookIds.toArray(String[]::new),
                hooks.stream().map(Hook::accountId).toArray(String[]::new),
                hooks.stream().map(Hook::endpoint).toArray(String[]::new));
    }

    private <K> List<K> shut(Map<K, Refused> targets) {
        return targets.entrySet().stream()
                .filter(target -> isolation.shut(target.getValue().accountId(), target.getValue().url()))
                .map(Map.Entry::getKey)
                .toList();
    }
}
