package dev.dialer.api.webhook;

import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Webhook endpoints.
 *
 * @param secretOverlap how long after a rotation deliveries are still signed with the previous secret as well, so
 *                      receivers can switch without dropping a delivery
 */
@Validated
@ConfigurationProperties("dialer.api.webhooks")
record WebhookProperties(@DefaultValue("PT24H") @NotNull Duration secretOverlap) {

    WebhookProperties {
        if (secretOverlap != null && secretOverlap.isNegative()) {
            throw new IllegalArgumentException("dialer.api.webhooks.secret-overlap must not be negative");
        }
    }
}
