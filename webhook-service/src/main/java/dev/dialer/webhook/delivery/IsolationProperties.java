package dev.dialer.webhook.delivery;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Per-endpoint isolation (see {@link EndpointIsolation}); an endpoint is a URL's scheme, host and port.
 *
 * @param maxConcurrentPerEndpoint tries in flight to one endpoint at once; one more is refused at once (no waiting)
 * @param failureRateThreshold     percentage of failed tries that opens the endpoint's circuit
 * @param minimumCalls             tries in the window before the failure rate counts
 * @param windowSize               tries in the sliding window
 * @param openDuration             how long an open circuit refuses tries before letting a few through
 * @param idleEviction             an endpoint unused this long is forgotten (its circuit closes)
 */
@Validated
@ConfigurationProperties(prefix = "dialer.webhook.isolation")
record IsolationProperties(
        @Min(1) @Max(10_000) @DefaultValue("16") int maxConcurrentPerEndpoint,
        @Min(1) @Max(100) @DefaultValue("50") int failureRateThreshold,
        @Min(1) @Max(10_000) @DefaultValue("10") int minimumCalls,
        @Min(1) @Max(10_000) @DefaultValue("20") int windowSize,
        @NotNull @DurationMin(millis = 1) @DefaultValue("30s") Duration openDuration,
        @NotNull @DurationMin(seconds = 1) @DefaultValue("30m") Duration idleEviction) {
}
