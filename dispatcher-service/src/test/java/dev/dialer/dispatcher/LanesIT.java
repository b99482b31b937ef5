package dev.dialer.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.TopicProvisioner;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
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
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import tools.jackson.databind.JsonNode;

/**
 * Head-of-line blocking, end to end: one caller ID with a long backlog at 1 CPS and another with ten calls share a
 * partition; the carrier (a real HTTP server) holds every request until the test lets it answer, so dials stay in
 * flight. The second caller ID's calls must all be dialled before the first one's third.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=dispatcher-service",
        "dialer.dispatcher.lanes.max-in-flight-per-partition=" + LanesIT.IN_FLIGHT_LIMIT,
        "dialer.dispatcher.lanes.in-flight-per-lane=10",
        "dialer.dispatcher.lanes.park-after=PT3S",
        "dialer.dispatcher.pacing.caller-cps=100",
        "dialer.dispatcher.carrier.request-timeout=PT60S"})
@DirtiesContext
class LanesIT {

    /**
     * The partition's window. A lane holds at most a quarter of it (the rest of its backlog is parked), so it is sized
     * for the fast caller ID's ten calls, which arrive at once, to fit in its lane: with less, that lane parks some of
     * its own calls as backlog, and how soon they come back from the schedule decides the order, not the slow lane.
     */
    static final int IN_FLIGHT_LIMIT = 48;
    private static final int BACKLOG = 5 * IN_FLIGHT_LIMIT;
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String SLOW = "+4930555000";
    /** Caller IDs whose calls the carrier answers at once: they warm the dial path up before the measurement. */
    private static final String WARM_UP = "+4930777";
    private static final String RUN = "lanes-it-" + UUID.randomUUID().toString().substring(0, 8) + "-";

    private static final CountDownLatch answer = new CountDownLatch(1);
    private static final List<String> dialled = new CopyOnWriteArrayList<>();
    private static final AtomicInteger sids = new AtomicInteger();
    private static DisposableServer carrier;
    private static final List<String> commands = new CopyOnWriteArrayList<>();
    private static DatabaseClient cleanupDb;

    @Autowired
    DatabaseClient db;

    @Autowired
    MeterRegistry meters;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.Endpoints infra = Infrastructure.shared();
        if (carrier == null) {
            carrier = heldCarrier();
        }
        infra.serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
        registry.add("dialer.kafka.partitions", () -> 3);
        registry.add("dialer.dispatcher.carrier.base-url", () -> "http://127.0.0.1:" + carrier.port());
        // The slow caller ID's own rate: 1 call per second.
        registry.add("dialer.dispatcher.pacing.number-cps.[" + SLOW + "]", () -> 1);
    }

    /** Records who is dialled, in arrival order, and answers nobody until the latch opens. */
    private static DisposableServer heldCarrier() {
        return HttpServer.create().host("127.0.0.1").port(0)
                .route(routes -> routes.post("/v1/Accounts/{sid}/Calls", (request, response) -> request.receive()
                        .aggregate().asString()
                        .doOnNext(body -> dialled.add(callerOf(body)))
                        .flatMap(body -> callerOf(body).startsWith(WARM_UP) ? Mono.just(body)
                                : Mono.fromCallable(() -> {
                                    answer.await();
                                    return body;
                                }).subscribeOn(Schedulers.boundedElastic()))
                        .flatMap(body -> response.status(201).header("content-type", "application/json")
                                .sendString(Mono.just("{\"sid\":\"held-" + sids.incrementAndGet() + "\"}"))
                                .then())))
                .bindNow();
    }

    private static String callerOf(String body) {
        JsonNode tag = Contract.mapper().readTree(body).get("tag");
        return tag.get("caller_id").stringValue();
    }

    @AfterAll
    static void release() {
        answer.countDown();
        if (cleanupDb != null) {
            // Nothing of this run may be dialled by a later test's dispatcher: the parked rows go, and every request
            // gets an attempt row so a leftover command is a duplicate.
            for (String json : commands) {
                String requestId = Contract.mapper().readTree(json).get("request_id").stringValue();
                cleanupDb.sql("""
                                INSERT INTO dispatch.requests (request_id, account_id, caller_id, command)
                                VALUES ($1, 'acc-it', $2, $3::jsonb) ON CONFLICT DO NOTHING""")
                        .bind(0, requestId).bind(1, SLOW).bind(2, json).then()
                        .then(cleanupDb.sql("""
                                        INSERT INTO dispatch.attempts (request_id, attempt_no, status)
                                        VALUES ($1, 1, 'canceled') ON CONFLICT DO NOTHING""")
                                .bind(0, requestId).then())
                        .block(WAIT);
            }
            cleanupDb.sql("DELETE FROM dispatch.schedule WHERE request_id LIKE $1").bind(0, RUN + "%").then()
                    .block(WAIT);
        }
        if (carrier != null) {
            carrier.disposeNow();
        }
    }

    @Test
    void aCallerIdWithALongBacklogDoesNotHoldUpAnotherOnTheSamePartition() {
        cleanupDb = db;
        String bootstrap = Infrastructure.shared().kafkaBootstrapServers();
        int partitions = TopicProvisioner.partitionCount(KafkaSettings.of(bootstrap), Topics.CALL_COMMANDS, 30_000);
        String fast = samePartitionAs(SLOW, partitions);
        double parkedBefore = parked(null);
        double backlogBefore = parked("backlog");
        double behindBefore = parked("behind");

        try (KafkaProducer<String, String> producer = producer(bootstrap)) {
            for (int i = 0; i < 20; i++) {
                send(producer, WARM_UP + (100 + i), "w" + i);
            }
            producer.flush();
            await().atMost(WAIT).until(() -> dialled.stream().filter(caller -> caller.startsWith(WARM_UP)).count()
                    == 20);
            dialled.clear();
            for (int i = 0; i < BACKLOG; i++) {
                send(producer, SLOW, "a" + i);
            }
            for (int i = 0; i < 10; i++) {
                send(producer, fast, "b" + i);
            }
            producer.flush();
        }

        await().atMost(WAIT).until(() -> dialled.stream().filter(fast::equals).count() == 10);
        List<String> order = List.copyOf(dialled);
        int slowBeforeLastFast = (int) order.subList(0, order.lastIndexOf(fast)).stream().filter(SLOW::equals)
                .count();
        assertThat(slowBeforeLastFast).as("calls of the slow caller ID before the fast one's tenth: %s", order)
                .isLessThan(3);
        // The backlog went to the schedule rather than into memory.
        await().atMost(WAIT).until(() -> parked(null) - parkedBefore >= BACKLOG - 10);
        // The first of them for the lane's backlog, the rest to go behind those.
        assertThat(parked("backlog") - backlogBefore).isPositive();
        assertThat(parked("backlog") - backlogBefore + parked("behind") - behindBefore)
                .isGreaterThanOrEqualTo(BACKLOG - 10);
        assertThat(parkedRows()).isGreaterThanOrEqualTo(BACKLOG - 10);
        assertThat(dialled.stream().filter(SLOW::equals).count()).isLessThanOrEqualTo(3);
    }

    /** Records parked for {@code reason}, or for any reason when null. */
    private double parked(String reason) {
        return meters.get("dialer.dispatcher.lanes.parked").counters().stream()
                .filter(counter -> reason == null || reason.equals(counter.getId().getTag("reason")))
                .mapToDouble(io.micrometer.core.instrument.Counter::count)
                .sum();
    }

    private long parkedRows() {
        return db.sql("SELECT count(*) FROM dispatch.schedule WHERE reason = 'parked' AND request_id LIKE $1")
                .bind(0, RUN + "%")
                .map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    private static String samePartitionAs(String callerId, int partitions) {
        int target = KafkaPublisher.partitionOf(callerId, partitions);
        for (int n = 100; ; n++) {
            String candidate = "+4930555" + n;
            if (KafkaPublisher.partitionOf(candidate, partitions) == target) {
                return candidate;
            }
        }
    }

    private static void send(KafkaProducer<String, String> producer, String callerId, String suffix) {
        String json = """
                {"version":1,"request_id":"%s%s","account_id":"acc-it","caller_id":"%s","to":"+4915112345678",
                 "audio":"welcome.wav","created_at":"2025-06-01T12:00:00Z"}""".formatted(RUN, suffix, callerId);
        commands.add(json);
        producer.send(new ProducerRecord<>(Topics.CALL_COMMANDS, callerId, json));
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        return TestKafka.producer(bootstrap);
    }

}
