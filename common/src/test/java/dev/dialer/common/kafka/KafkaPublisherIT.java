package dev.dialer.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.infra.EmbeddedKafka;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Where the producer's {@code send} runs: it can block for up to {@code max.block.ms} (no metadata for a topic yet, a
 * full buffer), so it must never run on the publishing caller's thread, which in the services is an event loop.
 * reactor-kafka hands the records to a thread of the sender's own, named after its client id, before it sends them;
 * this holds it to that, and to records published one after another by one caller keeping their order.
 */
class KafkaPublisherIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    @TempDir
    static Path dataDir;
    private static EmbeddedKafka broker;

    @BeforeAll
    static void startBroker() {
        broker = EmbeddedKafka.start(dataDir, 0);
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @Test
    void aRecordHandedOverMayLandUntilTheClientStopsWaitingToTakeItAndThenTryingIt() {
        try (KafkaPublisher publisher = KafkaPublisher.create(KafkaSettings.of(broker.bootstrapServers()),
                "landing-it", Duration.ofSeconds(10))) {
            // max.block.ms 10 s, then delivery.timeout.ms 10 s and the 2 ms batching delay.
            assertThat(publisher.longestLanding()).isEqualTo(Duration.ofMillis(20_002));
        }
        try (KafkaPublisher publisher = KafkaPublisher.create(KafkaSettings.configured(broker.bootstrapServers(),
                Map.of("linger.ms", "2000")), "landing-it", Duration.ofMillis(500))) {
            // The client insists on a delivery time-out of at least the batching delay and a request: 2.5 s.
            assertThat(publisher.longestLanding()).isEqualTo(Duration.ofMillis(3_000));
        }
    }

    @Test
    void recordsAreHandedToTheProducerOffTheCallersThreadAndKeepTheirOrder() throws Exception {
        String topic = "publisher-" + UUID.randomUUID();
        TopicProvisioner.ensure(KafkaSettings.of(broker.bootstrapServers()),
                List.of(TopicSpec.deleting(topic, 1, Duration.ofDays(1))), (short) 1, WAIT.toMillis());
        KafkaSettings settings = KafkaSettings.configured(broker.bootstrapServers(),
                Map.of("interceptor.classes", SendingThreads.class.getName()));
        SendingThreads.seen.clear();
        List<Mono<Void>> sent = new ArrayList<>();
        try (KafkaPublisher publisher = KafkaPublisher.create(settings, "publisher-it", WAIT)) {
            Thread caller = new Thread(() -> {
                for (int i = 0; i < 200; i++) {
                    // Subscribed at once, none awaited before the next: as an event loop publishes.
                    sent.add(publisher.publish(OutboundRecord.of(topic, "caller-1", bytes("single-" + i))).cache());
                    sent.get(i).subscribe();
                }
                sent.add(publisher.publishAll(List.of(OutboundRecord.of(topic, "caller-1", bytes("batch-0")),
                        OutboundRecord.of(topic, "caller-1", bytes("batch-1")))).cache());
                sent.get(200).subscribe();
            }, "publishing-caller");
            caller.start();
            caller.join();
            Flux.concat(sent).blockLast(WAIT);
        }

        assertThat(SendingThreads.seen).hasSize(202)
                .noneMatch(thread -> thread.equals("publishing-caller"))
                .allMatch(thread -> thread.startsWith("publisher-it"));
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            expected.add("single-" + i);
        }
        expected.addAll(List.of("batch-0", "batch-1"));
        assertThat(read(topic, 202)).containsExactlyElementsOf(expected);
    }

    @Test
    void aBatchWithAFailedRecordFailsOnlyOnceEveryRecordsOutcomeIsKnown() {
        String topic = "failing-" + UUID.randomUUID();
        TopicProvisioner.ensure(KafkaSettings.of(broker.bootstrapServers()),
                List.of(TopicSpec.deleting(topic, 1, Duration.ofDays(1))), (short) 1, WAIT.toMillis());
        // max.block.ms 2 s: a record for a topic that does not exist waits that long for its metadata, then fails.
        Duration blockFor = Duration.ofSeconds(2);
        try (KafkaPublisher publisher = KafkaPublisher.create(KafkaSettings.of(broker.bootstrapServers()),
                "failing-it", blockFor)) {
            List<OutboundRecord> batch = List.of(
                    // Larger than the producer sends: fails as soon as it is handed over.
                    OutboundRecord.of(topic, "caller-1", new byte[publisher.maxRecordBytes() + 1]),
                    OutboundRecord.of("missing-" + UUID.randomUUID(), "caller-1", bytes("late")));
            long started = System.nanoTime();
            Throwable failed = publisher.publishAll(batch).then(Mono.<Throwable>empty())
                    .onErrorResume(Mono::just)
                    .block(WAIT);
            Duration took = Duration.ofNanos(System.nanoTime() - started);

            assertThat(failed).as("the first failure").isInstanceOf(RecordTooLargeException.class);
            assertThat(took).as("not before the second record's outcome, its metadata wait over")
                    .isGreaterThanOrEqualTo(blockFor.minusMillis(100));
        }
    }

    @Test
    void eachRecordsOutcomeIsToldByItsPlaceAndAFailedOneEndsNothing() {
        String topic = "each-" + UUID.randomUUID();
        TopicProvisioner.ensure(KafkaSettings.of(broker.bootstrapServers()),
                List.of(TopicSpec.deleting(topic, 1, Duration.ofDays(1))), (short) 1, WAIT.toMillis());
        try (KafkaPublisher publisher = KafkaPublisher.create(KafkaSettings.of(broker.bootstrapServers()),
                "each-it", Duration.ofSeconds(10))) {
            List<OutboundRecord> batch = List.of(
                    OutboundRecord.of(topic, "caller-1", bytes("first")),
                    OutboundRecord.of(topic, "caller-1", new byte[publisher.maxRecordBytes() + 1]),
                    OutboundRecord.of(topic, "caller-1", bytes("third")));

            List<KafkaPublisher.Outcome> outcomes = publisher.publishEach(batch).collectList().block(WAIT);

            assertThat(outcomes).extracting(KafkaPublisher.Outcome::index).containsExactlyInAnyOrder(0, 1, 2);
            assertThat(outcomes).filteredOn(outcome -> outcome.failure() != null).singleElement()
                    .satisfies(outcome -> {
                        assertThat(outcome.index()).isEqualTo(1);
                        assertThat(outcome.failure()).isInstanceOf(RecordTooLargeException.class);
                    });
            assertThat(read(topic, 2)).containsExactly("first", "third");
        }
    }

    @Test
    void thePartitionOfAKeyIsTheOneItsRecordsGoTo() {
        String topic = "partitions-" + UUID.randomUUID();
        TopicProvisioner.ensure(KafkaSettings.of(broker.bootstrapServers()),
                List.of(TopicSpec.deleting(topic, 5, Duration.ofDays(1))), (short) 1, WAIT.toMillis());
        Map<String, Integer> told = new java.util.HashMap<>();
        try (KafkaPublisher publisher = KafkaPublisher.create(KafkaSettings.of(broker.bootstrapServers()),
                "partitions-it", WAIT)) {
            for (int i = 0; i < 40; i++) {
                String key = "+49301234" + i;
                publisher.publish(OutboundRecord.of(topic, key, bytes("x"))).block(WAIT);
                told.put(key, publisher.partitionOf(topic, key).block(WAIT));
            }
        }

        Map<String, Integer> landed = new java.util.HashMap<>();
        List<TopicPartition> partitions = java.util.stream.IntStream.range(0, 5)
                .mapToObj(partition -> new TopicPartition(topic, partition)).toList();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (landed.size() < 40 && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(record -> landed.put(record.key(), record.partition()));
            }
        }
        assertThat(landed).hasSize(40).isEqualTo(told);
        assertThat(java.util.Set.copyOf(told.values())).as("keys spread over the partitions").hasSizeGreaterThan(1);
    }

    private static List<String> read(String topic, int count) {
        TopicPartition partition = new TopicPartition(topic, 0);
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (values.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200))
                        .forEach(record -> values.add(new String(record.value(), StandardCharsets.UTF_8)));
            }
        }
        return values;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Notes the thread each record is handed to the producer on ({@code onSend} runs inside {@code send}). */
    public static final class SendingThreads implements ProducerInterceptor<String, byte[]> {
        static final Queue<String> seen = new ConcurrentLinkedQueue<>();

        @Override
        public ProducerRecord<String, byte[]> onSend(ProducerRecord<String, byte[]> record) {
            seen.add(Thread.currentThread().getName());
            return record;
        }

        @Override
        public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
        }

        @Override
        public void close() {
        }

        @Override
        public void configure(Map<String, ?> configs) {
        }
    }
}
