package dev.dialer.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.infra.Infrastructure;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** A consumer group's lag as the broker tells it, on a real broker. */
class ConsumerGroupLagIT {

    private final String kafka = Infrastructure.shared().kafkaBootstrapServers();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void countsTheRecordsPastTheCommittedOffsetsAndAllOfAPartitionNeverCommitted() {
        String topic = topicWith(Map.of(0, 10, 1, 5, 2, 0));
        String group = "lag-" + UUID.randomUUID();
        try (ConsumerGroupLag lag = new ConsumerGroupLag(KafkaSettings.of(kafka), group, List.of(topic), registry,
                Duration.ofSeconds(10))) {
            assertThat(gauge(group, topic)).as("before the first measurement").isNaN();

            lag.measure();
            assertThat(gauge(group, topic)).as("nothing committed: every record").isEqualTo(15);

            commit(group, Map.of(new TopicPartition(topic, 0), 4L));
            lag.measure();
            // Six past the commit on partition 0, all five of partition 1 (never committed), none on the empty one.
            assertThat(gauge(group, topic)).isEqualTo(11);

            commit(group, Map.of(new TopicPartition(topic, 0), 10L, new TopicPartition(topic, 1), 5L));
            lag.measure();
            assertThat(gauge(group, topic)).as("caught up").isZero();
        }
    }

    @Test
    void aCommitOlderThanThePartitionsFirstRecordCountsFromThatRecord() throws Exception {
        String topic = topicWith(Map.of(0, 10));
        String group = "lag-" + UUID.randomUUID();
        TopicPartition partition = new TopicPartition(topic, 0);
        commit(group, Map.of(partition, 2L));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka))) {
            // What retention does to a partition whose consumers fell behind: its first seven records deleted.
            admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(7))).all().get(30, TimeUnit.SECONDS);
        }
        try (ConsumerGroupLag lag = new ConsumerGroupLag(KafkaSettings.of(kafka), group, List.of(topic), registry,
                Duration.ofSeconds(10))) {
            lag.measure();

            assertThat(gauge(group, topic)).as("the three records left, not eight from the stale commit").isEqualTo(3);
        }
    }

    @Test
    void aMeasurementThatFailsReplacesTheLastFigureWithNaN() {
        String topic = topicWith(Map.of(0, 3));
        String group = "lag-" + UUID.randomUUID();
        ConsumerGroupLag lag = new ConsumerGroupLag(KafkaSettings.of(kafka), group, List.of(topic), registry,
                Duration.ofSeconds(5));
        lag.measure();
        assertThat(gauge(group, topic)).isEqualTo(3);

        // The admin client closed: every request to the broker fails from now on.
        lag.close();
        lag.measure();

        assertThat(gauge(group, topic)).as("not the stale 3").isNaN();
    }

    @Test
    void aTopicTheBrokerCannotDescribeIsNaN() throws Exception {
        String topic = topicWith(Map.of(0, 3));
        String goneLater = topicWith(Map.of(0, 2));
        String group = "lag-" + UUID.randomUUID();
        try (ConsumerGroupLag lag = new ConsumerGroupLag(KafkaSettings.of(kafka), group, List.of(topic, goneLater),
                registry, Duration.ofSeconds(5))) {
            lag.measure();
            assertThat(gauge(group, topic)).isEqualTo(3);
            assertThat(gauge(group, goneLater)).isEqualTo(2);

            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka))) {
                admin.deleteTopics(List.of(goneLater)).all().get(30, TimeUnit.SECONDS);
                // The controller acknowledges the delete before the broker's metadata has it.
                await().atMost(Duration.ofSeconds(30)).until(() -> !admin.listTopics().names()
                        .get(30, TimeUnit.SECONDS).contains(goneLater));
            }
            lag.measure();

            // Measured, and neither the stale 3 nor the stale 2: the measurement that could not describe a topic.
            assertThat(gauge(group, topic)).isNaN();
            assertThat(gauge(group, goneLater)).isNaN();
        }
    }

    private double gauge(String group, String topic) {
        return registry.get("dialer.kafka.consumer.lag").tags("group", group, "topic", topic).gauge().value();
    }

    private void commit(String group, Map<TopicPartition, Long> offsets) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka,
                ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class))) {
            consumer.assign(offsets.keySet());
            Map<TopicPartition, OffsetAndMetadata> committed = new HashMap<>();
            offsets.forEach((partition, offset) -> committed.put(partition, new OffsetAndMetadata(offset)));
            consumer.commitSync(committed);
        }
    }

    /** A topic with the given number of records on each of its partitions. */
    private String topicWith(Map<Integer, Integer> recordsByPartition) {
        String topic = "lag-" + UUID.randomUUID();
        TopicProvisioner.ensure(KafkaSettings.of(kafka),
                List.of(TopicSpec.deleting(topic, recordsByPartition.size(), Duration.ofDays(1))), (short) 1, 30_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
            recordsByPartition.forEach((partition, count) -> {
                for (int i = 0; i < count; i++) {
                    producer.send(new ProducerRecord<>(topic, partition, "key-" + i, "{}"));
                }
            });
            producer.flush();
        }
        return topic;
    }
}
