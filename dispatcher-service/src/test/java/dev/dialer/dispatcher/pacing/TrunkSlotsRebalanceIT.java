package dev.dialer.dispatcher.pacing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.TestDispatchers;
import dev.dialer.dispatcher.TestKafka;
import dev.dialer.infra.Infrastructure;
import dev.dialer.simulator.CarrierSimulator;
import dev.dialer.simulator.ReceivedCall;
import dev.dialer.simulator.SimulatorSettings;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Trunk concurrency slots across a rebalance, with two dispatchers in one group, the real broker and PostgreSQL and the
 * carrier simulator over HTTP: calls placed by the first dispatcher are still talking when the second joins. The first
 * lets go of the slots of the partitions it lost (their statuses now go to the second), the second holds a slot for
 * each call in flight on the partitions it gained (counted from the attempt ledger), and each slot is released where
 * it is held when the call's terminal status arrives.
 */
class TrunkSlotsRebalanceIT {

    private static final String SECRET = "rebalance-s3cret";
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final int PARTITIONS = 3;
    private static final String RUN = "slots-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    private static final String GROUP = "dialer-dispatcher-" + RUN;

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static CarrierSimulator simulator;
    private static KafkaProducer<String, String> producer;
    private static Admin admin;
    private static final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

    @BeforeAll
    static void start() {
        // The calls talk until the test hangs them up: still in progress however long the second dispatcher takes.
        simulator = CarrierSimulator.start(SimulatorSettings.defaults()
                .withRingTime(Duration.ofMillis(50))
                .withTalkTime(Duration.ofMinutes(10))
                .withWebhookSecret(SECRET));
        String bootstrap = Infrastructure.shared().kafkaBootstrapServers();
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
        producer = TestKafka.producer(bootstrap);
    }

    @AfterAll
    static void stop() throws Exception {
        // The last context to close disposes Reactor Netty's shared resources: close them in reverse order.
        for (int i = contexts.size() - 1; i >= 0; i--) {
            contexts.get(i).close();
        }
        TestKafka.closeAll(producer, admin, simulator);
    }

    @Test
    void slotsFollowTheirPartitionsToTheNewOwnerAndAreReleasedThereByTheTerminalStatus() {
        ConfigurableApplicationContext first = dispatcher();
        awaitMembers(1);
        Map<String, Integer> calls = produceOnePerPartition(2);
        TrunkGate firstTrunk = first.getBean(Lanes.class).trunks().gate("voice-gateway");
        await().atMost(WAIT).until(() -> mine().size() == calls.size());
        await().atMost(WAIT).until(() -> calls.keySet().stream().allMatch(firstTrunk::holds));

        ConfigurableApplicationContext second = dispatcher();
        awaitMembers(2);
        Lanes firstLanes = first.getBean(Lanes.class);
        Lanes secondLanes = second.getBean(Lanes.class);
        TrunkGate secondTrunk = secondLanes.trunks().gate("voice-gateway");

        // Each call's slot is held by the owner of its partition, and only there.
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(firstLanes.owned()).isNotEmpty();
            assertThat(secondLanes.owned()).isNotEmpty();
            calls.forEach((slot, partition) -> {
                boolean firstOwns = firstLanes.owned().contains(partition);
                assertThat(firstTrunk.holds(slot)).as("first holds %s (partition %d)", slot, partition)
                        .isEqualTo(firstOwns);
                assertThat(secondTrunk.holds(slot)).as("second holds %s (partition %d)", slot, partition)
                        .isEqualTo(!firstOwns);
            });
        });
        MeterRegistry secondMeters = second.getBean(MeterRegistry.class);
        // Counted just after the slots moved.
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(secondMeters.counter("dialer.dispatcher.trunk.slots.rebalanced", "change", "counted").count())
                    .isPositive();
            assertThat(first.getBean(MeterRegistry.class)
                    .counter("dialer.dispatcher.trunk.slots.rebalanced", "change", "released").count()).isPositive();
        });

        // The calls end: their statuses reach the owners, which release the slots they hold, counted ones included.
        mine().forEach(TrunkSlotsRebalanceIT::hangUp);
        await().atMost(WAIT).untilAsserted(() -> assertThat(calls.keySet())
                .noneMatch(firstTrunk::holds)
                .noneMatch(secondTrunk::holds));
    }

    private static List<ReceivedCall> mine() {
        return simulator.calls().stream()
                .filter(call -> String.valueOf(call.tag().get("request_id")).startsWith(RUN))
                .toList();
    }

    /** Hangs the answered call up at the simulator, as the callee would: its final status follows. */
    private static void hangUp(ReceivedCall call) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(simulator.baseUrl() + "/v1/Accounts/"
                        + call.accountSid() + "/Calls/" + call.callSid()))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"call_status\":\"completed\"}"))
                .build();
        await().atMost(WAIT).until(() -> HTTP.send(request, HttpResponse.BodyHandlers.ofString()).statusCode() == 202);
    }

    /** {@code perPartition} calls on caller IDs of each partition; slot key to partition. */
    private Map<String, Integer> produceOnePerPartition(int perPartition) {
        Map<Integer, List<String>> callers = new HashMap<>();
        for (int n = 0; callers.values().stream().mapToInt(List::size).sum() < PARTITIONS * perPartition; n++) {
            String caller = "+4945" + (1_000_000 + n);
            List<String> onPartition = callers.computeIfAbsent(KafkaPublisher.partitionOf(caller, PARTITIONS),
                    key -> new ArrayList<>());
            if (onPartition.size() < perPartition) {
                onPartition.add(caller);
            }
        }
        Map<String, Integer> slots = new LinkedHashMap<>();
        callers.forEach((partition, ids) -> ids.forEach(caller -> {
            String requestId = RUN + caller;
            String json = """
                    {"version":1,"request_id":"%s","account_id":"acc-slots","caller_id":"%s","to":"+4915112345678",
                     "audio":"welcome.wav","created_at":"2025-06-01T12:00:00Z"}""".formatted(requestId, caller);
            producer.send(new ProducerRecord<>(Topics.CALL_COMMANDS, caller, json));
            slots.put(requestId + "#1", partition);
        }));
        producer.flush();
        assertThat(slots.values().stream().collect(Collectors.toSet())).isEqualTo(Set.of(0, 1, 2));
        return slots;
    }

    private void awaitMembers(int count) {
        // The group may not exist yet (GroupIdNotFoundException) until its first member has joined.
        await().atMost(WAIT).ignoreExceptions().until(() -> {
            ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(GROUP)).all().get().get(GROUP);
            return group.groupState() == GroupState.STABLE && group.members().size() == count
                    && group.members().stream().allMatch(member -> !member.assignment().topicPartitions().isEmpty());
        });
    }

    private static ConfigurableApplicationContext dispatcher() {
        ConfigurableApplicationContext context = TestDispatchers.start(GROUP, PARTITIONS, simulator.baseUrl(),
                Map.of("dialer.dispatcher.carrier.webhook-secret", SECRET,
                        "dialer.dispatcher.pacing.trunk-concurrency", 40));
        contexts.add(context);
        return context;
    }
}
