package dev.dialer.infra;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class InfrastructureIT {

    @Test
    void kafkaAcceptsAndServesRecords() throws Exception {
        Infrastructure.Endpoints infra = Infrastructure.shared();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", infra.kafkaBootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("infra-check", 1, (short) 1))).all().get();
        }
        try (var producer = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers",
                infra.kafkaBootstrapServers(), "acks", "all"), new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>("infra-check", "k", "hello")).get();
        }
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of("bootstrap.servers",
                infra.kafkaBootstrapServers(), "group.id", "infra-check", "auto.offset.reset", "earliest"),
                new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("infra-check"));
            ConsumerRecords<String, String> records = ConsumerRecords.empty();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (records.isEmpty() && System.nanoTime() < deadline) {
                records = consumer.poll(Duration.ofMillis(200));
            }
            assertThat(records.iterator().next().value()).isEqualTo("hello");
        }
    }

    @Test
    void postgresAnswersQueries() throws Exception {
        Infrastructure.Endpoints infra = Infrastructure.shared();
        try (Connection connection = DriverManager.getConnection(infra.jdbcUrl(), infra.username(), infra.password());
             ResultSet rs = connection.createStatement().executeQuery("select version()")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).startsWith("PostgreSQL");
        }
    }

    @Test
    void startsOncePerJvm() {
        assertThat(Infrastructure.shared()).isSameAs(Infrastructure.shared());
    }
}
