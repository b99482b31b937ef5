package dev.dialer.dispatcher.carrier.routing;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.dispatcher.carrier.CallReport;
import dev.dialer.dispatcher.carrier.Carrier;
import dev.dialer.dispatcher.carrier.CarrierException;
import dev.dialer.dispatcher.carrier.PlacedCall;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadFullException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.reactor.bulkhead.operator.BulkheadOperator;
import io.github.resilience4j.reactor.circuitbreaker.operator.CircuitBreakerOperator;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A carrier behind its own timeout, circuit breaker and bulkhead. Only technical failures
 * ({@link CarrierException#isTechnical()}, and timeouts) count against the breaker; a carrier that refuses a bad
 * request is working, and so is one that refuses a call for its capacity (a 429: the trunk's concurrency limit
 * shrinks instead, and the call waits; an open breaker would stop every call for a limit a few calls less keeps).
 * A refusal by the breaker or the bulkhead is reported as an {@code unreachable} carrier, so the
 * router moves on to the next one.
 */
final class GuardedCarrier implements Carrier {

    private final String name;
    private final Carrier carrier;
    private final CircuitBreaker breaker;
    private final Bulkhead bulkhead;
    private final Duration timeout;
    private final AtomicInteger probesInFlight = new AtomicInteger();
    /** Probes that failed since this dialer's last create-call request to the carrier. */
    private final AtomicInteger probeFailuresSinceCall = new AtomicInteger();
    /** When this dialer last sent the carrier a create-call request or a probe, on {@link System#nanoTime}. */
    private volatile long lastRequestAt = System.nanoTime();

    GuardedCarrier(String name, Carrier carrier, CircuitBreaker breaker, Bulkhead bulkhead, Duration timeout) {
        this.name = name;
        this.carrier = carrier;
        this.breaker = breaker;
        this.bulkhead = bulkhead;
        this.timeout = timeout;
    }

    String name() {
        return name;
    }

    /**
     * False while the breaker is open, and while it is half-open with as many probes made as it lets through (answered,
     * which its half-open metrics count from the transition on, or in flight): it gives a half-open state that many
     * permits in all, and refuses the rest until the probes' verdict, so a request would be refused without reaching
     * the carrier, and a call refused so is requeued as one no carrier took. Held in their lanes instead, calls wait
     * for the verdict.
     */
    boolean accepting() {
        return switch (breaker.getState()) {
            case OPEN, FORCED_OPEN -> false;
            case HALF_OPEN -> halfOpenPermitsLeft() > 0;
            default -> true;
        };
    }

    /** The requests a half-open breaker still lets through: its permits less those answered or in flight. */
    private int halfOpenPermitsLeft() {
        return breaker.getCircuitBreakerConfig().getPermittedNumberOfCallsInHalfOpenState()
                - breaker.getMetrics().getNumberOfBufferedCalls() - probesInFlight.get();
    }

    @Override
    public Mono<PlacedCall> place(CallCommand command, int dial) {
        return Mono.defer(() -> {
                    lastRequestAt = System.nanoTime();
                    probeFailuresSinceCall.set(0);
                    return carrier.place(command, dial);
                })
                .timeout(timeout, Mono.error(() -> timedOut("")))
                .transformDeferred(CircuitBreakerOperator.of(breaker))
                .transformDeferred(BulkheadOperator.of(bulkhead))
                .transformDeferred(this::countedIfProbe)
                .onErrorMap(GuardedCarrier::refusedByGuard, error -> new CarrierException(
                        CarrierException.Reason.UNREACHABLE, "carrier " + name + " not tried: " + error.getMessage(),
                        error));
    }

    /**
     * Probes the carrier ({@link Carrier#probe}) when it {@link Carrier#probes} and this dialer has sent it nothing for
     * {@code idle}: one probe while its breaker is closed; while it is half-open, as many as it lets through, at once,
     * so that a carrier that stopped answering is found out when no create-call goes to it; none while it is open. Each
     * is let through by the breaker as a request is, and only its failure is recorded ({@link #probeOnce}).
     *
     * @return each probe's outcome
     */
    Flux<Probed> probeIfIdle(Duration idle) {
        if (!carrier.probes() || System.nanoTime() - lastRequestAt < idle.toNanos()) {
            return Flux.empty();
        }
        int probes = switch (breaker.getState()) {
            case CLOSED -> 1;
            case HALF_OPEN -> halfOpenPermitsLeft();
            default -> 0;
        };
        if (probes <= 0) {
            return Flux.empty();
        }
        lastRequestAt = System.nanoTime();
        return Flux.range(0, probes).flatMap(each -> probeOnce().transformDeferred(this::countedIfProbe));
    }

    /**
     * One probe, let through by the breaker as a request is (none when it is not: open, or its half-open permits
     * taken). Its failure is recorded as a failed request's is. Its answer is not recorded, only its permit given
     * back: an API that answers tells nothing of what places calls (jambonz answers from its API server and Redis
     * while its feature servers are down), so an answer must neither dilute the failures of create-calls nor close a
     * half-open breaker that create-calls opened. It undoes what failed probes did since the last create-call, though
     * ({@link #probesFailedAndAnswered}): else those failures would stay in the breaker's count of an idle carrier for
     * good, and open it at its first calls, or keep it half-open for as long as no call comes.
     */
    private Mono<Probed> probeOnce() {
        return Mono.defer(() -> {
            if (!breaker.tryAcquirePermission()) {
                return Mono.empty();
            }
            long started = breaker.getCurrentTimestamp();
            AtomicBoolean ended = new AtomicBoolean();
            return Mono.defer(carrier::probe)
                    .timeout(timeout, Mono.error(() -> timedOut(" a probe")))
                    .then(Mono.fromCallable(() -> {
                        ended.set(true);
                        breaker.releasePermission();
                        if (probeFailuresSinceCall.getAndSet(0) > 0) {
                            probesFailedAndAnswered();
                        }
                        return Probed.ANSWERED;
                    }))
                    .onErrorResume(failure -> {
                        ended.set(true);
                        breaker.onError(breaker.getCurrentTimestamp() - started, breaker.getTimestampUnit(), failure);
                        probeFailuresSinceCall.incrementAndGet();
                        return Mono.just(new Probed(failure));
                    })
                    .doOnCancel(() -> {
                        if (ended.compareAndSet(false, true)) {
                            breaker.releasePermission();
                        }
                    });
        });
    }

    /**
     * A probe answered after probes failed, with no create-call since the first of them: the carrier's API is back,
     * and what those failures decided is undone: a closed breaker's count starts again (with the create-calls it
     * held from before them: a carrier whose calls failed, then went idle, is judged by its next calls again), a
     * half-open one closes.
     */
    private void probesFailedAndAnswered() {
        switch (breaker.getState()) {
            case CLOSED -> breaker.reset();
            case HALF_OPEN -> breaker.transitionToClosedState();
            default -> { }
        }
    }

    /** The guard's timeout of a request ({@code what}: empty for a create-call): maybe placed, for a create-call. */
    private CarrierException timedOut(String what) {
        return new CarrierException(CarrierException.Reason.TIMEOUT,
                "carrier " + name + " did not answer" + what + " within " + timeout, null);
    }

    /** A request made while the breaker is half-open is counted among the probes in flight until it ends. */
    private <T> Mono<T> countedIfProbe(Mono<T> request) {
        return Mono.defer(() -> {
            if (breaker.getState() != CircuitBreaker.State.HALF_OPEN) {
                return request;
            }
            probesInFlight.incrementAndGet();
            return request.doFinally(signal -> probesInFlight.decrementAndGet());
        });
    }

    @Override
    public boolean probes() {
        return carrier.probes();
    }

    @Override
    public boolean reaches(CallCommand command) {
        return carrier.reaches(command);
    }

    @Override
    public Mono<CallReport> status(CallRef call) {
        return carrier.status(call);
    }

    @Override
    public Mono<Boolean> hangUp(CallRef call) {
        return carrier.hangUp(call);
    }

    private static boolean refusedByGuard(Throwable error) {
        return error instanceof CallNotPermittedException || error instanceof BulkheadFullException;
    }

    /** What the breaker counts as a failure of the carrier. */
    static boolean countsAgainstCarrier(Throwable error) {
        return error instanceof CarrierException failure && failure.countsAgainstCarrier();
    }

    /** A probe's outcome: the carrier answered it, or its {@code failure}. */
    record Probed(Throwable failure) {

        static final Probed ANSWERED = new Probed(null);

        boolean answered() {
            return failure == null;
        }
    }
}
