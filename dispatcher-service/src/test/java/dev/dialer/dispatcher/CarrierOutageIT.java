package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.deferred;
import static dev.dialer.dispatcher.CallEventsJson.eventsOf;
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
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A carrier outage long enough to open its breaker: the lanes hold their calls instead of dialling each into the
 * open breaker and requeueing it, and dial each once when the carrier is back. Against a port where nothing listens,
 * then the real simulator started there.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=dispatcher-service")
@DirtiesContext
class CarrierOutageIT {

    private static final String CALLER = "+4930777333";
    private static final int CALLS = 30;
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int CARRIER_PORT = FreePorts.find();

    private static CarrierSimulator simulator;
    private static TopicTail tail;
    private static KafkaProducer<String, String> producer;

    @Autowired
    DatabaseClient db;
    @Autowired
    MeterRegistry registry;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
        registry.add("dialer.kafka.partitions", () -> 3);
        registry.add("dialer.dispatcher.carrier.base-url", () -> "http://127.0.0.1:" + CARRIER_PORT);
        // The breaker opens after two refused requests, and lets three probe every 3 s.
        registry.add("dialer.dispatcher.carrier.routing.guard.minimum-calls", () -> "2");
        registry.add("dialer.dispatcher.carrier.routing.guard.open-for", () -> "PT3S");
        registry.add("dialer.dispatcher.retry.carrier-unavailable-delay", () -> "PT1S");
        registry.add("dialer.dispatcher.retry.poll-interval", () -> "PT0.2S");
    }

    @AfterAll
    static void stop() throws Exception {
        TestKafka.closeAll(producer, tail, simulator);
    }

    @Test
    void callsWaitInTheirLaneWhileTheBreakerIsOpenAndAreEachDialledOnceWhenTheCarrierIsBack() throws Exception {
        String bootstrap = Infrastructure.shared().kafkaBootstrapServers();
        tail = new TopicTail(bootstrap, List.of(Topics.CALL_EVENTS));
        producer = TestKafka.producer(bootstrap);
        String run = "co-" + UUID.randomUUID() + "-";
        List<String> requests = new ArrayList<>();
        for (int i = 0; i < CALLS; i++) {
            requests.add(run + i);
            producer.send(new ProducerRecord<>(Topics.CALL_COMMANDS, CALLER, command(run + i)));
        }
        producer.flush();

        // The outage: the lane is held once the breaker has opened.
        await().atMost(WAIT).until(() -> registry.get("dialer.dispatcher.lanes.held.for.carrier").gauge().value() >= 1);
        Thread.sleep(7_000);
        long triedDuringOutage = attemptRows(run);
        long deferredDuringOutage = requests.stream().mapToLong(id -> deferred(eventsOf(tail, id)).size()).sum();
        // Dialled into the refusals: the two that opened the breaker and a few probes each time it half-opened
        // (three per 3 s), not all thirty calls again and again.
        assertThat(triedDuringOutage).isBetween(2L, 15L);
        assertThat(deferredDuringOutage).isGreaterThanOrEqualTo(2).isLessThan(CALLS / 2);
        assertThat(requests).allSatisfy(id -> assertThat(finals(eventsOf(tail, id))).isEmpty());

        simulator = CarrierSimulator.start(SimulatorSettings.defaults().withPort(CARRIER_PORT)
                .withRingTime(Duration.ofMillis(100)).withTalkTime(Duration.ofMillis(100)));

        await().atMost(WAIT).until(() -> requests.stream().allMatch(id -> !finals(eventsOf(tail, id)).isEmpty()));
        assertThat(requests).allSatisfy(id -> assertThat(finals(eventsOf(tail, id))).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("answered")));
        Map<Object, Long> dialsPerRequest = simulator.calls().stream()
                .filter(call -> String.valueOf(call.tag().get("request_id")).startsWith(run))
                .collect(Collectors.groupingBy(call -> call.tag().get("request_id"), Collectors.counting()));
        assertThat(dialsPerRequest).hasSize(CALLS).allSatisfy((request, dials) -> assertThat(dials).isEqualTo(1));
        assertThat(simulator.calls().stream().filter(call -> String.valueOf(call.tag().get("request_id"))
                .startsWith(run)).map(ReceivedCall::tag).map(tag -> tag.get("attempt")))
                .allMatch(attempt -> Integer.valueOf(1).equals(attempt));
        assertThat(registry.get("dialer.dispatcher.lanes.held.for.carrier").gauge().value()).isZero();
    }

    private long attemptRows(String prefix) {
        return db.sql("SELECT count(*) FROM dispatch.attempts WHERE request_id LIKE $1")
                .bind(0, prefix + "%")
                .map(row -> row.get(0, Long.class))
                .one()
                .block(WAIT);
    }

    private static String command(String requestId) {
        return """
                {"version":1,"request_id":"%s","account_id":"acc-co","caller_id":"%s","to":"+4915112345678",
                 "audio":"welcome.wav","campaign":"co","created_at":"%s"}""".formatted(requestId, CALLER,
                Instant.now());
    }
}
