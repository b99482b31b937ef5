package dev.dialer.dispatcher.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class ConfiguredCallerLimitsTest {

    private static final String NUMBER = "+4930123456";

    private final PacingProperties properties = new PacingProperties(10, 1, Map.of("configured", 4.0),
            Map.of(NUMBER, 2.0), Map.of(), 0, 0, Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));

    private final ConfiguredCallerLimits limits = new ConfiguredCallerLimits(properties,
            account -> account.startsWith("set") ? OptionalDouble.of(7) : OptionalDouble.empty());

    @Test
    void aNumbersOwnRateWinsOverEverything() {
        assertThat(limits.callerCps("set-by-settings", NUMBER)).isEqualTo(2.0);
    }

    @Test
    void anAccountsSettingsWinOverConfigurationAndTheDefault() {
        assertThat(limits.callerCps("set-by-settings", "+4930999999")).isEqualTo(7.0);
    }

    @Test
    void configurationAnswersForAccountsWithoutSettings() {
        assertThat(limits.callerCps("configured", "+4930999999")).isEqualTo(4.0);
        assertThat(limits.callerCps("anyone", "+4930999999")).isEqualTo(10.0);
    }
}
