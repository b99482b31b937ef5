package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.eventsOf;
import static dev.dialer.dispatcher.CallEventsJson.finals;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.FreePorts;
import dev.dialer.infra.Infrastructure;
import dev.dialer.simulator.CarrierSimulator;
import dev.dialer.simulator.SimulatorSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * A dispatcher whose carrier is down at first: its base URL is a port where nothing listens until a test starts the
 * simulator there ({@link #carrierComesBack}). Subclasses add the breaker and wait settings they test.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=dispatcher-service")
@DirtiesContext
abstract class CarrierDown {

    static final Duration WAIT = Duration.ofSeconds(60);
    private static final int CARRIER_PORT = FreePorts.find();

    private static CarrierSimulator simulator;
    private static TopicTail tail;
    private static KafkaProducer<String, String> producer;

    @Autowired
    DatabaseClient db;

    @DynamicPropertySource
    static void carrierDown(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
        registry.add("dialer.kafka.partitions", () -> 3);
        registry.add("dialer.dispatcher.carrier.base-url", () -> "http://127.0.0.1:" + CARRIER_PORT);
        registry.add("dialer.dispatcher.retry.carrier-unavailable-delay", () -> "PT1S");
        registry.add("dialer.dispatcher.retry.poll-interval", () -> "PT0.2S");
    }

    @BeforeEach
    void connectToKafka() {
        if (tail == null) {
            String bootstrap = Infrastructure.shared().kafkaBootstrapServers();
            tail = new TopicTail(bootstrap, List.of(Topics.CALL_EVENTS));
            producer = TestKafka.producer(bootstrap);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        TestKafka.closeAll(producer, tail, simulator);
        producer = null;
        tail = null;
        simulator = null;
    }

    /** Starts the simulator where the carrier's base URL points, answering after a short ring. */
    static CarrierSimulator carrierComesBack() {
        simulator = CarrierSimulator.start(SimulatorSettings.defaults().withPort(CARRIER_PORT)
                .withRingTime(Duration.ofMillis(100)).withTalkTime(Duration.ofMillis(100)));
        return simulator;
    }

    static void send(String callerId, String requestId) {
        producer.send(new ProducerRecord<>(Topics.CALL_COMMANDS, callerId, """
                {"version":1,"request_id":"%s","account_id":"acc-down","caller_id":"%s","to":"+4915112345678",
                 "audio":"welcome.wav","campaign":"down","created_at":"%s"}""".formatted(requestId, callerId,
                Instant.now())));
        producer.flush();
    }

    List<String> attempts(String requestId) {
        return db.sql("SELECT attempt_no, status FROM dispatch.attempts WHERE request_id = $1 ORDER BY attempt_no")
                .bind(0, requestId)
                .map(row -> row.get(0, Integer.class) + ":" + row.get(1, String.class))
                .all()
                .collectList()
                .block(WAIT);
    }

    static List<JsonNode> awaitFinal(String requestId) {
        await().atMost(WAIT).until(() -> !finals(eventsFor(requestId)).isEmpty());
        return eventsFor(requestId);
    }

    static List<JsonNode> eventsFor(String requestId) {
        return eventsOf(tail, requestId);
    }
}
