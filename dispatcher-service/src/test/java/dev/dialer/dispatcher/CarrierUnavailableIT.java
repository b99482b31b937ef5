package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.eventsOf;
import static dev.dialer.dispatcher.CallEventsJson.deferred;
import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.FreePorts;
import dev.dialer.infra.Infrastructure;
import dev.dialer.simulator.CarrierSimulator;
import dev.dialer.simulator.ReceivedCall;
import dev.dialer.simulator.SimulatorSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * A carrier that cannot be reached places no call, so the call waits and is dialled again under the same attempt
 * number instead of failing: against a port where nothing listens at first, then the real simulator started there.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=dispatcher-service")
@DirtiesContext
class CarrierUnavailableIT {

    private static final String CALLER = "+4930777222";
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int CARRIER_PORT = FreePorts.find();

    private static CarrierSimulator simulator;
    private static TopicTail tail;
    private static KafkaProducer<String, String> producer;

    @Autowired
    DatabaseClient db;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
        registry.add("dialer.kafka.partitions", () -> 3);
        // Nothing listens here until the test starts the simulator on this port.
        registry.add("dialer.dispatcher.carrier.base-url", () -> "http://127.0.0.1:" + CARRIER_PORT);
        registry.add("dialer.dispatcher.retry.carrier-unavailable-delay", () -> "PT1S");
        // Waits of about 1, 1, 2 and 4 s (each as long as the call has waited), then it fails.
        registry.add("dialer.dispatcher.retry.carrier-unavailable-max-wait", () -> "PT8S");
        registry.add("dialer.dispatcher.retry.poll-interval", () -> "PT0.2S");
        // The refused connections would otherwise open the carrier's breaker for 30 s, longer than the wait allowed.
        registry.add("dialer.dispatcher.carrier.routing.guard.minimum-calls", () -> "1000");
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
    }

    @Test
    void aCallNoCarrierTookWaitsAndIsDialledOnceUnderTheSameAttemptOrFailsAfterTheLongestWait() throws Exception {
        // While the carrier stays down: deferred again and again, then failed once the longest wait has passed.
        String givesUp = "cu-" + UUID.randomUUID();
        producer.send(new ProducerRecord<>(Topics.CALL_COMMANDS, CALLER, command(givesUp))).get();

        List<JsonNode> events = awaitFinal(givesUp);

        Instant firstDeferred = Instant.parse(text(deferred(events).get(0), "occurred_at"));
        assertThat(deferred(events)).hasSizeGreaterThanOrEqualTo(3).allSatisfy(event -> {
            // Each wait is as long as the call has waited so far, and at least the shortest (1 s).
            Instant occurred = Instant.parse(text(event, "occurred_at"));
            Duration waited = Duration.between(firstDeferred, occurred);
            Duration wait = Duration.between(occurred, Instant.parse(text(event, "next_attempt_at")));
            assertThat(wait).isGreaterThanOrEqualTo(
                    (waited.compareTo(Duration.ofSeconds(1)) > 0 ? waited : Duration.ofSeconds(1))
                            .minusMillis(250));
            assertThat(text(event, "reason")).isEqualTo("carrier_unavailable");
            assertThat(event.get("attempt").get("number").intValue()).isEqualTo(1);
            assertThat(event.get("will_retry").booleanValue()).isTrue();
            assertThat(text(event, "next_attempt_at")).isNotNull();
            assertThat(event.get("error").get("code").stringValue()).isEqualTo("carrier_error");
        });
        assertThat(finals(events)).singleElement().satisfies(last -> {
            assertThat(text(last, "status")).isEqualTo("failed");
            assertThat(last.get("error").get("code").stringValue()).isEqualTo("carrier_error");
        });
        assertThat(attempts(givesUp)).containsExactly("1:failed");

        // The carrier comes back while a call waits: it is dialled once, under attempt 1, and answered.
        String comesThrough = "cu-" + UUID.randomUUID();
        producer.send(new ProducerRecord<>(Topics.CALL_COMMANDS, CALLER, command(comesThrough))).get();
        await().atMost(WAIT).until(() -> !deferred(eventsFor(comesThrough)).isEmpty());
        simulator = CarrierSimulator.start(SimulatorSettings.defaults().withPort(CARRIER_PORT)
                .withRingTime(Duration.ofMillis(100)).withTalkTime(Duration.ofMillis(100)));

        List<JsonNode> answered = awaitFinal(comesThrough);

        assertThat(finals(answered)).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("answered"));
        List<ReceivedCall> calls = simulator.calls().stream()
                .filter(call -> comesThrough.equals(call.tag().get("request_id"))).toList();
        assertThat(calls).singleElement().satisfies(call -> assertThat(call.tag()).containsEntry("attempt", 1));
        assertThat(attempts(comesThrough)).containsExactly("1:completed");
        assertThat(simulator.calls()).noneMatch(call -> givesUp.equals(call.tag().get("request_id")));
    }

    private List<String> attempts(String requestId) {
        return db.sql("SELECT attempt_no, status FROM dispatch.attempts WHERE request_id = $1 ORDER BY attempt_no")
                .bind(0, requestId)
                .map(row -> row.get(0, Integer.class) + ":" + row.get(1, String.class))
                .all()
                .collectList()
                .block(WAIT);
    }

    private List<JsonNode> awaitFinal(String requestId) {
        await().atMost(WAIT).until(() -> !finals(eventsFor(requestId)).isEmpty());
        return eventsFor(requestId);
    }

    private List<JsonNode> eventsFor(String requestId) {
        return eventsOf(tail, requestId);
    }

    private static String command(String requestId) {
        return """
                {"version":1,"request_id":"%s","account_id":"acc-cu","caller_id":"%s","to":"+4915112345678",
                 "audio":"welcome.wav","campaign":"cu","created_at":"%s"}""".formatted(requestId, CALLER,
                Instant.now());
    }
}
