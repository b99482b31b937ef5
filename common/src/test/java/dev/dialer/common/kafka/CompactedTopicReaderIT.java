package dev.dialer.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.infra.Infrastructure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

/** A compacted topic read in full on a real broker: caught up means every record that was there is applied. */
class CompactedTopicReaderIT {

    private final String kafka = Infrastructure.shared().kafkaBootstrapServers();

    @Test
    void isCaughtUpOnlyOnceEveryRecordThatWasThereHasBeenApplied() throws Exception {
        String topic = "compacted-" + UUID.randomUUID();
        int records = 3_000;
        TopicProvisioner.ensure(KafkaSettings.of(kafka), List.of(TopicSpec.compacted(topic, 2)), (short) 1, 30_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.LINGER_MS_CONFIG, 5))) {
            // One record per partition first, acknowledged: a topic this new may not have its leaders known to every
            // broker thread yet, and an idempotent producer whose first batches meet that can lose the rest.
            for (int partition = 0; partition < 2; partition++) {
                producer.send(new ProducerRecord<>(topic, partition, "key-" + partition, "{\"n\":" + partition + "}"))
                        .get(30, TimeUnit.SECONDS);
            }
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 2; i < records; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, i % 2, "key-" + i, "{\"n\":" + i + "}")));
            }
            for (Future<RecordMetadata> each : sent) {
                each.get(60, TimeUnit.SECONDS);
            }
        }
        CompactedTopicReader reader = new CompactedTopicReader(KafkaSettings.of(kafka), topic);
        AtomicInteger applied = new AtomicInteger();
        // Applying takes a while (a large do-not-call list): the whole topic is fetched long before it is applied.
        Disposable reading = reader.records()
                .doOnNext(record -> {
                    // The last few take longest: a reader that counted a record applied as soon as it handed it on
                    // would be caught up while they are still being applied.
                    sleepQuietly(applied.get() >= records - 4 ? 300 : 1);
                    applied.incrementAndGet();
                })
                .subscribe();
        try {
            reader.caughtUp().block(Duration.ofSeconds(60));

            assertThat(applied.get()).as("applied when caught up").isEqualTo(records);
        } finally {
            reading.dispose();
        }
    }

    /**
     * Read again from the beginning after a failure, the topic's history (still in uncompacted segments) does not come
     * again: an older value would show for a while, and the service would act on it.
     */
    @Test
    void aReadAgainPassesOverTheRecordsAppliedAlready() throws Exception {
        String topic = "compacted-" + UUID.randomUUID();
        TopicProvisioner.ensure(KafkaSettings.of(kafka), List.of(TopicSpec.compacted(topic, 1)), (short) 1, 30_000);
        try (KafkaProducer<String, String> producer = producer()) {
            producer.send(new ProducerRecord<>(topic, "dnc:+4915112345678", "first")).get();
            producer.send(new ProducerRecord<>(topic, "dnc:+4915112345678", null)).get();
            producer.send(new ProducerRecord<>(topic, "dnc:+4915112345678", "again")).get();
        }
        CompactedTopicReader reader = new CompactedTopicReader(KafkaSettings.of(kafka), topic);
        List<String> first = new CopyOnWriteArrayList<>();
        Disposable reading = reader.records().subscribe(record -> first.add(value(record)));
        reader.caughtUp().block(Duration.ofSeconds(30));
        reading.dispose();
        assertThat(first).containsExactly("first", null, "again");

        // The subscriber failed and reads again: only what came since.
        try (KafkaProducer<String, String> producer = producer()) {
            producer.send(new ProducerRecord<>(topic, "dnc:+4915112345678", "latest")).get();
        }
        List<String> again = new CopyOnWriteArrayList<>();
        reading = reader.records().subscribe(record -> again.add(value(record)));
        try {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !again.isEmpty());
            Thread.sleep(500);
            assertThat(again).as("nothing read before comes again").containsExactly("latest");
        } finally {
            reading.dispose();
        }
    }

    /** Read to now: every record on the topic when asked is applied, one produced long after the first read too. */
    @Test
    void isReadToNowOnlyOnceARecordProducedAfterItCaughtUpHasBeenApplied() throws Exception {
        String topic = "compacted-" + UUID.randomUUID();
        TopicProvisioner.ensure(KafkaSettings.of(kafka), List.of(TopicSpec.compacted(topic, 2)), (short) 1, 30_000);
        try (KafkaProducer<String, String> producer = producer()) {
            producer.send(new ProducerRecord<>(topic, 0, "wh-1", "first")).get();
        }
        CompactedTopicReader reader = new CompactedTopicReader(KafkaSettings.of(kafka), topic);
        CountDownLatch release = new CountDownLatch(1);
        List<String> applied = new CopyOnWriteArrayList<>();
        Disposable reading = reader.records()
                .doOnNext(record -> {
                    if ("held".equals(value(record))) {
                        awaitQuietly(release);
                    }
                    applied.add(value(record));
                })
                .subscribe();
        try {
            reader.caughtUp().block(Duration.ofSeconds(30));
            try (KafkaProducer<String, String> producer = producer()) {
                producer.send(new ProducerRecord<>(topic, 1, "wh-2", "held")).get();
            }

            CompletableFuture<Void> readToNow = reader.readToNow().toFuture();

            Thread.sleep(500);
            assertThat(readToNow).as("read to now while its last record is being applied").isNotDone();
            release.countDown();
            readToNow.get(30, TimeUnit.SECONDS);
            assertThat(applied).containsExactly("first", "held");
            // Nothing came since: read to now at once.
            reader.readToNow().block(Duration.ofSeconds(30));
        } finally {
            release.countDown();
            reading.dispose();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * An upstream producer writing in transactions: a partition's end is then a commit marker, never handed to a
     * reader, and its aborted records are never handed either. The reader is caught up once the committed records are
     * applied, and the aborted ones are not.
     */
    @Test
    void aTopicEndingInTransactionMarkersIsCaughtUpAndItsAbortedRecordsAreNotRead() throws Exception {
        String topic = "compacted-" + UUID.randomUUID();
        TopicProvisioner.ensure(KafkaSettings.of(kafka), List.of(TopicSpec.compacted(topic, 2)), (short) 1, 30_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka,
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "upstream-" + UUID.randomUUID(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "dnc:+4915112345678", "committed"));
            producer.commitTransaction();
            // Partition 1: a committed record, then a run of aborted ones longer than the tail looked at first.
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 1, "dnc:+4915112345679", "committed too"));
            producer.commitTransaction();
            producer.beginTransaction();
            for (int i = 0; i < 200; i++) {
                producer.send(new ProducerRecord<>(topic, 1, "dnc:+49151" + i, "aborted"));
            }
            producer.abortTransaction();
        }
        assertThat(appliedOnceCaughtUp(topic)).containsExactlyInAnyOrder("committed", "committed too");
    }

    /** A header named as the consumers' own assignment stamp, written by an outside producer, is no stamp. */
    @Test
    void aRecordWhoseAssignmentHeaderIsNotANumberIsReadAll() throws Exception {
        String topic = "compacted-" + UUID.randomUUID();
        TopicProvisioner.ensure(KafkaSettings.of(kafka), List.of(TopicSpec.compacted(topic, 1)), (short) 1, 30_000);
        try (KafkaProducer<String, String> producer = producer()) {
            ProducerRecord<String, String> odd = new ProducerRecord<>(topic, "dnc:+4915112345678", "odd");
            odd.headers().add("dialer.assignment", "not a number".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            producer.send(odd).get();
            producer.send(new ProducerRecord<>(topic, "dnc:+4915112345679", "next")).get();
        }
        assertThat(appliedOnceCaughtUp(topic)).containsExactly("odd", "next");
    }

    /** The values a new reader of {@code topic} applied once it was caught up, and then read to now. */
    private List<String> appliedOnceCaughtUp(String topic) {
        CompactedTopicReader reader = new CompactedTopicReader(KafkaSettings.of(kafka), topic);
        List<String> applied = new CopyOnWriteArrayList<>();
        Disposable reading = reader.records().subscribe(record -> applied.add(value(record)));
        try {
            reader.caughtUp().block(Duration.ofSeconds(60));
            List<String> caughtUp = List.copyOf(applied);
            reader.readToNow().block(Duration.ofSeconds(60));
            return caughtUp;
        } finally {
            reading.dispose();
        }
    }

    private KafkaProducer<String, String> producer() {
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
    }

    private static String value(InboundRecord record) {
        return record.value() == null ? null : new String(record.value(), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** An empty topic is caught up at once. */
    @Test
    void anEmptyTopicIsCaughtUp() {
        String topic = "compacted-" + UUID.randomUUID();
        TopicProvisioner.ensure(KafkaSettings.of(kafka), List.of(TopicSpec.compacted(topic, 2)), (short) 1, 30_000);
        CompactedTopicReader reader = new CompactedTopicReader(KafkaSettings.of(kafka), topic);
        Disposable reading = reader.records().subscribe();
        try {
            reader.caughtUp().block(Duration.ofSeconds(30));
        } finally {
            reading.dispose();
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
