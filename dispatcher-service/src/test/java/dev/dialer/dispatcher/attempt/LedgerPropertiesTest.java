package dev.dialer.dispatcher.attempt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.common.kafka.TopicSpec;
import dev.dialer.common.kafka.Topics;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class LedgerPropertiesTest {

    private static final Duration MINUTE = Duration.ofMinutes(1);

    @Test
    void refusesARetentionShorterThanACommandMayBeReadAgain() {
        assertThatThrownBy(() -> new LedgerProperties(Duration.ofDays(14), MINUTE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dialer.dispatcher.ledger.retention")
                .hasMessageContaining("P15D");
        assertThatThrownBy(() -> new LedgerProperties(Duration.ofDays(-30), MINUTE))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void zeroKeepsEveryRequestAndFifteenDaysIsTheShortestRetention() {
        assertThat(new LedgerProperties(Duration.ZERO, MINUTE).purges()).isFalse();
        assertThat(new LedgerProperties(Duration.ofDays(15), MINUTE).purges()).isTrue();
    }

    @Test
    void refusesToForgetRequestsSoonerThanTheirCommandsMayBeReadAgain() {
        LedgerProperties thirtyDays = new LedgerProperties(Duration.ofDays(30), MINUTE);

        thirtyDays.requireLongerThan(Duration.ofDays(14), "dialer.call.commands");
        thirtyDays.requireLongerThan(Duration.ofDays(29), "dialer.call.commands");
        assertThatThrownBy(() -> thirtyDays.requireLongerThan(Duration.ofDays(29).plusSeconds(1),
                "dialer.call.commands"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("dialer.call.commands")
                .hasMessageContaining("retention.ms plus segment.ms");
        assertThatThrownBy(() -> thirtyDays.requireLongerThan(null, "dialer.call.commands"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("for ever");
        new LedgerProperties(Duration.ZERO, MINUTE).requireLongerThan(null, "dialer.call.commands");
    }

    @Test
    void theCommandsDlqAsItIsMadeLetsGoOfEveryCopyBeforeTheShortestRetentionForgetsItsRequest() {
        TopicSpec dlq = Topics.all(12).stream().filter(spec -> spec.name().equals(Topics.CALL_COMMANDS_DLQ))
                .findFirst().orElseThrow();
        // Without segment.ms of its own a topic rolls at the broker's default, a week: a copy stays that much longer.
        String brokerRoll = Long.toString(Duration.ofDays(7).toMillis());
        Duration rereadWindow = Duration.ofMillis(Long.parseLong(dlq.configs().get("retention.ms"))
                + Long.parseLong(dlq.configs().getOrDefault("segment.ms", brokerRoll)));

        assertThat(new LedgerProperties(LedgerProperties.MINIMUM_RETENTION, MINUTE)
                .shorterThan(rereadWindow, Topics.CALL_COMMANDS_DLQ)).isNull();
        assertThat(new LedgerProperties(Duration.ofDays(30), MINUTE)
                .shorterThan(Duration.ofDays(37), Topics.CALL_COMMANDS_DLQ))
                .as("a DLQ made before, 30 days and the broker's weekly roll").contains(Topics.CALL_COMMANDS_DLQ);
    }

    @Test
    void refusesAPurgeIntervalThatIsNotPositive() {
        assertThatThrownBy(() -> new LedgerProperties(Duration.ofDays(30), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("purge-interval");
    }
}
