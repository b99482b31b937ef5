package dev.dialer.dispatcher.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.common.contract.AccountSettings.CallingWindow;
import java.time.Duration;
import java.time.LocalTime;
import org.junit.jupiter.api.Test;

class PolicyPropertiesTest {

    @Test
    void parsesTheDefaultCallingWindow() {
        PolicyProperties properties = new PolicyProperties("08:30-20:00", Duration.ofMinutes(5),
                Duration.ofSeconds(10), 4, Duration.ofMinutes(10), Duration.ofMinutes(1), Duration.ofSeconds(30),
                Duration.ofSeconds(10));

        assertThat(properties.defaultWindow())
                .isEqualTo(new CallingWindow(LocalTime.of(8, 30), LocalTime.of(20, 0)));
    }

    @Test
    void refusesAWindowThatIsNotATime() {
        assertThatThrownBy(() -> new PolicyProperties("25:00-20:00", Duration.ofMinutes(5), Duration.ofSeconds(10), 4,
                Duration.ofMinutes(10), Duration.ofMinutes(1), Duration.ofSeconds(30),
                Duration.ofSeconds(10)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("default-calling-window");
    }

    @Test
    void refusesANonPositivePauseRecheck() {
        assertThatThrownBy(() -> new PolicyProperties("09:00-21:00", Duration.ZERO, Duration.ofSeconds(10), 4,
                Duration.ofMinutes(10), Duration.ofMinutes(1), Duration.ofSeconds(30),
                Duration.ofSeconds(10)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pause-recheck");
    }
}
