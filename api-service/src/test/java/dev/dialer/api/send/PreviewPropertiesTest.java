package dev.dialer.api.send;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.AccountSettings.CallingWindow;
import java.time.LocalTime;
import java.util.List;
import org.junit.jupiter.api.Test;

class PreviewPropertiesTest {

    @Test
    void anAccountWithoutAWindowGetsTheDeploymentsDefault() {
        AccountSettings applied = new PreviewProperties("00:00-00:00").applyTo(AccountSettings.defaults("a"));

        assertThat(applied.windowFor(null)).isEqualTo(CallingWindow.ALWAYS);
    }

    @Test
    void anAccountsOwnWindowIsKept() {
        CallingWindow own = new CallingWindow(LocalTime.of(10, 0), LocalTime.of(18, 0));
        AccountSettings settings = new AccountSettings(1, "a", null, own, List.of(), null, List.of(), null, null);

        assertThat(new PreviewProperties("00:00-00:00").applyTo(settings).windowFor(null)).isEqualTo(own);
    }

    @Test
    void anImpossibleTimeIsRefusedAtStartUp() {
        assertThatThrownBy(() -> new PreviewProperties("25:00-21:00")).isInstanceOf(IllegalArgumentException.class);
    }
}
