package dev.dialer.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;

class OutcomeRuleTest {

    @ParameterizedTest(name = "{0} → {1}")
    @CsvSource({
            "+15550100000, BUSY",
            "15550100001, NO_ANSWER",
            "919876543212, FAILED",
            "+1 (555) 010-0003, CAPACITY_REJECTED",
            "15550100004, ANSWERED",
            "15550100005, ANSWERED",
            "15550100009, ANSWERED",
            "sip:4004@example.com, ANSWERED",
            "sip:4000@example.com, BUSY",
            "alice, ANSWERED"})
    void lastDigitOfTheDialledNumberDecidesTheOutcome(String number, Outcome expected) {
        assertThat(OutcomeRule.lastDigit().decide(number)).isEqualTo(expected);
    }

    @ParameterizedTest
    @NullAndEmptySource
    void aMissingNumberIsAnswered(String number) {
        assertThat(OutcomeRule.lastDigit().decide(number)).isEqualTo(Outcome.ANSWERED);
    }

    @Test
    void theDefaultRuleRefusesANumberEndingIn3ForCapacityAtEveryDial() {
        OutcomeRule rule = OutcomeRule.lastDigit();

        assertThat(List.of(rule.decide("+4915112345673"), rule.decide("+4915112345673"),
                rule.decide("+4915112345673"))).containsOnly(Outcome.CAPACITY_REJECTED);
    }

    @Test
    void withCapacityPassingANumberEndingIn3IsRefusedAndAnsweredInTurnAndEachNumberHasItsOwnTurns() {
        OutcomeRule rule = OutcomeRule.lastDigitCapacityPasses();

        assertThat(rule.decide("+4915112345673")).isEqualTo(Outcome.CAPACITY_REJECTED);
        assertThat(rule.decide("+4915100000003")).isEqualTo(Outcome.CAPACITY_REJECTED);
        assertThat(rule.decide("+4915112345673")).isEqualTo(Outcome.ANSWERED);
        assertThat(rule.decide("+4915112345673")).isEqualTo(Outcome.CAPACITY_REJECTED);
        assertThat(rule.decide("+4915100000003")).isEqualTo(Outcome.ANSWERED);
        // The other digits keep their outcomes.
        assertThat(List.of(rule.decide("15550100000"), rule.decide("15550100001"), rule.decide("15550100002"),
                rule.decide("15550100005"))).containsExactly(Outcome.BUSY, Outcome.NO_ANSWER, Outcome.FAILED,
                Outcome.ANSWERED);
        // A rule of its own starts with a refusal again.
        assertThat(OutcomeRule.lastDigitCapacityPasses().decide("+4915112345673"))
                .isEqualTo(Outcome.CAPACITY_REJECTED);
    }
}
