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

/** Builds the {@link RoutingCarrier} over named carriers, each behind its own breaker and bulkhead. */
public final class RoutingCarriers {

    private RoutingCarriers() {
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
        carriers.forEach((name, carrier) -> guarded.put(name, new GuardedCarrier(name, carrier,
                breakers.circuitBreaker(name), bulkheads.bulkhead(name), guard.timeout())));
        TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(registry);
        TaggedBulkheadMetrics.ofBulkheadRegistry(bulkheads).bindTo(registry);
        CarrierRoutingProperties effective = properties.order().isEmpty()
                ? new CarrierRoutingProperties(properties.carriers(), java.util.List.copyOf(carriers.keySet()),
                        properties.accounts(), properties.prefixes(), guard)
                : properties;
        return new RoutingCarrier(guarded, new RouteTable(effective, guarded.keySet()), registry);
    }
}
