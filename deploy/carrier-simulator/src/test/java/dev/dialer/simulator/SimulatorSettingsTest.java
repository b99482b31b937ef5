package dev.dialer.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class SimulatorSettingsTest {

    @Test
    void defaultsAreAFreePortOpenAccessAndShortCalls() {
        SimulatorSettings defaults = SimulatorSettings.defaults();

        assertThat(defaults.port()).isZero();
        assertThat(defaults.accountSid()).isEqualTo("dialer");
        assertThat(defaults.apiKey()).isNull();
        assertThat(defaults.webhookSecret()).isNull();
        assertThat(defaults.ringTime()).isEqualTo(Duration.ofSeconds(1));
        assertThat(defaults.talkTime()).isEqualTo(Duration.ofSeconds(2));
        assertThat(defaults.outcomeRule()).isSameAs(OutcomeRule.lastDigit());
        assertThat(defaults.answeringMachineRule()).isSameAs(AnsweringMachineRule.lastDigit());
        assertThat(defaults.applications()).isEqualTo(Applications.NONE);
    }

    @Test
    void withersChangeOnlyTheirOwnField() {
        OutcomeRule alwaysBusy = number -> Outcome.BUSY;
        SimulatorSettings settings = SimulatorSettings.defaults().withApiKey("k").withOutcomeRule(alwaysBusy);

        assertThat(settings).isEqualTo(new SimulatorSettings(0, "dialer", "k", null, Duration.ofSeconds(1),
                Duration.ofSeconds(2), alwaysBusy, 0, Duration.ZERO, Duration.ZERO, 0, AnsweringMachineRule.lastDigit(),
                Applications.NONE, null, Duration.ZERO));
        assertThat(settings.withKeepCalls(Duration.ofHours(2)).keepCalls()).isEqualTo(Duration.ofHours(2));
    }

    @Test
    void applicationsAreFoundBySidAndTheOthersStandForEveryOtherSid() {
        Application flow = Application.postingStatusesTo("http://app.test/status");
        Application others = new Application("http://app.test/answer", null);
        SimulatorSettings settings = SimulatorSettings.defaults().withApplication("flow-1", flow);

        assertThat(settings.applications().find("flow-1")).isEqualTo(flow);
        assertThat(settings.applications().find("flow-2")).as("unknown: the request keeps its own hooks").isNull();
        assertThat(settings.applications().find(null)).isNull();
        Applications all = settings.withEveryOtherApplication(others).applications();
        assertThat(all.find("flow-1")).isEqualTo(flow);
        assertThat(all.find("flow-2")).isEqualTo(others);
        assertThat(all.find(null)).as("a call_hook without application").isNull();
    }

    @Test
    void impossibleValuesAreRefused() {
        SimulatorSettings defaults = SimulatorSettings.defaults();

        assertThatIllegalArgumentException().isThrownBy(() -> defaults.withRingTime(Duration.ofSeconds(-1)));
        assertThatIllegalArgumentException().isThrownBy(() -> defaults.withTalkTime(null));
        assertThatIllegalArgumentException().isThrownBy(() -> defaults.withAccountSid(" "));
        assertThatIllegalArgumentException().isThrownBy(() -> defaults.withPort(-1));
    }
}
