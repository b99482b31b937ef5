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
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/**
 * Keeps one account's endpoint (the account, and a URL's scheme, host and port) from taking capacity from the others:
 * a concurrency limit and a circuit breaker per account and endpoint, neither of which ever waits, and a larger
 * concurrency limit per endpoint over all accounts, a safety cap for a shared host (hooks.slack.com, say) that hangs
 * for everyone. A try refused by any of them comes back at once as {@link Reason#ENDPOINT_BUSY},
 * {@link Reason#CIRCUIT_OPEN} (with how long the circuit stays open) or {@link Reason#RATE_LIMITED} (with how long the
 * back-off lasts); the caller moves it to the durable retry table without counting it as a try. {@link #refusing}
 * tells whether an account's endpoint would refuse a try now, so that the retry poller leaves its rows alone
 * meanwhile.
 *
 * <p>Hosts such as hooks.slack.com or discord.com serve many customers, and answer 429 per webhook: keyed by host
 * alone, one account's busy channel opened the circuit of every account on the host. A 429 is not the endpoint
 * failing: it is not counted by the breaker, and its {@code Retry-After} (at most {@code open-duration}) holds back
 * that account's tries of the endpoint until then. Endpoints unused for a while are forgotten, so the maps stay
 * bounded by the endpoints in use; the breakers are not registered as meters (their names would be hosts, and there
 * is one per account).
 */
final class EndpointIsolation {

    private final BulkheadConfig bulkheadConfig;
    private final BulkheadConfig hostConfig;
    private final CircuitBreakerConfig breakerConfig;
    private final long idleNanos;
    private final long openNanos;
    private final int maxConcurrent;
    private final int maxConcurrentPerHost;
    private final Map<Key, Guard> guards = new ConcurrentHashMap<>();
    private final Map<String, Host> hosts = new ConcurrentHashMap<>();
    private volatile long lastSweep = System.nanoTime();

    /** One account's endpoint. */
    private record Key(String accountId, String endpoint) {
    }

    EndpointIsolation(IsolationProperties properties) {
        this.bulkheadConfig = BulkheadConfig.custom()
                .maxConcurrentCalls(properties.maxConcurrentPerEndpoint())
                // Any wait above zero would block the calling thread, an event loop here.
                .maxWaitDuration(Duration.ZERO)
                .build();
        this.hostConfig = BulkheadConfig.custom()
                .maxConcurrentCalls(properties.maxConcurrentPerHost())
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
                return Mono.just(AttemptResult.failed(Reason.ENDPOINT_BUSY, "endpoint busy", Duration.ZERO));
            }
            Host host = host(endpoint, now);
            if (!host.bulkhead.tryAcquirePermission()) {
                guard.bulkhead.onComplete();
                guard.breaker.releasePermission();
                return Mono.just(AttemptResult.failed(Reason.ENDPOINT_BUSY, "host busy", Duration.ZERO));
            }
            // Deferred: a supplier that throws must still meet the doFinally that gives the slots back.
            return Mono.defer(attempt)
                    .doOnNext(result -> recordResult(guard, result))
                    .doOnError(error -> guard.breaker.releasePermission())
                    .doOnCancel(guard.breaker::releasePermission)
                    .doFinally(signal -> {
                        host.bulkhead.onComplete();
                        guard.bulkhead.onComplete();
                    });
        });
    }

    /**
     * Whether the account's endpoint would refuse a try now: it is backing off after a 429, or its circuit is open and
     * not yet due to let a trial through, or half-open with the trial under way, or it has its limit of tries in
     * flight, or the endpoint has its limit over all accounts in flight. An endpoint past its open time is not
     * refusing: the next try is the trial that may close the circuit.
     */
    boolean refusing(String accountId, String url) {
        String endpoint = endpoint(url);
        Host host = hosts.get(endpoint);
        if (host != null && host.bulkhead.getMetrics().getAvailableConcurrentCalls() == 0) {
            return true;
        }
        Guard guard = guards.get(new Key(accountId, endpoint));
        if (guard == null) {
            return false;
        }
        long now = System.nanoTime();
        if (guard.backOffFor(now) > 0) {
            return true;
        }
        int inFlight = maxConcurrent - guard.bulkhead.getMetrics().getAvailableConcurrentCalls();
        return switch (guard.breaker.getState()) {
            case OPEN -> guard.openFor(now) > 0;
            case HALF_OPEN -> inFlight > 0;
            default -> inFlight >= maxConcurrent;
        };
    }

    /** Accounts' endpoints whose circuit is open now (not counting half-open ones). */
    long openCircuits() {
        return guards.values().stream().filter(guard -> guard.breaker.getState() == CircuitBreaker.State.OPEN)
                .count();
    }

    private void recordResult(Guard guard, AttemptResult result) {
        if (result.reason() == Reason.FORBIDDEN_TARGET && result.statusCode() == null) {
            // A target the dialer refuses to call says nothing about the endpoint: the permission goes back unused.
            guard.breaker.releasePermission();
            return;
        }
        if (Integer.valueOf(429).equals(result.statusCode())) {
            // The endpoint answering that this account goes too fast: its back-off, not the endpoint failing.
            guard.breaker.releasePermission();
            if (result.retryAfter() != null) {
                guard.backOff(Math.min(result.retryAfter().toNanos(), openNanos));
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

    private void sweep(long now) {
        if (now - lastSweep < idleNanos / 4) {
            return;
        }
        lastSweep = now;
        guards.entrySet().removeIf(entry -> now - entry.getValue().lastUsed > idleNanos
                && entry.getValue().bulkhead.getMetrics().getAvailableConcurrentCalls() == maxConcurrent);
        hosts.entrySet().removeIf(entry -> now - entry.getValue().lastUsed > idleNanos
                && entry.getValue().bulkhead.getMetrics().getAvailableConcurrentCalls() == maxConcurrentPerHost);
    }

    /**
     * A URL's endpoint, {@code <scheme>://<host>:<port>} in lower case ({@code -1} for no port), as
     * {@code webhook.retries.endpoint} keeps it.
     */
    static String endpoint(String url) {
        try {
            URI uri = URI.create(url.trim());
            return uri.getScheme().toLowerCase(Locale.ROOT) + "://" + uri.getHost().toLowerCase(Locale.ROOT) + ":"
                    + uri.getPort();
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
    }

    /** The limit of one endpoint's tries over all accounts. */
    private static final class Host {
        final Bulkhead bulkhead;
        volatile long lastUsed;

        Host(Bulkhead bulkhead) {
            this.bulkhead = bulkhead;
        }
    }

    /** What the breaker records for a failed try (never thrown). */
    private static final class EndpointFailure extends RuntimeException {
        EndpointFailure(Reason reason) {
            super(reason.tag(), null, false, false);
        }
    }
}
