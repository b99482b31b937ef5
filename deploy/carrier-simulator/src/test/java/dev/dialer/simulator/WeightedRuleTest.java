package dev.dialer.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WeightedRuleTest {

    @Test
    void onlyOutcomesWithWeightAreDrawnRoughlyInProportion() {
        WeightedRule rule = WeightedRule.parse("answered:3, busy:1, failed:0");
        Map<Outcome, Integer> counts = new EnumMap<>(Outcome.class);
        for (int i = 0; i < 4000; i++) {
            counts.merge(rule.decide("15550100000"), 1, Integer::sum);
        }
        assertThat(counts).containsOnlyKeys(Outcome.ANSWERED, Outcome.BUSY);
        assertThat(counts.get(Outcome.ANSWERED)).isBetween(2700, 3300);
    }

    @Test
    void unknownOutcomeOrNoPositiveWeightIsRefused() {
        assertThatThrownBy(() -> WeightedRule.parse("ringing:1")).hasMessageContaining("unknown outcome ringing");
        assertThatThrownBy(() -> WeightedRule.parse("busy:0")).hasMessageContaining("positive weight");
    }
}
