package dev.dialer.simulator;

import static org.assertj.core.api.Assertions.assertThat;

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
}
