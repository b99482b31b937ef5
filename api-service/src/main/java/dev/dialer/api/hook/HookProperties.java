package dev.dialer.api.hook;

import jakarta.validation.constraints.Pattern;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * Per-request hooks ({@code notify_url}, {@code action_hook}).
 *
 * @param signingKey the {@code whsec_} key (at least 16 bytes) each account's hook secret is derived from; it must
 *                   equal webhook-service's {@code dialer.webhook.delivery.hook-signing-key}, which signs the hooks.
 *                   Changing it changes every account's hook secret. Unset or empty: hooks are unsigned and
 *                   {@code GET /api/v2/account/hook-secret} answers 404
 */
@Validated
@ConfigurationProperties("dialer.api.hooks")
record HookProperties(@Pattern(regexp = "(whsec_[A-Za-z0-9+/=]+)?") String signingKey) {
}
