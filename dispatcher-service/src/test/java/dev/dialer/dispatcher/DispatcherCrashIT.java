package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.FreePorts;
import dev.dialer.infra.Infrastructure;
import dev.dialer.simulator.CarrierSimulator;
import dev.dialer.simulator.ReceivedCall;
import dev.dialer.simulator.SimulatorSettings;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.r2dbc.core.DatabaseClient;
import tools.jackson.databind.JsonNode;

/**
 * A dispatcher killed mid-run (SIGKILL of its own JVM: no graceful shutdown, no flushing) while its calls are in every
 * state — commands not yet read or waiting in a lane, attempts recorded, calls ringing or talking at the carrier
 * simulator, retries waiting in the schedule, status callbacks that the carrier loses or can no longer deliver to the
 * dead process. A second dispatcher in the same consumer group takes over; by the watchdog's deadline every request
 * has exactly one distinct {@code call.final} on {@code dialer.call.events}, and no attempt reached the carrier twice.
 */
class DispatcherCrashIT {

    private static final Logger log = LoggerFactory.getLogger(DispatcherCrashIT.class);
    private static final int REQUESTS = 60;
    private static final List<String> CALLERS = List.of("+4940200001", "+4940200002", "+4940200003", "+4940200004",
            "+4940200005", "+4940200006");
    /** Last digits the simulator's default rule reads: 0 busy, 1 no answer, 2 failed (500), 4-9 answered. */
    private static final List<Integer> LAST_DIGITS = List.of(4, 0, 5, 1, 6, 2, 7, 8, 0, 9);
    /** Quiet after ring timeout 3 s + time limit 6 s + margin 2 s. */
    private static final Duration QUIET = Duration.ofSeconds(11);
    /** The dead member's session ({@link #SESSION}) must lapse before the survivor gets its partitions. */
    private static final Duration SESSION = Duration.ofSeconds(10);
    private static final Duration DEADLINE = SESSION.plus(QUIET).plus(Duration.ofSeconds(150));

    private static final String RUN = "crash-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    private static final String GROUP = "dialer-dispatcher-" + RUN;

    private static CarrierSimulator simulator;
    private static KafkaProducer<String, String> producer;
    private static TopicTail tail;
    private static Admin admin;
    private static Process dispatcherA;
    private static ConfigurableApplicationContext dispatcherB;
    private static final List<String> requests = new ArrayList<>();

    @BeforeAll
    static void start() {
        String bootstrap = Infrastructure.shared().kafkaBootstrapServers();
        simulator = CarrierSimulator.start(SimulatorSettings.defaults()
                .withRingTime(Duration.ofMillis(1500))
                .withTalkTime(Duration.ofSeconds(2))
                .withSpread(Duration.ofSeconds(2), Duration.ofSeconds(3))
                .withLostCallbacks(0.25));
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
        producer = TestKafka.producer(bootstrap);
        tail = new TopicTail(bootstrap, List.of(Topics.CALL_EVENTS));
    }

    @AfterAll
    static void stop() throws Exception {
        if (dispatcherA != null && dispatcherA.isAlive()) {
            dispatcherA.destroyForcibly().waitFor();
        }
        if (dispatcherB != null) {
            dispatcherB.close();
        }
        TestKafka.closeAll(tail, producer, admin, simulator);
    }

    @Test
    void killedDispatcherLeavesEveryRequestOneFinalEventAndNoAttemptDialledTwice() throws Exception {
        int portA = FreePorts.find();
        // A new group would otherwise start from the earliest offsets and first work through every command and
        // callback the test classes before this one left on the shared broker.
        TestKafka.startGroupAtEnd(Infrastructure.shared().kafkaBootstrapServers(), GROUP,
                Topics.CALL_COMMANDS, Topics.CARRIER_CALLBACKS);
        dispatcherA = startInOwnJvm(portA);
        awaitReady(portA);
        awaitMembers(1);

        produceRequests();
        // Killed once a good share of the calls has been dialled and a retry waits, before they have all ended.
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(dialledRequests().size())
                        .as("requests dialled by A (ledger %s)", ledgerSnapshot())
                        .isGreaterThanOrEqualTo(REQUESTS * 6 / 10));
        // Preferably while a retry waits in the schedule too; a retry waits only for its interval, so the kill does
        // not wait for one longer than a few seconds, nor once most requests have been dialled (six caller IDs at
        // 1 CPS dial them all some ten seconds in, and the kill must come before).
        try {
            await().atMost(Duration.ofSeconds(4)).pollInterval(Duration.ofMillis(50))
                    .until(() -> ledgerSnapshot().getOrDefault("scheduled retry", 0L) > 0
                            || dialledRequests().size() >= REQUESTS * 5 / 6);
        } catch (org.awaitility.core.ConditionTimeoutException noRetryWaiting) {
            log.info("no retry waiting in the schedule when A is killed");
        }
        dispatcherA.destroyForcibly().waitFor();
        Map<String, Long> atKill = ledgerSnapshot();
        int dialledAtKill = dialledRequests().size();
        int finalsAtKill = finalEvents().keySet().size();
        log.info("dispatcher A killed: {} requests dialled, {} with a final event; ledger {}", dialledAtKill,
                finalsAtKill, atKill);
        assertThat(dialledAtKill).as("killed before every request was dialled").isLessThan(REQUESTS);
        assertThat(finalsAtKill).as("killed before every request ended").isLessThan(REQUESTS);
        assertThat(atKill.entrySet().stream()
                .filter(entry -> List.of("attempt queued", "attempt initiated", "attempt ringing",
                        "attempt in-progress").contains(entry.getKey()))
                .mapToLong(Map.Entry::getValue).sum()).as("calls at the carrier when A died").isPositive();

        dispatcherB = startInThisJvm();

        await().atMost(DEADLINE).pollInterval(Duration.ofSeconds(1))
                .until(() -> finalEvents().keySet().containsAll(requests));
        // Quiescent: nothing left to dial, reconcile or publish for these requests, and the topic caught up.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(this::settled);

        Map<String, List<JsonNode>> finals = finalEvents();
        Map<String, Long> distinctFinals = finals.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                entry -> entry.getValue().stream().map(event -> text(event, "event_id")).distinct().count()));
        long relayedAgain = finals.values().stream().mapToLong(List::size).sum()
                - distinctFinals.values().stream().mapToLong(Long::longValue).sum();
        Map<String, Long> dialsPerAttempt = mine().stream().collect(Collectors.groupingBy(
                call -> call.tag().get("request_id") + "#" + call.tag().get("attempt"), Collectors.counting()));
        log.info("after the crash: finals by status {}, by error code {}; {} final events relayed again; "
                        + "{} attempts dialled, {} by A and {} by B", byStatus(finals), byErrorCode(finals),
                relayedAgain, dialsPerAttempt.size(), dialsBy(portA, true), dialsBy(portA, false));

        assertThat(distinctFinals).as("distinct call.final event ids per request").hasSize(REQUESTS)
                .allSatisfy((requestId, count) -> assertThat(count).as("finals of %s", requestId).isEqualTo(1L));
        assertThat(dialsPerAttempt).as("dials per attempt at the carrier")
                .allSatisfy((attempt, dials) -> assertThat(dials).as("dials of %s", attempt).isEqualTo(1L));
        assertThat(dialsBy(portA, false)).as("the survivor dialled what the dead one had not").isPositive();
    }

    /** Dispatcher A: the service's own main class in a JVM of its own, on this test's classpath. */
    private static Process startInOwnJvm(int port) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"),
                DispatcherApplication.class.getName()));
        dispatcherProperties(port).forEach((name, value) -> command.add("--" + name + "=" + value));
        Path output = Files.createTempFile("dispatcher-a-", ".log");
        log.info("dispatcher A logs to {}", output);
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    }

    /** Dispatcher B: the same settings, in this JVM (it is not killed). */
    private static ConfigurableApplicationContext startInThisJvm() {
        Map<String, Object> properties = dispatcherProperties(0);
        properties.put("spring.config.name", "dispatcher-service");
        return new SpringApplicationBuilder(DispatcherApplication.class)
                .run(properties.entrySet().stream().map(entry -> "--" + entry.getKey() + "=" + entry.getValue())
                        .toArray(String[]::new));
    }

    private static Map<String, Object> dispatcherProperties(int port) {
        Map<String, Object> properties = new LinkedHashMap<>(Infrastructure.shared().serviceProperties());
        properties.put("server.port", port);
        properties.put("dialer.kafka.partitions", 3);
        properties.put("dialer.dispatcher.commands.group-id", GROUP);
        // Kafka's default session (45 s) is how long the survivor would wait for the dead member's partitions.
        properties.put("dialer.kafka.properties.session.timeout.ms", SESSION.toMillis());
        // Published events are kept: every stored event is checked against those published.
        properties.put("dialer.dispatcher.outbox.retention", "PT1H");
        properties.put("dialer.dispatcher.carrier.base-url", simulator.baseUrl());
        // The build machine is shared and busy: a slow create-call answer must not count as a carrier failure here,
        // nor open the breaker (the watchdog would settle such calls correctly, but the test wants them placed).
        properties.put("dialer.dispatcher.carrier.request-timeout", "PT30S");
        properties.put("dialer.dispatcher.carrier.routing.guard.timeout", "PT30S");
        properties.put("dialer.dispatcher.carrier.routing.guard.minimum-calls", 10_000);
        properties.put("dialer.dispatcher.carrier.ring-timeout", "PT3S");
        properties.put("dialer.dispatcher.carrier.time-limit", "PT6S");
        properties.put("dialer.dispatcher.watchdog.margin", "PT2S");
        properties.put("dialer.dispatcher.watchdog.poll-interval", "PT0.5S");
        properties.put("dialer.dispatcher.watchdog.lease", "PT5S");
        // interval_minutes 5 is 2 s here.
        properties.put("dialer.dispatcher.retry.minute-length", "PT0.4S");
        properties.put("dialer.dispatcher.retry.poll-interval", "PT0.5S");
        properties.put("dialer.dispatcher.retry.lease", "PT5S");
        // One call a second per caller ID: ten requests per caller ID take ten seconds to dial.
        properties.put("dialer.dispatcher.pacing.caller-cps", 1);
        return properties;
    }

    /** Every other request may retry (busy, no answer and 500 are retryable), up to two or three attempts. */
    private void produceRequests() {
        for (int i = 0; i < REQUESTS; i++) {
            String requestId = RUN + i;
            String callerId = CALLERS.get(i % CALLERS.size());
            // A number of its own per request, so no per-callee cap applies.
            String to = "+4915112%04d%d".formatted(i, LAST_DIGITS.get(i % LAST_DIGITS.size()));
            String retry = i % 2 == 0 ? "" : """
                    ,"interval_minutes":5,"max_attempts":%d""".formatted(2 + i % 3 / 2);
            requests.add(requestId);
            producer.send(new ProducerRecord<>(Topics.CALL_COMMANDS, callerId, """
                    {"version":1,"request_id":"%s","account_id":"acc-crash","caller_id":"%s","to":"%s",
                     "audio":"welcome.wav","campaign":"crash","created_at":"%s"%s}""".formatted(requestId, callerId,
                    to, Instant.now(), retry)));
        }
        producer.flush();
    }

    /** Every attempt of these requests ended, nothing waits in the schedule, and every stored event was relayed. */
    private boolean settled() {
        DatabaseClient db = dispatcherB.getBean(DatabaseClient.class);
        long open = db.sql("""
                        SELECT (SELECT count(*) FROM dispatch.attempts
                                 WHERE request_id LIKE $1 AND status IN ('queued', 'initiated', 'ringing', 'in-progress'))
                             + (SELECT count(*) FROM dispatch.schedule WHERE request_id LIKE $1)
                             + (SELECT count(*) FROM dispatch.outbox WHERE request_id LIKE $1 AND sent_at IS NULL)""")
                .bind(0, RUN + "%").map(row -> row.get(0, Long.class)).one().block(Duration.ofSeconds(10));
        if (open > 0) {
            return false;
        }
        Set<String> stored = Set.copyOf(db.sql("SELECT event_id FROM dispatch.outbox WHERE request_id LIKE $1")
                .bind(0, RUN + "%").map(row -> row.get(0, String.class)).all().collectList()
                .block(Duration.ofSeconds(10)));
        Set<String> seen = tail.all(Topics.CALL_EVENTS).stream()
                .filter(record -> record.key() != null && record.key().startsWith(RUN))
                .map(record -> text(Contract.mapper().readTree(record.value()), "event_id"))
                .collect(Collectors.toSet());
        return seen.containsAll(stored);
    }

    /** The call.final events on the topic per request, copies included. */
    private Map<String, List<JsonNode>> finalEvents() {
        Map<String, List<JsonNode>> result = new HashMap<>();
        tail.all(Topics.CALL_EVENTS).stream()
                .filter(record -> record.key() != null && record.key().startsWith(RUN))
                .map(record -> Contract.mapper().readTree(record.value()))
                .filter(event -> "call.final".equals(text(event, "event_type")))
                .forEach(event -> result.computeIfAbsent(text(event, "request_id"), key -> new ArrayList<>())
                        .add(event));
        return result;
    }

    /** How A left the ledger: attempts by status (open ones split by whether the carrier was asked), and waits. */
    private static Map<String, Long> ledgerSnapshot() {
        String sql = """
                SELECT 'attempt ' || status || CASE WHEN status = 'queued' AND carrier_asked_at IS NULL
                                                    THEN ' (carrier not asked)' ELSE '' END, count(*)
                  FROM dispatch.attempts WHERE request_id LIKE ? GROUP BY 1
                UNION ALL
                SELECT 'scheduled ' || reason, count(*) FROM dispatch.schedule WHERE request_id LIKE ? GROUP BY 1
                UNION ALL
                SELECT 'requests not recorded', ? - count(*) FROM dispatch.requests WHERE request_id LIKE ?""";
        try (var connection = java.sql.DriverManager.getConnection(Infrastructure.shared().jdbcUrl(),
                Infrastructure.shared().username(), Infrastructure.shared().password());
             var statement = connection.prepareStatement(sql)) {
            statement.setString(1, RUN + "%");
            statement.setString(2, RUN + "%");
            statement.setLong(3, REQUESTS);
            statement.setString(4, RUN + "%");
            Map<String, Long> counts = new TreeMap<>();
            try (var rows = statement.executeQuery()) {
                while (rows.next()) {
                    counts.put(rows.getString(1), rows.getLong(2));
                }
            }
            return counts;
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Long> byStatus(Map<String, List<JsonNode>> finals) {
        return finals.values().stream().map(events -> text(events.get(0), "status"))
                .collect(Collectors.groupingBy(status -> status, TreeMap::new, Collectors.counting()));
    }

    private static Map<String, Long> byErrorCode(Map<String, List<JsonNode>> finals) {
        return finals.values().stream().map(events -> events.get(0).get("error"))
                .filter(error -> error != null && !error.isNull())
                .map(error -> text(error, "code"))
                .collect(Collectors.groupingBy(code -> code, TreeMap::new, Collectors.counting()));
    }

    private Set<String> dialledRequests() {
        return mine().stream().map(call -> String.valueOf(call.tag().get("request_id"))).collect(Collectors.toSet());
    }

    /** Dials whose status hook pointed at A ({@code byA}) or elsewhere. */
    private long dialsBy(int portA, boolean byA) {
        String hookOfA = ":" + portA + "/";
        return mine().stream().filter(call -> call.statusHookUrl() != null
                && call.statusHookUrl().contains(hookOfA) == byA).count();
    }

    private static List<ReceivedCall> mine() {
        return simulator.calls().stream()
                .filter(call -> String.valueOf(call.tag().get("request_id")).startsWith(RUN))
                .toList();
    }

    private static void awaitReady(int port) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest readiness = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/actuator/health/readiness")).timeout(Duration.ofSeconds(5)).build();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .ignoreExceptionsInstanceOf(IOException.class)
                .until(() -> {
                    assertThat(dispatcherA.isAlive()).as("dispatcher A is running").isTrue();
                    return http.send(readiness, HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
                });
    }

    private static void awaitMembers(int count) {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> {
            ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(GROUP)).all().get().get(GROUP);
            return group.groupState() == GroupState.STABLE && group.members().size() == count
                    && group.members().stream().allMatch(member -> !member.assignment().topicPartitions().isEmpty());
        });
    }
}
