package dev.dialer.api.send;

import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.AccountSettings.CallingWindow;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.time.LocalTime;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The compliance preview, and the default window the account settings show.
 *
 * @param defaultCallingWindow the recipient's local hours, {@code HH:mm-HH:mm}, for accounts whose settings name no
 *                             window ({@code 00:00-00:00}: all day). It must equal the dispatcher's
 *                             {@code dialer.dispatcher.policy.default-calling-window}, or the preview would answer
 *                             something the dispatcher does not do
 */
@Validated
@ConfigurationProperties("dialer.api.preview")
public record PreviewProperties(
        @DefaultValue("09:00-21:00") @NotNull @Pattern(regexp = "\\d{2}:\\d{2}-\\d{2}:\\d{2}")
        String defaultCallingWindow) {

    public PreviewProperties {
        if (defaultCallingWindow != null && defaultCallingWindow.matches("\\d{2}:\\d{2}-\\d{2}:\\d{2}")) {
            defaultWindow(defaultCallingWindow);
        }
    }

    /** The account's settings, with the deployment's default window where the account chose none. */
    public AccountSettings applyTo(AccountSettings settings) {
        if (settings.callingWindow() != null) {
            return settings;
        }
        return settings.withCallingWindow(defaultWindow(defaultCallingWindow));
    }

    private static CallingWindow defaultWindow(String text) {
        String[] parts = text.split("-");
        try {
            return new CallingWindow(LocalTime.parse(parts[0]), LocalTime.parse(parts[1]));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("dialer.api.preview.default-calling-window is not HH:mm-HH:mm: " + text,
                    e);
        }
    }
}
