package dev.dialer.api.account;

import jakarta.validation.constraints.Pattern;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * An account and key created at start-up (the standalone launcher's demo account, a first install). Both or
 * neither of {@code account-id} and {@code api-key} must be set.
 *
 * @param accountId     the account to create or update
 * @param accountName   its display name, the id when not set
 * @param apiKey        the key in clear; only its SHA-256 is stored. Changing it revokes the account's previous
 *                      bootstrap key (other instances accept it for up to {@code dialer.api.auth.cache-ttl})
 * @param defaultRegion region for numbers written without a country code
 */
@Validated
@ConfigurationProperties("dialer.api.bootstrap")
record BootstrapProperties(
        @Pattern(regexp = "[A-Za-z0-9._-]{1,64}") String accountId,
        String accountName,
        String apiKey,
        @DefaultValue("IN") @Pattern(regexp = "[A-Z]{2}") String defaultRegion) {

    BootstrapProperties {
        boolean hasAccount = accountId != null && !accountId.isBlank();
        boolean hasKey = apiKey != null && !apiKey.isBlank();
        if (hasAccount != hasKey) {
            throw new IllegalArgumentException(
                    "dialer.api.bootstrap.account-id and dialer.api.bootstrap.api-key must be set together");
        }
        if (hasKey && apiKey.strip().length() < 20) {
            throw new IllegalArgumentException("dialer.api.bootstrap.api-key is too short to be a secret");
        }
    }

    boolean enabled() {
        return accountId != null && !accountId.isBlank();
    }

    Account account() {
        return new Account(accountId, accountName == null || accountName.isBlank() ? accountId : accountName,
                defaultRegion);
    }
}
