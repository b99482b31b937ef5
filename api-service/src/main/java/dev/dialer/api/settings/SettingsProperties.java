package dev.dialer.api.settings;

import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Account settings as the API applies them.
 *
 * @param cacheTtl how long an instance trusts the settings it read without asking the database again; a change made
 *                 through another instance applies here at most this late (the instance that took the change applies
 *                 it at once)
 */
@Validated
@ConfigurationProperties("dialer.api.settings")
record SettingsProperties(@DefaultValue("PT5S") @NotNull Duration cacheTtl) {
}
