package dev.dialer.webhook.delivery;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The retries the poller has in flight, by account and endpoint and by account: a claim serves first the accounts (and
 * within an account the endpoints) with the fewest of them, so that a slot freed by one account's slow endpoint goes to
 * another account's due row before it goes to the next of that backlog, and takes no more rows of either than the
 * concurrency limits of {@link EndpointIsolation} leave room for ({@code max-concurrent-per-endpoint},
 * {@code max-concurrent-per-account}), less a quarter of each kept for first tries ({@link #retryShare}). A row claimed
 * beyond them would only be refused (not a try, stored again a moment later), and it would take a slot of the poller
 * that another account's due retry could have had.
 *
 * <p>An endpoint is named as the claim names it ({@link #endpointOf}): as {@link EndpointIsolation#endpoint} names it
 * and {@code webhook.retries.endpoint} keeps it, for a hook from its URL, for a webhook from its URL when its row was
 * stored (its URL is looked up again before each try), so that webhooks of one account on one host share one room, as
 * they share one limit in the isolation. A webhook whose URL was not known when its row was stored (the directory did
 * not have it yet) goes by its id; one whose URL moved to another host since is counted against the old one until its
 * row is tried. Only the poller's own tries are counted: first tries to the same endpoint fill its limit without the
 * claim knowing, and the rows it then refuses are held ({@link HeldTargets}).
 */
final class RetriesInFlight {

    /** What names a webhook's endpoint in a claim, before its id; a hook's endpoint starts with its URL's scheme. */
    static final String WEBHOOK = "webhook ";

    /**
     * What a claim goes by: at most {@code perEndpoint} tries of an account's endpoint and {@code perAccount} of an
     * account in flight, of which {@code endpointTries[i]} of account {@code endpointAccounts[i]} to
     * {@code endpoints[i]}, and {@code accountTries[i]} of account {@code accounts[i]}, are already. An endpoint or
     * account not named has nothing in flight.
     */
    record Room(int perEndpoint, int perAccount, String[] endpointAccounts, String[] endpoints,
                Integer[] endpointTries, String[] accounts, Integer[] accountTries) {

        /** The whole of both limits for every endpoint and account: nothing in flight. */
        static Room empty(int perEndpoint, int perAccount) {
            return new Room(perEndpoint, perAccount, new String[0], new String[0], new Integer[0], new String[0],
                    new Integer[0]);
        }

        /** The accounts with their limit in flight, of which no row is claimed. */
        String[] fullAccounts() {
            List<String> full = new ArrayList<>();
            for (int i = 0; i < accounts.length; i++) {
                if (accountTries[i] >= perAccount) {
                    full.add(accounts[i]);
                }
            }
            return full.toArray(String[]::new);
        }

        /** The endpoints with their limit in flight ({@link #fullEndpoints} of these accounts), of which none is. */
        String[] fullEndpointAccounts() {
            return fullEndpoints(true);
        }

        /** The endpoints with their limit in flight, of {@link #fullEndpointAccounts} in turn. */
        String[] fullEndpoints() {
            return fullEndpoints(false);
        }

        private String[] fullEndpoints(boolean accountIds) {
            List<String> full = new ArrayList<>();
            for (int i = 0; i < endpoints.length; i++) {
                if (endpointTries[i] >= perEndpoint) {
                    full.add(accountIds ? endpointAccounts[i] : endpoints[i]);
                }
            }
            return full.toArray(String[]::new);
        }
    }

    /** One account's endpoint, as a claim names it. */
    private record Endpoint(String accountId, String endpoint) {
    }

    private final int perEndpoint;
    private final int perAccount;
    private final Map<Endpoint, Integer> endpoints = new ConcurrentHashMap<>();
    private final Map<String, Integer> accounts = new ConcurrentHashMap<>();
    private final AtomicInteger total = new AtomicInteger();

    /**
     * @param endpointLimit {@code max-concurrent-per-endpoint} of the isolation
     * @param accountLimit  {@code max-concurrent-per-account} of the isolation
     */
    RetriesInFlight(int endpointLimit, int accountLimit) {
        this.perEndpoint = retryShare(endpointLimit);
        this.perAccount = retryShare(accountLimit);
    }

    /**
     * The part of a concurrency limit the poller's tries may take: three quarters (at least one), the rest kept for
     * first tries. With the whole limit, an endpoint back from a long outage with thousands of due rows had every slot
     * taken by its backlog; each live event's first try was refused as busy and stored behind that backlog, due after
     * all of it: status events arrived only once the backlog had drained.
     */
    static int retryShare(int limit) {
        return Math.max(1, limit - (limit + 3) / 4);
    }

    /** A claimed row's try starts. */
    void started(DeliveryTask task) {
        total.incrementAndGet();
        endpoints.merge(endpoint(task), 1, Integer::sum);
        accounts.merge(task.accountId(), 1, Integer::sum);
    }

    /** A claimed row's try has ended, however it ended. */
    void ended(DeliveryTask task) {
        endpoints.computeIfPresent(endpoint(task), (key, tries) -> tries > 1 ? tries - 1 : null);
        accounts.computeIfPresent(task.accountId(), (key, tries) -> tries > 1 ? tries - 1 : null);
        total.decrementAndGet();
    }

    /** The poller's tries in flight, over every account. */
    int total() {
        return total.get();
    }

    /** The room a claim has now. */
    Room room() {
        List<String> endpointAccounts = new ArrayList<>();
        List<String> endpointNames = new ArrayList<>();
        List<Integer> endpointTries = new ArrayList<>();
        endpoints.forEach((endpoint, tries) -> {
            endpointAccounts.add(endpoint.accountId());
            endpointNames.add(endpoint.endpoint());
            endpointTries.add(tries);
        });
        List<String> accountIds = new ArrayList<>();
        List<Integer> accountTries = new ArrayList<>();
        accounts.forEach((accountId, tries) -> {
            accountIds.add(accountId);
            accountTries.add(tries);
        });
        return new Room(perEndpoint, perAccount, endpointAccounts.toArray(String[]::new),
                endpointNames.toArray(String[]::new), endpointTries.toArray(Integer[]::new),
                accountIds.toArray(String[]::new), accountTries.toArray(Integer[]::new));
    }

    /**
     * What a claim counts a delivery's row against: its stored endpoint; without one, a webhook's id after
     * {@link #WEBHOOK}, a hook's URL's endpoint. The claim's own reading of a row ({@code RetryStore}) must name it
     * alike.
     */
    static String endpointOf(DeliveryTask task) {
        if (task.endpoint() != null) {
            return task.endpoint();
        }
        Target target = task.target();
        return target.kind().isWebhook() ? WEBHOOK + target.id() : EndpointIsolation.endpoint(target.url());
    }

    private static Endpoint endpoint(DeliveryTask task) {
        return new Endpoint(task.accountId(), endpointOf(task));
    }
}
