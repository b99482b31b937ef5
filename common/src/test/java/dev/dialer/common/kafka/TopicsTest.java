package dev.dialer.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.ContractViolation;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TopicsTest {

    @Test
    void theLargestCommandTheTopicTakesIsCopiedWholeToTheDlqByAPublisherAsItIsMadeByDefault() {
        int largestValue = Integer.parseInt(config(Topics.CALL_COMMANDS, "max.message.bytes")) - 100;
        InboundRecord largest = new InboundRecord(Topics.CALL_COMMANDS, 0, Long.MAX_VALUE, "+4930123456",
                new byte[largestValue], Map.of("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
                () -> { });
        // The longest error message a copy carries, in characters that take three bytes each.
        ContractViolation violation = new ContractViolation(ContractViolation.Code.SCHEMA_INVALID, "€".repeat(5_000));
        int dlqTakes = Integer.parseInt(config(Topics.CALL_COMMANDS_DLQ, "max.message.bytes"));

        try (KafkaPublisher publisher = KafkaPublisher.create(KafkaSettings.of("127.0.0.1:1"), "topics-test",
                Duration.ofSeconds(1))) {
            OutboundRecord copy = DeadLetters.copy(largest, Topics.CALL_COMMANDS_DLQ, violation,
                    publisher.maxRecordBytes(), Set.of());

            assertThat(DeadLetters.truncated(copy)).isFalse();
            assertThat(DeadLetters.sizeUpperBound(copy)).isLessThanOrEqualTo(dlqTakes);
        }
    }

    @Test
    void theLargestEventTheTopicTakesIsCopiedWholeToItsDlq() {
        int largestValue = Integer.parseInt(config(Topics.CALL_EVENTS, "max.message.bytes")) - 100;
        InboundRecord largest = new InboundRecord(Topics.CALL_EVENTS, 0, Long.MAX_VALUE, "req-" + "0".repeat(64),
                new byte[largestValue],
                Map.of("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), () -> { });
        ContractViolation violation = new ContractViolation(ContractViolation.Code.PROCESSING_ERROR,
                "€".repeat(5_000));
        int dlqTakes = Integer.parseInt(config(Topics.CALL_EVENTS_DLQ, "max.message.bytes"));

        try (KafkaPublisher publisher = KafkaPublisher.create(KafkaSettings.of("127.0.0.1:1"), "topics-test",
                Duration.ofSeconds(1))) {
            OutboundRecord copy = DeadLetters.copy(largest, Topics.CALL_EVENTS_DLQ, violation,
                    publisher.maxRecordBytes(), Set.of());

            assertThat(DeadLetters.truncated(copy)).isFalse();
            assertThat(DeadLetters.sizeUpperBound(copy)).isLessThanOrEqualTo(dlqTakes);
        }
    }

    @Test
    void everyDlqKeepsItsCopiesLongerThanItsSourceTopicKeepsTheOriginals() {
        Map<String, String> sources = Map.of(
                Topics.CALL_COMMANDS_DLQ, Topics.CALL_COMMANDS,
                Topics.CALL_EVENTS_DLQ, Topics.CALL_EVENTS,
                Topics.CARRIER_CALLBACKS_DLQ, Topics.CARRIER_CALLBACKS,
                Topics.WEBHOOK_CONTROL_DLQ, Topics.WEBHOOK_CONTROL);

        sources.forEach((dlq, source) -> assertThat(Long.parseLong(config(dlq, "retention.ms"))).as(dlq)
                .isEqualTo(dlq.equals(Topics.CALL_COMMANDS_DLQ) ? Duration.ofDays(13).toMillis()
                        : Duration.ofDays(30).toMillis())
                .isGreaterThan(Long.parseLong(config(source, "retention.ms"))));
        sources.keySet().forEach(dlq -> assertThat(Integer.parseInt(config(dlq, "max.message.bytes"))).as(dlq)
                .isEqualTo(Topics.MAX_DLQ_RECORD_BYTES));
    }

    @Test
    void aDeletedWebhooksTombstoneOutlivesTheWaitsOfTheCallsThatMayStillNameIt() {
        assertThat(Long.parseLong(config(Topics.WEBHOOK_CONFIG, "delete.retention.ms")))
                .isEqualTo(Duration.ofDays(30).toMillis());
        assertThat(config(Topics.WEBHOOK_CONFIG, "cleanup.policy")).isEqualTo("compact");
        assertThat(Long.parseLong(config(Topics.DNC, "delete.retention.ms"))).as("the other compacted topics")
                .isEqualTo(Duration.ofDays(1).toMillis());
    }

    private static String config(String topic, String name) {
        return Topics.all(12).stream().filter(spec -> spec.name().equals(topic)).findFirst().orElseThrow()
                .configs().get(name);
    }
}
