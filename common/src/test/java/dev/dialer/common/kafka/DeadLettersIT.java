package dev.dialer.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.ContractViolation;
import dev.dialer.infra.Infrastructure;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.kafka.receiver.ReceiverOffset;
import reactor.kafka.receiver.ReceiverRecord;
import reactor.test.StepVerifier;

/** DLQ copies too large to send whole, on a real broker: each still reaches the DLQ, marked, and nothing stops. */
class DeadLettersIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final ContractViolation NOT_JSON =
            new ContractViolation(ContractViolation.Code.NOT_JSON, "Unexpected character ('x' (code 120))");

    private final String kafka = Infrastructure.shared().kafkaBootstrapServers();

    @Test
    void aCopyTheDlqTopicRefusesAsTooLargeIsSentWithoutItsValueAndTheNextCopyGoesWhole() {
        String dlq = dlq(10 * 1024);
        try (KafkaPublisher publisher = KafkaPublisher.create(KafkaSettings.of(kafka), "it-dlq", WAIT)) {
            DeadLetters deadLetters = new DeadLetters(publisher, dlq);

            deadLetters.send(bad(7, filled(50_000)), NOT_JSON).as(StepVerifier::create)
                    .expectNext(DeadLetters.Copy.TRUNCATED).expectComplete().verify(WAIT);
            deadLetters.send(bad(8, "not JSON".getBytes(StandardCharsets.UTF_8)), NOT_JSON).as(StepVerifier::create)
                    .expectNext(DeadLetters.Copy.WHOLE).expectComplete().verify(WAIT);
        }

        List<ConsumerRecord<String, byte[]>> copies = read(dlq, 2);
        assertThat(copies.get(0).value()).isEmpty();
        assertThat(header(copies.get(0), Topics.HEADER_DLQ_TRUNCATED)).isEqualTo("true");
        assertThat(header(copies.get(0), Topics.HEADER_DLQ_ORIGINAL_SIZE)).isEqualTo("50000");
        assertThat(header(copies.get(0), Topics.HEADER_ERROR_CODE)).isEqualTo("not_json");
        assertThat(header(copies.get(0), Topics.HEADER_SOURCE_OFFSET)).isEqualTo("7");
        assertThat(new String(copies.get(1).value(), StandardCharsets.UTF_8)).isEqualTo("not JSON");
        assertThat(header(copies.get(1), Topics.HEADER_DLQ_TRUNCATED)).isNull();
        assertThat(header(copies.get(1), Topics.HEADER_SOURCE_OFFSET)).isEqualTo("8");
    }

    @Test
    void aCopyLargerThanThePublisherSendsIsSentCutToFit() {
        String dlq = dlq(Topics.MAX_DLQ_RECORD_BYTES);
        int limit = 16 * 1024;
        byte[] value = filled(100_000);
        try (KafkaPublisher publisher = KafkaPublisher.create(
                new KafkaSettings(kafka, Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, limit)), "it-dlq", WAIT)) {
            new DeadLetters(publisher, dlq).send(bad(9, value), NOT_JSON).as(StepVerifier::create)
                    .expectNext(DeadLetters.Copy.TRUNCATED).expectComplete().verify(WAIT);
        }

        ConsumerRecord<String, byte[]> copy = read(dlq, 1).get(0);
        assertThat(copy.value()).hasSizeLessThan(limit).isEqualTo(Arrays.copyOf(value, copy.value().length));
        assertThat(header(copy, Topics.HEADER_DLQ_TRUNCATED)).isEqualTo("true");
        assertThat(header(copy, Topics.HEADER_DLQ_ORIGINAL_SIZE)).isEqualTo("100000");
        assertThat(header(copy, Topics.HEADER_SOURCE_TOPIC)).isEqualTo(Topics.CALL_COMMANDS);
        assertThat(header(copy, Topics.HEADER_SOURCE_PARTITION)).isEqualTo("1");
        assertThat(header(copy, Topics.HEADER_SOURCE_OFFSET)).isEqualTo("9");
    }

    /**
     * A record an outside producer wrote with headers that are not all text (a binary one, a name given twice, one
     * with no value), read and handed to the DLQ as the services do: the copy carries them byte for byte, in order.
     */
    @Test
    void aCopyCarriesTheRecordsHeadersByteForByte() {
        String source = dlq(Topics.MAX_DLQ_RECORD_BYTES);
        String dlq = dlq(Topics.MAX_DLQ_RECORD_BYTES);
        byte[] binary = {(byte) 0xff, 0, (byte) 0xc3, 0x28};
        List<Header> written = List.of(new RecordHeader("b3", binary),
                new RecordHeader("tag", "one".getBytes(StandardCharsets.UTF_8)),
                new RecordHeader("tag", "two".getBytes(StandardCharsets.UTF_8)), new RecordHeader("empty", null));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
            producer.send(new ProducerRecord<>(source, 0, "+4930123456", "not JSON".getBytes(StandardCharsets.UTF_8),
                    written)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        ConsumerRecord<String, byte[]> consumed = read(source, 1).get(0);
        InboundRecord bad = KafkaSubscriber.toInbound(new ReceiverRecord<>(consumed, new ReceiverOffset() {
            @Override
            public TopicPartition topicPartition() {
                return new TopicPartition(source, 0);
            }

            @Override
            public long offset() {
                return consumed.offset();
            }

            @Override
            public void acknowledge() {
            }

            @Override
            public Mono<Void> commit() {
                return Mono.empty();
            }
        }));

        try (KafkaPublisher publisher = KafkaPublisher.create(KafkaSettings.of(kafka), "it-dlq", WAIT)) {
            new DeadLetters(publisher, dlq).send(bad, NOT_JSON).as(StepVerifier::create)
                    .expectNext(DeadLetters.Copy.WHOLE).expectComplete().verify(WAIT);
        }

        List<Header> copied = Arrays.asList(read(dlq, 1).get(0).headers().toArray());
        assertThat(copied.subList(0, written.size())).isEqualTo(written);
        assertThat(copied.subList(written.size(), copied.size())).extracting(Header::key)
                .contains(Topics.HEADER_ERROR_CODE, Topics.HEADER_SOURCE_OFFSET);
    }

    private String dlq(int maxMessageBytes) {
        String name = "dlq-" + UUID.randomUUID();
        TopicProvisioner.ensure(KafkaSettings.of(kafka), List.of(TopicSpec.deleting(name, 1, Duration.ofDays(1))
                .maxMessageBytes(maxMessageBytes)), (short) 1, WAIT.toMillis());
        return name;
    }

    private List<ConsumerRecord<String, byte[]>> read(String topic, int count) {
        TopicPartition partition = new TopicPartition(topic, 0);
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (records.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        assertThat(records).hasSize(count);
        return records;
    }

    private static InboundRecord bad(long offset, byte[] value) {
        return new InboundRecord(Topics.CALL_COMMANDS, 1, offset, "+4930123456", value, Map.of(), () -> { });
    }

    private static byte[] filled(int size) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) 'x');
        return bytes;
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
