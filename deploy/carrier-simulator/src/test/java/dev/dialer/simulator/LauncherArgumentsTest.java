package dev.dialer.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

class LauncherArgumentsTest {

    @Test
    void withoutOptionsTheSimulatorListensOn8090WithDefaults() {
        SimulatorSettings settings = LauncherArguments.parse();

        assertThat(settings).isEqualTo(SimulatorSettings.defaults().withPort(8090)
                .withKeepCalls(SimulatorSettings.KEEP_CALLS_RUNNING));
    }

    @Test
    void everyOptionIsApplied() {
        SimulatorSettings settings = LauncherArguments.parse("--port=9000", "--account-sid=acme", "--api-key=k",
                "--webhook-secret=s", "--ring-time=PT0.5S", "--talk-time=PT3S",
                "--applications-status-hook=http://dialer.test/status", "--keep-calls=PT10M");

        assertThat(settings.port()).isEqualTo(9000);
        assertThat(settings.accountSid()).isEqualTo("acme");
        assertThat(settings.apiKey()).isEqualTo("k");
        assertThat(settings.webhookSecret()).isEqualTo("s");
        assertThat(settings.ringTime()).isEqualTo(Duration.ofMillis(500));
        assertThat(settings.talkTime()).isEqualTo(Duration.ofSeconds(3));
        assertThat(settings.keepCalls()).isEqualTo(Duration.ofMinutes(10));
        assertThat(settings.applications().find("any-flow"))
                .isEqualTo(Application.postingStatusesTo("http://dialer.test/status"));
    }

    @Test
    void theOutcomeRuleIsChosenByName() {
        assertThat(LauncherArguments.parse("--outcome-rule=last-digit").outcomeRule())
                .isSameAs(OutcomeRule.lastDigit());
        OutcomeRule passing = LauncherArguments.parse("--outcome-rule=last-digit-capacity-passes").outcomeRule();
        assertThat(List.of(passing.decide("15550100003"), passing.decide("15550100003")))
                .containsExactly(Outcome.CAPACITY_REJECTED, Outcome.ANSWERED);
        assertThatIllegalArgumentException().isThrownBy(() -> LauncherArguments.parse("--outcome-rule=digits"))
                .withMessageContaining("--outcome-rule");
    }

    @Test
    void unknownOrMalformedOptionsFailFast() {
        assertThatIllegalArgumentException().isThrownBy(() -> LauncherArguments.parse("--colour=blue"))
                .withMessageContaining("--colour");
        assertThatIllegalArgumentException().isThrownBy(() -> LauncherArguments.parse("--ring-time=1s"))
                .withMessageContaining("ISO-8601");
        assertThatIllegalArgumentException().isThrownBy(() -> LauncherArguments.parse("port=1"));
        assertThatIllegalArgumentException().isThrownBy(() -> LauncherArguments.parse("--port=99999"));
    }
}
