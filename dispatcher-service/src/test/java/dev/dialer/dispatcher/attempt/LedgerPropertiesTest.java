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
    void theCommandsDlqAsItIsMadeLetsGoOfEveryCopyBeforeTheDefaultRetentionForgetsItsRequest() {
        Duration commandsWindow = rereadWindow(Topics.CALL_COMMANDS);
        Duration dlqWindow = rereadWindow(Topics.CALL_COMMANDS_DLQ);
        assertThat(commandsWindow).isEqualTo(Duration.ofDays(14));
        assertThat(dlqWindow).isEqualTo(Duration.ofDays(14));

        assertThat(new LedgerProperties(Duration.ofDays(30), MINUTE)
                .shorterThanReplays(commandsWindow, dlqWindow, Topics.CALL_COMMANDS_DLQ)).isNull();
        assertThat(new LedgerProperties(Duration.ofDays(29), MINUTE)
                .shorterThanReplays(commandsWindow, dlqWindow, Topics.CALL_COMMANDS_DLQ)).isNull();
        // A command read again 14 days after it was written and kept aside then: its copy is read 14 days more, and
        // its request, ended when the command was first read, may be forgotten after 15.
        assertThat(new LedgerProperties(Duration.ofDays(28), MINUTE)
                .shorterThanReplays(commandsWindow, dlqWindow, Topics.CALL_COMMANDS_DLQ))
                .contains(Topics.CALL_COMMANDS_DLQ).contains("PT336H after its command").contains("PT672H in all")
                .contains("keep ended requests at least PT696H")
                .as("the DLQ as created: shortening it is not offered").doesNotContain("retention.ms");
        assertThat(new LedgerProperties(LedgerProperties.MINIMUM_RETENTION, MINUTE)
                .shorterThanReplays(commandsWindow, dlqWindow, Topics.CALL_COMMANDS_DLQ)).isNotNull();
        assertThat(new LedgerProperties(Duration.ofDays(30), MINUTE)
                .shorterThanReplays(commandsWindow, Duration.ofDays(37), Topics.CALL_COMMANDS_DLQ))
                .as("a DLQ made before, 30 days and the broker's weekly roll").contains(Topics.CALL_COMMANDS_DLQ)
                .contains("retention.ms and segment.ms to 1123200000 and 86400000");
        assertThat(new LedgerProperties(Duration.ofDays(20), MINUTE)
                .shorterThanReplays(commandsWindow, Duration.ofDays(37), Topics.CALL_COMMANDS_DLQ))
                .as("shortening the DLQ would not be enough").doesNotContain("retention.ms")
                .contains("keep ended requests at least PT1248H");
        assertThat(new LedgerProperties(Duration.ofDays(300), MINUTE)
                .shorterThanReplays(commandsWindow, null, Topics.CALL_COMMANDS_DLQ)).contains("for ever");
        assertThat(new LedgerProperties(Duration.ZERO, MINUTE)
                .shorterThanReplays(null, null, Topics.CALL_COMMANDS_DLQ)).isNull();
    }

    /** How long after it was written a record of {@code topic} as the dialer creates it may still be read. */
    private static Duration rereadWindow(String topic) {
        TopicSpec spec = Topics.all(12).stream().filter(candidate -> candidate.name().equals(topic))
                .findFirst().orElseThrow();
        // Without segment.ms of its own a topic rolls at the broker's default, a week: a record stays that much longer.
        String brokerRoll = Long.toString(Duration.ofDays(7).toMillis());
        return Duration.ofMillis(Long.parseLong(spec.configs().get("retention.ms"))
                + Long.parseLong(spec.configs().getOrDefault("segment.ms", brokerRoll)));
    }

    @Test
    void refusesAPurgeIntervalThatIsNotPositive() {
        assertThatThrownBy(() -> new LedgerProperties(Duration.ofDays(30), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("purge-interval");
    }
}
