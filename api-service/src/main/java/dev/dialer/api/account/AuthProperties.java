package dev.dialer.api.account;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * API key checks.
 *
 * @param cacheTtl            how long a verified key is trusted without asking the database again; a revoked key
 *                            keeps working at most this long
 * @param cacheSize           most keys held; beyond it the cache is emptied rather than grown
 * @param unknownKeyTtl       how long a key the database does not know is refused from memory; a key written to the
 *                            database by another process works at most this long after it was last tried
 * @param unknownKeyCacheSize most unknown keys remembered; beyond it they are forgotten rather than grown
 * @param maxFailures         requests with an unknown key one remote address may send per {@code failureWindow};
 *                            beyond them its keys are not looked up and it is answered 429 with Retry-After
 * @param failureWindow       the window {@code maxFailures} counts in
 * @param failureAddresses    most remote addresses whose failures are counted at once
 * @param blockedLookups      keys not known to be unknown that are still looked up per {@code blockedLookupPeriod}
 *                            for all addresses answered 429 together: behind a load balancer every client shares one
 *                            address, so a valid key this instance has not verified must not wait out another
 *                            client's window; 0 looks none up
 * @param blockedLookupPeriod the period {@code blockedLookups} counts in
 */
@Validated
@ConfigurationProperties("dialer.api.auth")
record AuthProperties(
        @DefaultValue("PT60S") @NotNull Duration cacheTtl,
        @DefaultValue("10000") @Min(1) int cacheSize,
        @DefaultValue("PT5S") @NotNull Duration unknownKeyTtl,
        @DefaultValue("10000") @Min(1) int unknownKeyCacheSize,
        @DefaultValue("20") @Min(1) int maxFailures,
        @DefaultValue("PT10S") @NotNull Duration failureWindow,
        @DefaultValue("10000") @Min(1) int failureAddresses,
        @DefaultValue("5") @Min(0) int blockedLookups,
        @DefaultValue("PT1S") @NotNull Duration blockedLookupPeriod) {

    AuthProperties {
        if (unknownKeyTtl != null
                && (unknownKeyTtl.isNegative() || unknownKeyTtl.compareTo(Duration.ofMinutes(1)) > 0)) {
            throw new IllegalArgumentException("dialer.api.auth.unknown-key-ttl must be from 0 to 1 minute");
        }
        if (failureWindow != null
                && (failureWindow.toMillis() < 1 || failureWindow.compareTo(Duration.ofHours(1)) > 0)) {
            throw new IllegalArgumentException("dialer.api.auth.failure-window must be from 1 ms to 1 hour");
        }
        if (blockedLookupPeriod != null
                && (blockedLookupPeriod.toMillis() < 1 || blockedLookupPeriod.compareTo(Duration.ofHours(1)) > 0)) {
            throw new IllegalArgumentException("dialer.api.auth.blocked-lookup-period must be from 1 ms to 1 hour");
        }
    }
}
