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
 * Per-endpoint isolation (see {@link EndpointIsolation}); an endpoint is a URL's scheme, host and port, and each
 * account has its own limit and circuit for it, and a limit over all its endpoints.
 *
 * @param maxConcurrentPerEndpoint tries of one account in flight to one endpoint at once; one more is refused at once
 *                                 (no waiting)
 * @param maxConcurrentPerHost     tries of all accounts in flight to one endpoint at once, a safety cap for a host
 *                                 shared by many accounts; one more is refused at once. At most the transport's
 *                                 connections to a host (512): past them tries would wait for a connection and time
 *                                 out, counted against healthy accounts' circuits
 * @param maxConcurrentPerAccount  tries of one account in flight at once over all its endpoints, so that an account
 *                                 whose URLs each name a host of their own (a subdomain per call, say) cannot take
 *                                 every slot of the instance; one more is refused at once. Four endpoints' worth
 *                                 by default, which an account whose endpoints answer promptly never comes near;
 *                                 above 64 one account's hanging tries can hold more than half of a partition's 128
 *                                 records in flight
 * @param failureRateThreshold     percentage of failed tries that opens the account's circuit of the endpoint
 * @param minimumCalls             tries in the window before the failure rate counts
 * @param windowSize               tries in the sliding window
 * @param openDuration             how long an open circuit refuses tries before letting a few through
 * @param idleEviction             an endpoint (or account) unused this long is forgotten (its circuits close)
 */
@Validated
@ConfigurationProperties(prefix = "dialer.webhook.isolation")
record IsolationProperties(
        @Min(1) @Max(10_000) @DefaultValue("16") int maxConcurrentPerEndpoint,
        @Min(1) @Max(HttpWebhookTransport.MAX_CONNECTIONS) @DefaultValue("64") int maxConcurrentPerHost,
        @Min(1) @Max(100_000) @DefaultValue("64") int maxConcurrentPerAccount,
        @Min(1) @Max(100) @DefaultValue("50") int failureRateThreshold,
        @Min(1) @Max(10_000) @DefaultValue("10") int minimumCalls,
        @Min(1) @Max(10_000) @DefaultValue("20") int windowSize,
        @NotNull @DurationMin(millis = 1) @DefaultValue("30s") Duration openDuration,
        @NotNull @DurationMin(seconds = 1) @DefaultValue("30m") Duration idleEviction) {
}
