package dev.dialer.api;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * api-service settings.
 *
 * @param kafka     producing
 * @param bootstrap the account (and key) created at start-up, if any
 */
@Validated
@ConfigurationProperties("dialer.api")
public record ApiProperties(@Valid @NotNull Kafka kafka, @Valid Bootstrap bootstrap) {

    /** @param ackTimeout how long a request waits for Kafka's acknowledgement before it answers 503 */
    public record Kafka(@NotNull Duration ackTimeout) {
    }

    /**
     * @param accountId     account to create (nothing is created when blank)
     * @param apiKey        its key, in clear (stored hashed)
     * @param defaultRegion region for numbers written without a country code
     */
    public record Bootstrap(String accountId, String apiKey, String defaultRegion) {
    }
}
