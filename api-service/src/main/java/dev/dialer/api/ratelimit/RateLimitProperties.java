package dev.dialer.api.ratelimit;

import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The per-account request rate limit of the HTTP API ({@code /api/**} and {@code /v1/**}).
 *
 * @param enabled           whether requests are limited at all
 * @param requestsPerSecond sustained requests per second per account
 * @param period            the limiter's refresh period: {@code requestsPerSecond × period} requests (rounded up to
 *                          a whole number, at least one) are allowed per refresh, so a burst of that size passes at
 *                          once and at most twice that across a refresh boundary; when the product is not whole, the
 *                          refresh is stretched to the time those requests take at the rate, so the rate is exact
 *                          (14/s: 2 every 142.9 ms); shorter periods smooth more
 * @param accounts          per-account overrides of {@code requestsPerSecond}, by account id
 * @param idleEviction      a limiter unused this long is dropped (the next request starts a fresh one)
 */
@Validated
@ConfigurationProperties("dialer.api.rate-limit")
record RateLimitProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("1000") double requestsPerSecond,
        @DefaultValue("PT0.1S") @NotNull Duration period,
        Map<String, Double> accounts,
        @DefaultValue("PT10M") @NotNull Duration idleEviction) {

    RateLimitProperties {
        accounts = accounts == null ? Map.of() : Map.copyOf(accounts);
        if (!(requestsPerSecond > 0)) {
            throw new IllegalArgumentException("dialer.api.rate-limit.requests-per-second must be above 0");
        }
        accounts.forEach((account, rate) -> {
            if (rate == null || !(rate > 0)) {
                throw new IllegalArgumentException("dialer.api.rate-limit.accounts." + account + " must be above 0");
            }
        });
        if (period != null && (period.toMillis() < 1 || period.compareTo(Duration.ofMinutes(1)) > 0)) {
            throw new IllegalArgumentException("dialer.api.rate-limit.period must be from 1 ms to 1 minute");
        }
        if (idleEviction != null && idleEviction.toSeconds() < 1) {
            throw new IllegalArgumentException("dialer.api.rate-limit.idle-eviction must be at least 1 s");
        }
    }

    /** The sustained rate of an account: its override, else the default. */
    double rateOf(String accountId) {
        return accounts.getOrDefault(accountId, requestsPerSecond);
    }
}
