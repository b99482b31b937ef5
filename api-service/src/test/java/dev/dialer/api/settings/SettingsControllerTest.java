package dev.dialer.api.settings;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.account.Account;
import dev.dialer.api.send.PreviewProperties;
import dev.dialer.common.contract.AccountSettings;
import java.time.LocalTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SettingsControllerTest {

    private static final Account ACME = new Account("acme", "Acme", "IN");

    @Test
    void showsTheConfiguredDefaultWindowToAnAccountWithoutOne() {
        SettingsController controller = new SettingsController(null, new PreviewProperties("00:00-00:00"));

        Map<String, Object> view = controller.view(ACME, AccountSettings.defaults("acme"));

        assertThat(view.get("calling_window")).isEqualTo(Map.of("start", "00:00", "end", "00:00"));
    }

    @Test
    void showsTheAccountsOwnWindowWhateverTheDefault() {
        SettingsController controller = new SettingsController(null, new PreviewProperties("00:00-00:00"));
        AccountSettings own = new AccountSettings(AccountSettings.VERSION, "acme", "IN",
                new AccountSettings.CallingWindow(LocalTime.of(10, 0), LocalTime.of(18, 30)), List.of(), null,
                List.of(), null, null);

        assertThat(controller.view(ACME, own).get("calling_window"))
                .isEqualTo(Map.of("start", "10:00", "end", "18:30"));
    }
}
