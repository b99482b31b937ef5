package dev.dialer.api.hook;

import dev.dialer.common.hook.AllowList;
import dev.dialer.common.hook.PlainHttpPolicy;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Per-request hooks ({@code notify_url}, {@code action_hook}, {@code amd_hook}), and what every URL the dialer
 * delivers to (a webhook's {@code url} too) may be.
 *
 * @param signingKey   the {@code whsec_} key (at least 16 bytes) each account's hook secret is derived from; it must
 *                     equal webhook-service's {@code dialer.webhook.delivery.hook-signing-key}, which signs the hooks.
 *                     Changing it changes every account's hook secret. Unset or empty: hooks are unsigned and
 *                     {@code GET /api/v2/account/hook-secret} answers 404
 * @param plainHttp    where a URL may use plain {@code http://} ({@link PlainHttpPolicy}): {@code allowed},
 *                     {@code allow-listed} (the default) or {@code refused}; one that may not is a 400 naming its
 *                     field. It must say what webhook-service's {@code dialer.webhook.delivery.plain-http} says,
 *                     which refuses every try of such a URL
 * @param allowedHosts the hosts (names, IP literals, CIDR blocks) plain http may go to when {@code allow-listed}: as
 *                     webhook-service's {@code dialer.webhook.delivery.allowed-hosts}; none by default
 */
@Validated
@ConfigurationProperties("dialer.api.hooks")
record HookProperties(
        @Pattern(regexp = "(whsec_[A-Za-z0-9+/=]+)?") String signingKey,
        @NotNull @DefaultValue("allow-listed") PlainHttpPolicy.Mode plainHttp,
        @NotNull @DefaultValue List<String> allowedHosts) {

    /** @throws IllegalArgumentException for an allowed host that looks like an address or CIDR but is not one */
    PlainHttpPolicy plainHttpPolicy() {
        return new PlainHttpPolicy(plainHttp, new AllowList(allowedHosts));
    }
}
