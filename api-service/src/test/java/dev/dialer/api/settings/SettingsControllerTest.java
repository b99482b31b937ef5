package dev.dialer.api.settings;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.account.Account;
import dev.dialer.api.send.PreviewProperties;
import dev.dialer.common.contract.AccountSettings;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SettingsControllerTest {

    private static final Account ACME = new Account("acme", "Acme", "IN");

    @Test
    void readsALargeBodyOffTheThreadThatReceivedItAndASmallOneOnIt() {
        List<String> callerIds = IntStream.range(0, SettingsRequest.MAX_CALLER_IDS)
                .mapToObj(i -> "\"+9180682%05d\"".formatted(i)).toList();
        String large = "{\"allowed_caller_ids\":[" + String.join(",", callerIds) + "]}";
        String receiving = Thread.currentThread().getName();
        Instant now = Instant.parse("2026-11-28T12:00:00Z");

        assertThat(SettingsController.parsed(large, ACME, now).map(settings -> Thread.currentThread().getName())
                .block(Duration.ofSeconds(30))).startsWith("parallel-");
        assertThat(SettingsController.parsed("{\"per_callee_daily_cap\":3}", ACME, now)
                .map(settings -> Thread.currentThread().getName()).block(Duration.ofSeconds(30))).isEqualTo(receiving);
    }

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
