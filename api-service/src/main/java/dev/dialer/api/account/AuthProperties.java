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
 * @param cacheTtl  how long a verified key is trusted without asking the database again; a revoked key keeps
 *                  working at most this long
 * @param cacheSize most keys held; beyond it the cache is emptied rather than grown
 */
@Validated
@ConfigurationProperties("dialer.api.auth")
record AuthProperties(
        @DefaultValue("PT60S") @NotNull Duration cacheTtl,
        @DefaultValue("10000") @Min(1) int cacheSize) {
}
