package dev.dialer.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.ContractViolation;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class DeadLettersTest {

    private static final String DLQ = Topics.CALL_COMMANDS_DLQ;
    private static final int LIMIT = 64 * 1024;
    private static final ContractViolation NOT_JSON =
            new ContractViolation(ContractViolation.Code.NOT_JSON, "Unexpected character ('n' (code 110))");

    @Test
    void aCopyThatFitsIsTheRecordWholeWithTheErrorAndWhereItCameFrom() {
        InboundRecord bad = bad("not JSON".getBytes(StandardCharsets.UTF_8), Map.of("trace", "abc"));

        OutboundRecord copy = DeadLetters.copy(bad, DLQ, NOT_JSON, LIMIT, Set.of());

        assertThat(copy.topic()).isEqualTo(DLQ);
        assertThat(copy.key()).isEqualTo("+4930123456");
        assertThat(copy.value()).isEqualTo(bad.value());
        assertThat(sent(copy))
                .containsEntry("trace", "abc")
                .containsEntry(Topics.HEADER_ERROR_CODE, "not_json")
                .containsEntry(Topics.HEADER_ERROR_MESSAGE, NOT_JSON.getMessage())
                .containsEntry(Topics.HEADER_SOURCE_TOPIC, Topics.CALL_COMMANDS)
                .containsEntry(Topics.HEADER_SOURCE_PARTITION, "2")
                .containsEntry(Topics.HEADER_SOURCE_OFFSET, "4711")
                .doesNotContainKeys(Topics.HEADER_DLQ_TRUNCATED, Topics.HEADER_DLQ_ORIGINAL_SIZE);
    }

    @Test
    void aCopyIsTriedAgainWhateverTheFailureUntilItIsSent() {
        InboundRecord bad = bad("not JSON".getBytes(StandardCharsets.UTF_8), Map.of());
        AtomicInteger tries = new AtomicInteger();
        Mono<DeadLetters.Copy> refused = Mono.fromCallable(() -> {
            if (tries.incrementAndGet() < 5) {
                // No outage: the DLQ's write permission missing until someone puts it right.
                throw new TopicAuthorizationException("no WRITE on the DLQ");
            }
            return DeadLetters.Copy.WHOLE;
        });

        StepVerifier.withVirtualTime(() -> refused.retryWhen(DeadLetters.untilDone(bad, "command")))
                .thenAwait(Duration.ofMinutes(1))
                .expectNext(DeadLetters.Copy.WHOLE)
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(tries).hasValue(5);
    }

    @Test
    void triesAgainBackOffToThirtySeconds() {
        InboundRecord bad = bad("not JSON".getBytes(StandardCharsets.UTF_8), Map.of());
        AtomicInteger tries = new AtomicInteger();
        Mono<DeadLetters.Copy> down = Mono.fromCallable(() -> {
            tries.incrementAndGet();
            throw new TopicAuthorizationException("no WRITE on the DLQ");
        });

        StepVerifier.withVirtualTime(() -> down.retryWhen(DeadLetters.untilDone(bad, "command")))
                .thenAwait(Duration.ofMinutes(10))
                .thenCancel()
                .verify(Duration.ofSeconds(5));
        // 0.1 s doubling reaches 30 s after 9 tries (51.1 s of waits, 25–77 s with Reactor's jitter); the rest of
        // the ten minutes, 15–30 s apart at the cap, 17–37 more: a try a second would be some 580.
        assertThat(tries.get()).isBetween(25, 50);
    }

    @Test
    void aCopyCarriesNoneOfTheMarksTheDialerSetsOnRecordsItPublishes() {
        InboundRecord bad = bad("not JSON".getBytes(StandardCharsets.UTF_8),
                Map.of("trace", "abc", "dialer.rerouted", "4@17", "dialer.parked", "1"));

        OutboundRecord copy = DeadLetters.copy(bad, DLQ, NOT_JSON, LIMIT, Set.of());

        assertThat(sent(copy)).containsEntry("trace", "abc")
                .containsEntry(Topics.HEADER_ERROR_CODE, "not_json")
                .doesNotContainKeys("dialer.rerouted", "dialer.parked");
    }

    @Test
    void aCopyKeepsTheDialersOwnHeadersThatSayWhatTheRecordIs() {
        InboundRecord bad = bad("not JSON".getBytes(StandardCharsets.UTF_8),
                Map.of("dialer.call-bound", "true", "dialer.parked", "1"));

        OutboundRecord copy = DeadLetters.copy(bad, DLQ, NOT_JSON, LIMIT, Set.of("dialer.call-bound"));

        assertThat(sent(copy)).containsEntry("dialer.call-bound", "true").doesNotContainKey("dialer.parked");
    }

    @Test
    void aCopyLargerThanTheProducerSendsIsCutToWhatFitsAndMarkedWithTheOriginalSize() {
        byte[] value = filled(200_000);
        InboundRecord bad = bad(value, Map.of("trace", "abc"));

        OutboundRecord copy = DeadLetters.copy(bad, DLQ, NOT_JSON, LIMIT, Set.of());

        assertThat(sent(copy))
                .containsEntry(Topics.HEADER_DLQ_TRUNCATED, "true")
                .containsEntry(Topics.HEADER_DLQ_ORIGINAL_SIZE, "200000")
                .containsEntry(Topics.HEADER_ERROR_CODE, "not_json")
                .containsEntry(Topics.HEADER_SOURCE_TOPIC, Topics.CALL_COMMANDS)
                .containsEntry(Topics.HEADER_SOURCE_PARTITION, "2")
                .containsEntry(Topics.HEADER_SOURCE_OFFSET, "4711")
                .containsEntry("trace", "abc");
        assertThat(copy.value()).isEqualTo(Arrays.copyOf(value, copy.value().length));
        assertThat(producerCounts(copy)).as("bytes the producer counts").isLessThanOrEqualTo(LIMIT);
        assertThat(copy.value().length).as("cut to what fits, not further").isGreaterThan(LIMIT - 1024);
    }

    @Test
    void aCopyIsWholeUpToTheLimitAndCutOneByteBeyondIt() {
        InboundRecord bad = bad(filled(10_000), Map.of());
        int whole = DeadLetters.sizeUpperBound(DeadLetters.of(bad, DLQ, NOT_JSON, Set.of()));

        assertThat(DeadLetters.truncated(DeadLetters.copy(bad, DLQ, NOT_JSON, whole, Set.of()))).isFalse();
        assertThat(DeadLetters.truncated(DeadLetters.copy(bad, DLQ, NOT_JSON, whole - 1, Set.of()))).isTrue();
    }

    @Test
    void headersThatFillTheLimitAloneLeaveNoRoomForTheValue() {
        InboundRecord bad = bad(filled(1_000), Map.of("big", "h".repeat(2_000)));

        OutboundRecord copy = DeadLetters.copy(bad, DLQ, NOT_JSON, 1_500, Set.of());

        assertThat(copy.value()).isEmpty();
        assertThat(sent(copy)).containsEntry(Topics.HEADER_DLQ_ORIGINAL_SIZE, "1000");
    }

    @Test
    void aCopyWithoutValueKeepsOnlyTheErrorSourceAndTruncationHeaders() {
        InboundRecord bad = bad(filled(5_000), Map.of("big", "h".repeat(2_000)));

        OutboundRecord copy = DeadLetters.withoutValue(bad, DLQ, NOT_JSON);

        assertThat(copy.value()).isEmpty();
        assertThat(copy.key()).isEqualTo("+4930123456");
        assertThat(sent(copy)).containsOnlyKeys(Topics.HEADER_ERROR_CODE, Topics.HEADER_ERROR_MESSAGE,
                Topics.HEADER_SOURCE_TOPIC, Topics.HEADER_SOURCE_PARTITION, Topics.HEADER_SOURCE_OFFSET,
                Topics.HEADER_DLQ_TRUNCATED, Topics.HEADER_DLQ_ORIGINAL_SIZE);
        assertThat(sent(copy)).containsEntry(Topics.HEADER_DLQ_ORIGINAL_SIZE, "5000");
    }

    @Test
    void aKeyThatAloneLeavesNoRoomIsCutToFitAndMarkedWithItsSize() {
        // What a key of bytes that are not UTF-8 reads as: each byte one replacement character, three bytes in UTF-8.
        String key = "\uFFFD".repeat(400_000);
        InboundRecord bad = new InboundRecord(Topics.CALL_COMMANDS, 2, 4711, key, filled(10), Map.of(), () -> { });

        OutboundRecord copy = DeadLetters.copy(bad, DLQ, NOT_JSON, LIMIT, Set.of());

        assertThat(producerCounts(copy)).as("bytes the producer counts").isLessThanOrEqualTo(LIMIT);
        assertThat(key).startsWith(copy.key());
        assertThat(copy.key().length()).as("cut to what fits, not further").isGreaterThan((LIMIT - 1024) / 3);
        assertThat(sent(copy))
                .containsEntry(Topics.HEADER_DLQ_KEY_ORIGINAL_SIZE, "1200000")
                .containsEntry(Topics.HEADER_DLQ_TRUNCATED, "true")
                .containsEntry(Topics.HEADER_SOURCE_OFFSET, "4711");
    }

    @Test
    void aCopyWithoutValueKeepsAtMostAKibibyteOfItsKey() {
        InboundRecord large = new InboundRecord(Topics.CALL_COMMANDS, 2, 4711, "é".repeat(5_000), filled(10), Map.of(),
                () -> { });
        InboundRecord fitting = new InboundRecord(Topics.CALL_COMMANDS, 2, 4711, "k".repeat(1024), filled(10),
                Map.of(), () -> { });

        OutboundRecord cut = DeadLetters.withoutValue(large, DLQ, NOT_JSON);
        OutboundRecord whole = DeadLetters.withoutValue(fitting, DLQ, NOT_JSON);

        assertThat(cut.key()).isEqualTo("é".repeat(512));
        assertThat(sent(cut)).containsEntry(Topics.HEADER_DLQ_KEY_ORIGINAL_SIZE, "10000");
        assertThat(whole.key()).isEqualTo(fitting.key());
        assertThat(sent(whole)).doesNotContainKey(Topics.HEADER_DLQ_KEY_ORIGINAL_SIZE);
    }

    @Test
    void aKeyIsCutBetweenCodePoints() {
        String text = "aé€\uD83D\uDE00z";

        assertThat(DeadLetters.cut(text, 6)).isEqualTo("aé€");
        assertThat(DeadLetters.cut(text, 5)).isEqualTo("aé");
        assertThat(DeadLetters.cut(text, 9)).isEqualTo("aé€");
        assertThat(DeadLetters.cut(text, 10)).isEqualTo("aé€\uD83D\uDE00");
        assertThat(DeadLetters.cut(text, 0)).isEmpty();
        assertThat(DeadLetters.cut(text, -3)).isEmpty();
    }

    @Test
    void aRecordWithoutValueIsCopiedWhole() {
        OutboundRecord copy = DeadLetters.copy(bad(null, Map.of()), DLQ, NOT_JSON, LIMIT, Set.of());

        assertThat(copy.value()).isNull();
        assertThat(DeadLetters.truncated(copy)).isFalse();
    }

    @Test
    void theSizeBoundIsNeverBelowWhatTheProducerCounts() {
        for (OutboundRecord record : new OutboundRecord[] {
                new OutboundRecord(DLQ, null, null, Map.of()),
                new OutboundRecord(DLQ, "", new byte[0], Map.of("", "")),
                new OutboundRecord(DLQ, "+4930123456", filled(127), Map.of("é", "ü".repeat(70))),
                new OutboundRecord(DLQ, "k".repeat(300), filled(16_384), Map.of("a", "b", "c", "d".repeat(20_000))),
                DeadLetters.of(bad(filled(2_000_000), Map.of("trace", "abc")), DLQ, NOT_JSON, Set.of())}) {
            assertThat(DeadLetters.sizeUpperBound(record)).isGreaterThanOrEqualTo(producerCounts(record));
        }
    }

    /** The size {@code KafkaProducer} checks against {@code max.request.size}, by Kafka's own code. */
    private static int producerCounts(OutboundRecord record) {
        Header[] headers = record.sentHeaders().toArray(Header[]::new);
        byte[] key = record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8);
        return AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE,
                key, record.value(), headers);
    }

    /** The copy's headers as they are sent, as text: the last value of each name. */
    private static Map<String, String> sent(OutboundRecord copy) {
        Map<String, String> text = new HashMap<>();
        copy.sentHeaders().forEach(header -> text.put(header.key(),
                header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8)));
        return text;
    }

    @Test
    void aCopyCarriesTheRecordsOwnHeadersAsTheyCameBinaryRepeatedAndNullOnesIncluded() {
        byte[] binary = {(byte) 0xff, 0, (byte) 0xc3, 0x28};
        List<Header> raw = List.of(new RecordHeader("b3", binary), new RecordHeader("tag", bytes("one")),
                new RecordHeader("tag", bytes("two")), new RecordHeader("empty", null),
                new RecordHeader("dialer.parked", bytes("1")), new RecordHeader("dialer.call-bound", bytes("true")));
        InboundRecord bad = new InboundRecord(Topics.CALL_COMMANDS, 2, 4711, "+4930123456", bytes("not JSON"),
                Map.of("b3", "ignored", "tag", "two", "dialer.parked", "1"), () -> { }, 0, raw);

        OutboundRecord copy = DeadLetters.copy(bad, DLQ, NOT_JSON, LIMIT, Set.of("dialer.call-bound"));

        List<Header> sent = copy.sentHeaders();
        assertThat(sent.subList(0, 5)).extracting(Header::key)
                .containsExactly("b3", "tag", "tag", "empty", "dialer.call-bound");
        assertThat(sent.get(0).value()).isEqualTo(binary);
        assertThat(sent.subList(1, 3)).extracting(header -> new String(header.value(), StandardCharsets.UTF_8))
                .containsExactly("one", "two");
        assertThat(sent.get(3).value()).isNull();
        assertThat(sent).extracting(Header::key).doesNotContain("dialer.parked")
                .containsOnlyOnce(Topics.HEADER_ERROR_CODE);
        assertThat(DeadLetters.sizeUpperBound(copy)).isGreaterThanOrEqualTo(producerCounts(copy));
    }

    @Test
    void aCarriedHeaderOfANameTheDialerSetsIsLeftOutForTheDialersValue() {
        OutboundRecord record = new OutboundRecord(DLQ, "k", bytes("v"), Map.of("dialer.rerouted", "3@9"),
                List.of(new RecordHeader("dialer.rerouted", bytes("1@2")), new RecordHeader("trace", bytes("abc"))));

        assertThat(KafkaPublisher.toSenderRecord(record).headers().toArray())
                .extracting(header -> header.key() + "=" + new String(header.value(), StandardCharsets.UTF_8))
                .containsExactly("trace=abc", "dialer.rerouted=3@9");
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static InboundRecord bad(byte[] value, Map<String, String> headers) {
        return new InboundRecord(Topics.CALL_COMMANDS, 2, 4711, "+4930123456", value, headers, () -> { });
    }

    private static byte[] filled(int size) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) 'x');
        return bytes;
    }
}
