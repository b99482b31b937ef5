package dev.dialer.dispatcher.carrier.routing;

import dev.dialer.dispatcher.carrier.Carrier;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedBulkheadMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the {@link RoutingCarrier} over named carriers, each behind its own breaker and bulkhead. */
public final class RoutingCarriers {

    private static final Logger log = LoggerFactory.getLogger(RoutingCarriers.class);

    private RoutingCarriers() {
    }

    /**
     * The guard's timeout of a carrier's requests: the configured one, or a second past the carrier's own request
     * timeout when that is not shorter. Cut by the guard first, a create-call that never reached the carrier (its name
     * not resolved, its connection or TLS handshake hung) would be taken for one that may have placed the call, neither
     * failed over nor dialled again, and left to the watchdog for over an hour; only the carrier's own timeout knows
     * whether the request was written.
     */
    static Duration guardTimeout(Duration configured, Carrier carrier) {
        Duration own = carrier.requestTimeout();
        return own == null || own.compareTo(configured) < 0 ? configured : own.plusSeconds(1);
    }

    /**
     * @param carriers the carriers by route name, in the default order when the properties name none
     * @param registry breaker states and bulkhead use are published here ({@code resilience4j.circuitbreaker.*},
     *                 {@code resilience4j.bulkhead.*}, tagged by carrier name)
     */
    public static RoutingCarrier of(CarrierRoutingProperties properties, Map<String, Carrier> carriers,
                                    MeterRegistry registry) {
        CarrierRoutingProperties.Guard guard = properties.guard();
        CircuitBreakerRegistry breakers = CircuitBreakerRegistry.of(CircuitBreakerConfig.custom()
                .failureRateThreshold(guard.failureRateThreshold())
                .minimumNumberOfCalls(guard.minimumCalls())
                .slidingWindowSize(Math.max(guard.minimumCalls(), 20))
                .waitDurationInOpenState(guard.openFor())
                // Half-open when the wait is over, not at the next request: lanes hold their calls while every
                // carrier of the route is open, so no request would come to move the breaker on.
                .automaticTransitionFromOpenToHalfOpenEnabled(true)
                .permittedNumberOfCallsInHalfOpenState(3)
                .recordException(GuardedCarrier::countsAgainstCarrier)
                .build());
        // maxWaitDuration 0: a full bulkhead refuses at once; waiting would block a reactive thread.
        BulkheadRegistry bulkheads = BulkheadRegistry.of(BulkheadConfig.custom()
                .maxConcurrentCalls(guard.maxConcurrentCalls())
                .maxWaitDuration(Duration.ZERO)
                .build());
        Map<String, GuardedCarrier> guarded = new LinkedHashMap<>();
        carriers.forEach((name, carrier) -> {
            Duration timeout = guardTimeout(guard.timeout(), carrier);
            if (!timeout.equals(guard.timeout())) {
                log.warn("carrier {}: its request timeout ({}) is not shorter than "
                        + "dialer.dispatcher.carrier.routing.guard.timeout ({}), and only it tells a create-call that "
                        + "never reached the carrier (its name not resolved, its connection or TLS handshake hung) "
                        + "from one that may have placed the call: the guard waits {} for its requests", name,
                        carrier.requestTimeout(), guard.timeout(), timeout);
            }
            guarded.put(name, new GuardedCarrier(name, carrier, breakers.circuitBreaker(name),
                    bulkheads.bulkhead(name), timeout));
        });
        TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(registry);
        TaggedBulkheadMetrics.ofBulkheadRegistry(bulkheads).bindTo(registry);
        CarrierRoutingProperties effective = properties.order().isEmpty()
                ? new CarrierRoutingProperties(properties.carriers(), java.util.List.copyOf(carriers.keySet()),
                        properties.accounts(), properties.prefixes(), guard)
                : properties;
        return new RoutingCarrier(guarded, new RouteTable(effective, guarded.keySet()), registry);
    }
}
