package dev.dialer.webhook.delivery;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Keeps one account's endpoint (the account, and a URL's scheme, host and port) from taking capacity from the others:
 * a concurrency limit and a circuit breaker per account and endpoint, neither of which ever waits, a larger
 * concurrency limit per endpoint over all accounts, a safety cap for a shared host (hooks.slack.com, say) that hangs
 * for everyone, and a concurrency limit per account over all its endpoints, so that an account whose URLs each name a
 * host of their own (a subdomain per call) cannot have a limit per host and take every slot of the instance with
 * endpoints that hang. A try refused by any of them comes back at once as {@link Reason#ENDPOINT_BUSY},
 * {@link Reason#CIRCUIT_OPEN} (with how long the circuit stays open) or {@link Reason#RATE_LIMITED} (with how long the
 * back-off lasts); the caller moves it to the durable retry table without counting it as a try. {@link #refusing}
 * tells whether an account's endpoint would refuse a try now, so that the retry poller leaves its rows alone
 * meanwhile. Every refusal by a concurrency limit is counted by limit ({@code dialer_webhook_isolation_busy_total}),
 * and an account that reaches its own limit is logged once until it is below it again.
 *
 * <p>Hosts such as hooks.slack.com or discord.com serve many customers, and answer 429 per webhook: keyed by host
 * alone, one account's busy channel opened the circuit of every account on the host. A 429 is not the endpoint
 * failing: it is not counted by the breaker, and its {@code Retry-After} (at most {@code open-duration}) holds back
 * that account's tries of the endpoint until then. Endpoints and accounts unused for a while are forgotten, so the
 * maps stay bounded by those in use; the breakers are not registered as meters (their names would be hosts, and there
 * is one per account).
 */
final class EndpointIsolation {

    private static final Logger log = LoggerFactory.getLogger(EndpointIsolation.class);

    /** The concurrency limit that refused a try: the {@code limit} tag of the refusals counted (bounded). */
    enum Limit {
        /** The account's tries in flight to the endpoint ({@code max-concurrent-per-endpoint}). */
        ENDPOINT,
        /** All accounts' tries in flight to the endpoint ({@code max-concurrent-per-host}). */
        HOST,
        /** The account's tries in flight to all its endpoints ({@code max-concurrent-per-account}). */
        ACCOUNT;

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final BulkheadConfig bulkheadConfig;
    private final BulkheadConfig hostConfig;
    private final BulkheadConfig accountConfig;
    private final CircuitBreakerConfig breakerConfig;
    private final long idleNanos;
    private final long openNanos;
    private final int maxConcurrent;
    private final int maxConcurrentPerHost;
    private final int maxConcurrentPerAccount;
    /** Tries in flight to a host from which its last quarter is kept for accounts with few tries there. */
    private final int crowdedHost;
    /** Fewer tries in flight than this to a crowded host let an account take one more ({@link #crowdedOut}). */
    private final int fewTries;
    private final DeliveryMetrics metrics;
    private final Map<Key, Guard> guards = new ConcurrentHashMap<>();
    private final Map<String, Host> hosts = new ConcurrentHashMap<>();
    private final Map<String, Account> accounts = new ConcurrentHashMap<>();
    private volatile long lastSweep = System.nanoTime();

    /** Endpoints tracked past which quiet ones are forgotten sooner ({@link #sweep}). */
    static final int CROWDED = 10_000;
    private static final long CROWDED_SWEEP_SPACING = TimeUnit.SECONDS.toNanos(1);

    /** One account's endpoint. */
    private record Key(String accountId, String endpoint) {
    }

    EndpointIsolation(IsolationProperties properties, DeliveryMetrics metrics) {
        this.metrics = metrics;
        this.bulkheadConfig = BulkheadConfig.custom()
                .maxConcurrentCalls(properties.maxConcurrentPerEndpoint())
                // Any wait above zero would block the calling thread, an event loop here.
                .maxWaitDuration(Duration.ZERO)
                .build();
        this.hostConfig = BulkheadConfig.custom()
                .maxConcurrentCalls(properties.maxConcurrentPerHost())
                .maxWaitDuration(Duration.ZERO)
                .build();
        this.accountConfig = BulkheadConfig.custom()
                .maxConcurrentCalls(properties.maxConcurrentPerAccount())
                .maxWaitDuration(Duration.ZERO)
                .build();
        this.breakerConfig = CircuitBreakerConfig.custom()
                .failureRateThreshold(properties.failureRateThreshold())
                .minimumNumberOfCalls(properties.minimumCalls())
                .slidingWindowSize(properties.windowSize())
                .waitDurationInOpenState(properties.openDuration())
                .permittedNumberOfCallsInHalfOpenState(1)
                .build();
        this.idleNanos = properties.idleEviction().toNanos();
        this.openNanos = properties.openDuration().toNanos();
        this.maxConcurrent = properties.maxConcurrentPerEndpoint();
        this.maxConcurrentPerHost = properties.maxConcurrentPerHost();
        this.maxConcurrentPerAccount = properties.maxConcurrentPerAccount();
        this.crowdedHost = maxConcurrentPerHost - maxConcurrentPerHost / 4;
        this.fewTries = Math.max(1, maxConcurrent / 4);
    }

    /**
     * Runs the account's try unless its endpoint refuses it. The try should never error; if it does (or its supplier
     * throws), the error goes on to the caller and the slots and circuit permission are given back all the same, so a
     * bug in one try never leaves its endpoint refusing for good.
     */
    Mono<AttemptResult> call(String accountId, String url, Supplier<Mono<AttemptResult>> attempt) {
        return Mono.defer(() -> {
            long now = System.nanoTime();
            String endpoint = endpoint(url);
            Guard guard = guard(new Key(accountId, endpoint), now);
            long backOff = guard.backOffFor(now);
            if (backOff > 0) {
                return Mono.just(AttemptResult.rateLimited(Duration.ofNanos(backOff)));
            }
            if (!guard.breaker.tryAcquirePermission()) {
                return Mono.just(AttemptResult.circuitOpen(Duration.ofNanos(guard.openFor(now))));
            }
            if (!guard.bulkhead.tryAcquirePermission()) {
                guard.breaker.releasePermission();
                return Mono.just(busy(Limit.ENDPOINT));
            }
            Host host = host(endpoint, now);
            // This try's own permission is taken already: the account had one fewer in flight before it.
            if (crowdedOut(host, inFlight(guard) - 1) || !host.bulkhead.tryAcquirePermission()) {
                guard.bulkhead.onComplete();
                guard.breaker.releasePermission();
                return Mono.just(busy(Limit.HOST));
            }
            Account account = account(accountId, now);
            if (!account.bulkhead.tryAcquirePermission()) {
                host.bulkhead.onComplete();
                guard.bulkhead.onComplete();
                guard.breaker.releasePermission();
                account.refused(accountId, maxConcurrentPerAccount);
                return Mono.just(busy(Limit.ACCOUNT));
            }
            // Deferred: a supplier that throws must still meet the doFinally that gives the slots back.
            return Mono.defer(attempt)
                    .doOnNext(result -> recordResult(guard, result))
                    .doOnError(error -> guard.breaker.releasePermission())
                    .doOnCancel(guard.breaker::releasePermission)
                    .doFinally(signal -> {
                        account.ended(accountId);
                        host.bulkhead.onComplete();
                        guard.bulkhead.onComplete();
                    });
        });
    }

    /** A try refused by a concurrency limit, counted by limit; not a try, and never a wait. */
    private AttemptResult busy(Limit limit) {
        metrics.isolationBusy(limit);
        return AttemptResult.failed(Reason.ENDPOINT_BUSY, limit.tag() + " busy", Duration.ZERO);
    }

    /**
     * Whether the account's endpoint would refuse a try now: it is backing off after a 429, or its circuit is open and
     * not yet due to let a trial through, or half-open with the trial under way, or it has its limit of tries in
     * flight, or the endpoint has its limit over all accounts in flight, or the account has its limit over all its
     * endpoints in flight. An endpoint past its open time is not refusing: the next try is the trial that may close the
     * circuit.
     */
    boolean refusing(String accountId, String url) {
        if (accountRefusing(accountId)) {
            return true;
        }
        String endpoint = endpoint(url);
        Host host = hosts.get(endpoint);
        if (host != null && host.bulkhead.getMetrics().getAvailableConcurrentCalls() == 0) {
            return true;
        }
        Guard guard = guards.get(new Key(accountId, endpoint));
        if (guard == null) {
            return false;
        }
        int inFlight = inFlight(guard);
        if (shut(guard, System.nanoTime()) || (host != null && crowdedOut(host, inFlight))) {
            return true;
        }
        return switch (guard.breaker.getState()) {
            case OPEN -> false; // past its open time: the next try is the trial
            case HALF_OPEN -> inFlight > 0;
            default -> inFlight >= maxConcurrent;
        };
    }

    /**
     * Whether an account with {@code ownInFlight} tries in flight to the host may not take another because the host is
     * crowded: three quarters of its cap in flight over all accounts, and the account not among those with few tries
     * there. The last quarter is kept for them, so that a few accounts whose endpoints on a shared host answer slowly
     * (each up to its own endpoint limit) cannot take every slot of the host and leave the others' tries refused.
     */
    private boolean crowdedOut(Host host, int ownInFlight) {
        int hostInFlight = maxConcurrentPerHost - host.bulkhead.getMetrics().getAvailableConcurrentCalls();
        return hostInFlight >= crowdedHost && ownInFlight >= fewTries;
    }

    private int inFlight(Guard guard) {
        return maxConcurrent - guard.bulkhead.getMetrics().getAvailableConcurrentCalls();
    }

    /**
     * Whether the account's endpoint refuses tries because it fails or asked for time, not because tries are in flight:
     * its circuit is open and not yet due to let a trial through, or it is backing off after a 429. An endpoint that
     * only has its limit in flight, or whose host or account has, is not shut: it answers, and its rows go as room
     * frees; nor is one whose trial is under way, which may be answering again.
     */
    boolean shut(String accountId, String url) {
        Guard guard = guards.get(new Key(accountId, endpoint(url)));
        return guard != null && shut(guard, System.nanoTime());
    }

    private static boolean shut(Guard guard, long now) {
        return guard.backOffFor(now) > 0
                || guard.breaker.getState() == CircuitBreaker.State.OPEN && guard.openFor(now) > 0;
    }

    /**
     * Whether the account has its limit of tries in flight over all its endpoints, so that every endpoint of it refuses
     * a try now.
     */
    boolean accountRefusing(String accountId) {
        Account account = accounts.get(accountId);
        return account != null && account.bulkhead.getMetrics().getAvailableConcurrentCalls() == 0;
    }

    /** Accounts' endpoints whose circuit is open now (not counting half-open ones). */
    long openCircuits() {
        return guards.values().stream().filter(guard -> guard.breaker.getState() == CircuitBreaker.State.OPEN)
                .count();
    }

    private void recordResult(Guard guard, AttemptResult result) {
        if ((result.reason() == Reason.FORBIDDEN_TARGET || result.reason() == Reason.INVALID_TARGET)
                && result.statusCode() == null) {
            // A target the dialer refuses to call, or cannot (a URL it cannot parse, a webhook's secret that is not
            // base64), says nothing about the endpoint: the permission goes back unused. Counted as a failure, one
            // webhook's bad secret opened the circuit of the account's other webhooks on the same endpoint.
            guard.breaker.releasePermission();
            return;
        }
        if (Integer.valueOf(429).equals(result.statusCode())) {
            // The endpoint answering that this account goes too fast: its back-off, not the endpoint failing.
            guard.breaker.releasePermission();
            if (result.retryAfter() != null) {
                // Compared as durations: the nanoseconds of a Retry-After of centuries do not fit in a long.
                Duration open = Duration.ofNanos(openNanos);
                guard.backOff(result.retryAfter().compareTo(open) < 0 ? result.retryAfter().toNanos() : openNanos);
            }
            return;
        }
        long nanos = result.latency().toNanos();
        if (result.succeeded() || result.statusCode() != null && result.statusCode() < 500) {
            // A 4xx is the endpoint answering promptly about this event, not the endpoint being down.
            guard.breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
        } else {
            guard.breaker.onError(nanos, TimeUnit.NANOSECONDS, new EndpointFailure(result.reason()));
        }
    }

    private Guard guard(Key key, long now) {
        sweep(now);
        Guard guard = guards.computeIfAbsent(key, k -> new Guard(Bulkhead.of(k.endpoint(), bulkheadConfig),
                CircuitBreaker.of(k.endpoint(), breakerConfig), openNanos));
        guard.lastUsed = now;
        return guard;
    }

    private Host host(String endpoint, long now) {
        Host host = hosts.computeIfAbsent(endpoint, key -> new Host(Bulkhead.of(key, hostConfig)));
        host.lastUsed = now;
        return host;
    }

    private Account account(String accountId, long now) {
        Account account = accounts.computeIfAbsent(accountId, key -> new Account(Bulkhead.of(key, accountConfig)));
        account.lastUsed = now;
        return account;
    }

    /**
     * Forgets what has been unused for {@code idle-eviction}, swept every quarter of it. Past {@link #CROWDED}
     * endpoints (hooks whose URLs name a host of their own per call, at a high call rate: each host an endpoint used
     * for one call's few events) it sweeps every second and forgets sooner what is quiet: unused for a thirtieth of
     * {@code idle-eviction} (a minute by default), nothing in flight, its circuit closed and no back-off pending. So
     * an endpoint's state is kept for as long as it says anything, and the maps stay bounded by the endpoints used in
     * about a minute rather than in half an hour.
     */
    private void sweep(long now) {
        boolean crowded = guards.size() > CROWDED || hosts.size() > CROWDED;
        if (now - lastSweep < (crowded ? CROWDED_SWEEP_SPACING : idleNanos / 4)) {
            return;
        }
        lastSweep = now;
        long idle = crowded ? idleNanos / 30 : idleNanos;
        guards.entrySet().removeIf(entry -> now - entry.getValue().lastUsed > idle
                && entry.getValue().bulkhead.getMetrics().getAvailableConcurrentCalls() == maxConcurrent
                && (!crowded || entry.getValue().quiet(now)));
        hosts.entrySet().removeIf(entry -> now - entry.getValue().lastUsed > idle
                && entry.getValue().bulkhead.getMetrics().getAvailableConcurrentCalls() == maxConcurrentPerHost);
        accounts.entrySet().removeIf(entry -> now - entry.getValue().lastUsed > idle
                && entry.getValue().bulkhead.getMetrics().getAvailableConcurrentCalls() == maxConcurrentPerAccount);
    }

    /** How many account endpoints are tracked: bounded by those used lately ({@link #sweep}). */
    int tracked() {
        return guards.size();
    }

    /**
     * A URL's endpoint, {@code <scheme>://<host>:<port>} in lower case ({@code -1} for the scheme's own port, written
     * or not), as {@code webhook.retries.endpoint} keeps it. One endpoint however its URLs spell it: the host's
     * trailing dot ({@code h.com.}) and the scheme's port written out ({@code :443}) name the same server, which would
     * otherwise get a limit and a circuit for each spelling.
     */
    static String endpoint(String url) {
        try {
            URI uri = URI.create(url.trim());
            String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
            String host = uri.getHost().toLowerCase(Locale.ROOT);
            if (host.endsWith(".")) {
                host = host.substring(0, host.length() - 1);
            }
            int port = uri.getPort();
            if (("https".equals(scheme) && port == 443) || ("http".equals(scheme) && port == 80)) {
                port = -1;
            }
            return scheme + "://" + host + ":" + port;
        } catch (RuntimeException e) {
            return "invalid";
        }
    }

    private static final class Guard {
        final Bulkhead bulkhead;
        final CircuitBreaker breaker;
        volatile long lastUsed;
        /** When the circuit's latest opening ends ({@link System#nanoTime()}); the breaker does not say. */
        volatile long openUntil;
        /** When the back-off of the latest 429 ends ({@link System#nanoTime()}); in the past when there is none. */
        volatile long backOffUntil;
        volatile boolean backingOff;

        Guard(Bulkhead bulkhead, CircuitBreaker breaker, long openNanos) {
            this.bulkhead = bulkhead;
            this.breaker = breaker;
            // Published synchronously on the thread that opened the circuit.
            breaker.getEventPublisher().onStateTransition(event -> {
                if (event.getStateTransition().getToState() == CircuitBreaker.State.OPEN) {
                    openUntil = System.nanoTime() + openNanos;
                }
            });
        }

        /** How much longer an open circuit refuses every try, in nanoseconds; 0 when it is not open (or past it). */
        long openFor(long now) {
            return breaker.getState() == CircuitBreaker.State.OPEN ? Math.max(0, openUntil - now) : 0;
        }

        /** Holds tries back for {@code nanos} from now, or longer if an earlier back-off lasts longer. */
        synchronized void backOff(long nanos) {
            long until = System.nanoTime() + nanos;
            if (!backingOff || until - backOffUntil > 0) {
                backOffUntil = until;
                backingOff = true;
            }
        }

        /** How much longer tries are held back after a 429, in nanoseconds; 0 when they are not. */
        long backOffFor(long now) {
            return backingOff ? Math.max(0, backOffUntil - now) : 0;
        }

        /** Whether forgetting it loses nothing that holds tries back: its circuit closed, no back-off pending. */
        boolean quiet(long now) {
            return breaker.getState() == CircuitBreaker.State.CLOSED && backOffFor(now) == 0;
        }
    }

    /** The limit of one endpoint's tries over all accounts. */
    private static final class Host {
        final Bulkhead bulkhead;
        volatile long lastUsed;

        Host(Bulkhead bulkhead) {
            this.bulkhead = bulkhead;
        }
    }

    /** The limit of one account's tries over all its endpoints. */
    private static final class Account {
        final Bulkhead bulkhead;
        volatile long lastUsed;
        /** Tries refused since the account reached its limit; 0 while it is below it. */
        final AtomicLong refused = new AtomicLong();

        Account(Bulkhead bulkhead) {
            this.bulkhead = bulkhead;
        }

        /** A try refused by the limit; the first of a spell at the limit is logged. */
        void refused(String accountId, int limit) {
            if (refused.getAndIncrement() == 0) {
                log.warn("account {} has {} webhook tries in flight, its limit over all its endpoints "
                        + "(dialer.webhook.isolation.max-concurrent-per-account): its further tries are refused and "
                        + "retried later until one ends", accountId, limit);
            }
        }

        /** A try ended: its slot is given back, and a spell at the limit ends with it. */
        void ended(String accountId) {
            bulkhead.onComplete();
            if (refused.get() > 0) {
                long count = refused.getAndSet(0);
                if (count > 0) {
                    log.info("account {} is below its limit of webhook tries in flight again, after {} of its tries "
                            + "were refused", accountId, count);
                }
            }
        }
    }

    /** What the breaker records for a failed try (never thrown). */
    private static final class EndpointFailure extends RuntimeException {
        EndpointFailure(Reason reason) {
            super(reason.tag(), null, false, false);
        }
    }
}
