package dev.dialer.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.Topics;
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
import org.springframework.context.Lifecycle;

/**
 * Two dispatchers in one consumer group, joining and leaving at fixed call counts, against the carrier simulator over
 * real HTTP: every call is placed exactly once, and every call's callbacks (which reach the instance that placed it)
 * are applied by whichever instance owns the caller ID (where they arrive when that is the instance that placed the
 * call, else through the callbacks topic), so every request gets its one final event.
 */
class ScaleOutIT {

    private static final String SECRET = "scale-s3cret";
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final int PER_PHASE = 30;
    private static final List<String> CALLERS = List.of("+4940100001", "+4940100002", "+4940100003", "+4940100004",
            "+4940100005", "+4940100006");

    private static final String RUN = "scale-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    private static final String GROUP = "dialer-dispatcher-" + RUN;

    private static CarrierSimulator simulator;
    private static KafkaProducer<String, String> producer;
    private static TopicTail tail;
    private static Admin admin;
    private static final List<ConfigurableApplicationContext> contexts = new ArrayList<>();
    private static final List<String> requests = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        simulator = CarrierSimulator.start(SimulatorSettings.defaults()
                .withRingTime(Duration.ofMillis(50))
                .withTalkTime(Duration.ofMillis(100))
                .withWebhookSecret(SECRET));
        String bootstrap = Infrastructure.shared().kafkaBootstrapServers();
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
        producer = TestKafka.producer(bootstrap);
        // The new group starts where the topics end: from the earliest offsets it would first work through every
        // command and callback earlier test classes left on the shared broker.
        TestKafka.startGroupAtEnd(bootstrap, GROUP, Topics.CALL_COMMANDS, Topics.CARRIER_CALLBACKS);
    }

    @AfterAll
    static void stop() {
        // The last context to close disposes Reactor Netty's shared resources: close them in reverse order.
        for (int i = contexts.size() - 1; i >= 0; i--) {
            contexts.get(i).close();
        }
        if (tail != null) {
            tail.close();
        }
        if (producer != null) {
            producer.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (simulator != null) {
            simulator.close();
        }
    }

    @Test
    void dispatchersJoiningAndLeavingPlaceEveryCallExactlyOnceAndFinishEveryRequest() throws Exception {
        ConfigurableApplicationContext first = dispatcher();
        tail = new TopicTail(Infrastructure.shared().kafkaBootstrapServers(), List.of(Topics.CALL_EVENTS));
        awaitMembers(1);
        produceAndAwaitDialled(PER_PHASE);

        ConfigurableApplicationContext second = dispatcher();
        awaitMembers(2);
        produceAndAwaitDialled(PER_PHASE);
        awaitFinals();

        // The first leaves the group; its web endpoint stays up, so callbacks the simulator still sends there are
        // appended to the callbacks topic and applied by the second, now the owner of every caller ID (checked
        // below with a callback posted there).
        first.getBean("commandConsumerLifecycle", Lifecycle.class).stop();
        awaitMembers(1);
        produceAndAwaitDialled(PER_PHASE);
        awaitFinals();

        Map<String, Long> dialsPerAttempt = mine().stream().collect(Collectors.groupingBy(
                call -> call.tag().get("request_id") + "#" + call.tag().get("attempt"), Collectors.counting()));
        assertThat(dialsPerAttempt).hasSize(3 * PER_PHASE).allSatisfy((attempt, dials) -> assertThat(dials)
                .as("dials of %s", attempt).isEqualTo(1L));
        assertThat(dialsPerAttempt.keySet()).isEqualTo(requests.stream().map(id -> id + "#1")
                .collect(Collectors.toSet()));
        // Each dialled some of the calls and applied their callbacks where they arrived (it owned their caller IDs).
        for (ConfigurableApplicationContext dispatcher : List.of(first, second)) {
            MeterRegistry meters = dispatcher.getBean(MeterRegistry.class);
            assertThat(meters.counter("dialer.dispatcher.commands", "outcome", "dialled").count()).isPositive();
            assertThat(meters.counter("dialer.dispatcher.callbacks.routed", "path", "in_place").count()).isPositive();
        }
        // The first, out of the group, owns no caller ID: a callback it takes goes through the topic to the second,
        // which applies it (a repeat of an end: ignored).
        MeterRegistry firstMeters = first.getBean(MeterRegistry.class);
        MeterRegistry secondMeters = second.getBean(MeterRegistry.class);
        double topicBefore = firstMeters.counter("dialer.dispatcher.callbacks.routed", "path", "topic").count();
        double ignoredBefore = ignoredCompleted(secondMeters);
        assertThat(postToFirst(first, mine().get(mine().size() - 1))).isEqualTo(200);
        assertThat(firstMeters.counter("dialer.dispatcher.callbacks.routed", "path", "topic").count())
                .isEqualTo(topicBefore + 1);
        await().atMost(WAIT).until(() -> ignoredCompleted(secondMeters) == ignoredBefore + 1);
    }

    private static double ignoredCompleted(MeterRegistry meters) {
        return meters.counter("dialer.dispatcher.callbacks", "status", "completed", "result", "ignored").count();
    }

    /** Posts a signed repeat of the call's end, tagged as the dispatcher tagged it, to the first's endpoint. */
    private static int postToFirst(ConfigurableApplicationContext first, ReceivedCall call) throws Exception {
        String body = """
                {"call_sid":"%s","call_status":"completed","sip_status":200,"sip_reason":"OK","customerData":%s}"""
                .formatted(call.callSid(), Contract.mapper().writeValueAsString(call.tag()));
        String port = first.getEnvironment().getProperty("local.server.port");
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/carrier/voice-gateway/status"))
                .header("Content-Type", "application/json")
                .header("Jambonz-Signature", DispatcherFixture.signature(SECRET, body))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private void produceAndAwaitDialled(int count) {
        for (int i = 0; i < count; i++) {
            String requestId = RUN + requests.size();
            String callerId = CALLERS.get(requests.size() % CALLERS.size());
            requests.add(requestId);
            String json = """
                    {"version":1,"request_id":"%s","account_id":"acc-scale","caller_id":"%s","to":"+4915112345678",
                     "audio":"welcome.wav","created_at":"2025-06-01T12:00:00Z"}""".formatted(requestId, callerId);
            producer.send(new ProducerRecord<>(Topics.CALL_COMMANDS, callerId, json));
        }
        producer.flush();
        await().atMost(WAIT).until(() -> mine().stream().map(call -> call.tag().get("request_id"))
                .collect(Collectors.toSet()).containsAll(requests));
    }

    /** Every request so far has exactly one final event, answered. */
    private void awaitFinals() {
        await().atMost(WAIT).until(() -> finals().keySet().containsAll(requests));
        assertThat(finals()).allSatisfy((requestId, statuses) -> assertThat(statuses).containsExactly("answered"));
    }

    private Map<String, List<String>> finals() {
        Set<String> mine = Set.copyOf(requests);
        Map<String, List<String>> result = new HashMap<>();
        tail.all(Topics.CALL_EVENTS).stream()
                .filter(record -> mine.contains(record.key()))
                .map(record -> Contract.mapper().readTree(record.value()))
                .filter(event -> event.get("event_type").stringValue().equals("call.final"))
                .forEach(event -> result.computeIfAbsent(event.get("request_id").stringValue(),
                        key -> new ArrayList<>()).add(event.get("status").stringValue()));
        return result;
    }

    private List<ReceivedCall> mine() {
        return simulator.calls().stream()
                .filter(call -> String.valueOf(call.tag().get("request_id")).startsWith(RUN))
                .toList();
    }

    private void awaitMembers(int count) {
        await().atMost(WAIT).until(() -> {
            ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(GROUP)).all().get().get(GROUP);
            return group.groupState() == GroupState.STABLE && group.members().size() == count
                    && group.members().stream().allMatch(member -> !member.assignment().topicPartitions().isEmpty());
        });
    }

    private static ConfigurableApplicationContext dispatcher() {
        ConfigurableApplicationContext context = TestDispatchers.start(GROUP, 3, simulator.baseUrl(),
                Map.of("dialer.dispatcher.carrier.webhook-secret", SECRET));
        contexts.add(context);
        return context;
    }

}
