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
 * Keeps one endpoint (a URL's scheme, host and port) from taking capacity from the others: a concurrency limit and a
 * circuit breaker per endpoint, neither of which ever waits. A try refused by either comes back at once as
 * {@link Reason#ENDPOINT_BUSY} or {@link Reason#CIRCUIT_OPEN} (with how long the circuit stays open); the caller moves
 * it to the durable retry table without counting it as a try. {@link #refusing} tells whether an endpoint would refuse
 * a try now, so that the retry poller leaves its rows alone meanwhile. Endpoints unused for a while are forgotten, so
 * the map stays bounded by the endpoints in use; the breakers are not registered as meters (their names would be
 * hosts).
 */
final class EndpointIsolation {

    private final BulkheadConfig bulkheadConfig;
    private final CircuitBreakerConfig breakerConfig;
    private final long idleNanos;
    private final long openNanos;
    private final int maxConcurrent;
    private final Map<String, Guard> guards = new ConcurrentHashMap<>();
    private volatile long lastSweep = System.nanoTime();

    EndpointIsolation(IsolationProperties properties) {
        this.bulkheadConfig = BulkheadConfig.custom()
                .maxConcurrentCalls(properties.maxConcurrentPerEndpoint())
                // Any wait above zero would block the calling thread, an event loop here.
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
    }

    /**
     * Runs the try unless the endpoint refuses it. The try should never error; if it does (or its supplier throws),
     * the error goes on to the caller and the endpoint's slot and circuit permission are given back all the same, so a
     * bug in one try never leaves its endpoint refusing for good.
     */
    Mono<AttemptResult> call(String url, Supplier<Mono<AttemptResult>> attempt) {
        return Mono.defer(() -> {
            Guard guard = guard(endpoint(url));
            if (!guard.breaker.tryAcquirePermission()) {
                return Mono.just(AttemptResult.circuitOpen(Duration.ofNanos(guard.openFor(System.nanoTime()))));
            }
            if (!guard.bulkhead.tryAcquirePermission()) {
                guard.breaker.releasePermission();
                return Mono.just(AttemptResult.failed(Reason.ENDPOINT_BUSY, "endpoint busy", Duration.ZERO));
            }
            // Deferred: a supplier that throws must still meet the doFinally that gives the slot back.
            return Mono.defer(attempt)
                    .doOnNext(result -> recordResult(guard, result))
                    .doOnError(error -> guard.breaker.releasePermission())
                    .doOnCancel(guard.breaker::releasePermission)
                    .doFinally(signal -> guard.bulkhead.onComplete());
        });
    }

    /**
     * Whether the URL's endpoint would refuse a try now: its circuit is open and not yet due to let a trial through,
     * or half-open with the trial under way, or it has its limit of tries in flight. An endpoint past its open time is
     * not refusing: the next try is the trial that may close the circuit.
     */
    boolean refusing(String url) {
        Guard guard = guards.get(endpoint(url));
        if (guard == null) {
            return false;
        }
        int inFlight = maxConcurrent - guard.bulkhead.getMetrics().getAvailableConcurrentCalls();
        return switch (guard.breaker.getState()) {
            case OPEN -> guard.openFor(System.nanoTime()) > 0;
            case HALF_OPEN -> inFlight > 0;
            default -> inFlight >= maxConcurrent;
        };
    }

    /** Endpoints currently open (not counting half-open ones). */
    long openCircuits() {
        return guards.values().stream().filter(guard -> guard.breaker.getState() == CircuitBreaker.State.OPEN)
                .count();
    }

    private static void recordResult(Guard guard, AttemptResult result) {
        if (result.reason() == Reason.FORBIDDEN_TARGET && result.statusCode() == null) {
            // A target the dialer refuses to call says nothing about the endpoint: the permission goes back unused.
            guard.breaker.releasePermission();
            return;
        }
        long nanos = result.latency().toNanos();
        if (result.succeeded() || result.statusCode() != null && result.statusCode() < 500
                && result.statusCode() != 429) {
            // A 4xx is the endpoint answering promptly about this event, not the endpoint being down.
            guard.breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
        } else {
            guard.breaker.onError(nanos, TimeUnit.NANOSECONDS, new EndpointFailure(result.reason()));
        }
    }

    private Guard guard(String endpoint) {
        long now = System.nanoTime();
        sweep(now);
        Guard guard = guards.computeIfAbsent(endpoint, key -> new Guard(Bulkhead.of(key, bulkheadConfig),
                CircuitBreaker.of(key, breakerConfig), openNanos));
        guard.lastUsed = now;
        return guard;
    }

    private void sweep(long now) {
        if (now - lastSweep < idleNanos / 4) {
            return;
        }
        lastSweep = now;
        guards.entrySet().removeIf(entry -> now - entry.getValue().lastUsed > idleNanos
                && entry.getValue().bulkhead.getMetrics().getAvailableConcurrentCalls()
                == bulkheadConfig.getMaxConcurrentCalls());
    }

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
    }

    /** What the breaker records for a failed try (never thrown). */
    private static final class EndpointFailure extends RuntimeException {
        EndpointFailure(Reason reason) {
            super(reason.tag(), null, false, false);
        }
    }
}
