package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.eventsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.callback.CallbackApplier;
import dev.dialer.dispatcher.callback.SipStatusReports;
import dev.dialer.dispatcher.command.KeyRouting;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.dispatcher.carrier.CallReport;
import dev.dialer.dispatcher.carrier.PlacedCall;
import dev.dialer.dispatcher.carrier.sip.SipTrunkCarrier;
import dev.dialer.dispatcher.carrier.sip.SipTrunkProperties;
import dev.dialer.dispatcher.carrier.sip.Sipp;
import dev.dialer.infra.Infrastructure;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * An answered SIP call outlives the SIP carrier that placed it: sipp answers and stays until BYE; the carrier is
 * closed while the call is up (its stack gone, as in a dispatcher restart), and a new carrier started on the same
 * address takes the kept call over, sends the BYE (sipp's scenario completes) and ends the attempt once,
 * {@code completed} with its talk time, the request {@code answered}. A ringing call is cancelled the same way, and its
 * attempt fails with {@code error.code=dispatcher_restart}, unless a cancel had reached its request: then it ends
 * {@code canceled}, as the cancel would have ended it. That CANCEL is sent again until the trunk answers it. A kept
 * call that outlived its dial (the attempt was dialled again since, or placed by another carrier under the same dial)
 * is cancelled as well, and changes nothing of the attempt.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=dispatcher-service", "dialer.dispatcher.carrier.sip.enabled=true",
        // Each sipp here plays one call and takes any message of a new Call-ID for it: an idle trunk's OPTIONS probe
        // would be that call, which its scenario does not expect.
        "dialer.dispatcher.carrier.routing.guard.probe-idle-after=PT0S"})
@DirtiesContext
// The application's sipp starts with the context and gives up after 90 s: its call goes first.
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SipDialogRecoveryIT {

    private static final String CALLER = "+4930777000";
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static Sipp sipp;
    private static int sipPort;
    private static TopicTail tail;
    private static KafkaProducer<String, String> producer;

    @Autowired
    SipTrunkCarrier first;

    @Autowired
    SipTrunkProperties properties;

    @Autowired
    CallbackApplier applier;

    @Autowired
    AttemptLedger ledger;

    @Autowired
    MeterRegistry meters;

    @Autowired
    DatabaseClient db;

    @Autowired
    SipStatusReports reports;

    @Autowired
    KeyRouting keys;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) throws Exception {
        Infrastructure.Endpoints infra = Infrastructure.shared();
        if (sipp == null) {
            sipp = Sipp.uas("answer-and-stay");
            sipPort = freeUdpPort();
        }
        infra.serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
        registry.add("dialer.kafka.partitions", () -> 3);
        registry.add("dialer.dispatcher.carrier.sip.trunk-port", sipp::port);
        // A fixed port: whoever takes the calls over listens where the INVITEs said (their Via and Contact).
        registry.add("dialer.dispatcher.carrier.sip.bind-port", () -> sipPort);
        registry.add("dialer.dispatcher.carrier.sip.dialog-lease", () -> "PT3S");
    }

    @AfterAll
    static void stop() throws Exception {
        TestKafka.closeAll(producer, tail, sipp);
    }

    @Test
    @Order(1)
    void answeredCallIsEndedWithByeByTheNextCarrierAndItsAttemptEndsOnceAnswered() throws Exception {
        String bootstrap = Infrastructure.shared().kafkaBootstrapServers();
        if (tail == null) {
            tail = new TopicTail(bootstrap, List.of(Topics.CALL_EVENTS, Topics.CARRIER_CALLBACKS));
        }
        producer = TestKafka.producer(bootstrap);
        String requestId = "sip-restart-" + UUID.randomUUID();
        producer.send(new ProducerRecord<>(Topics.CALL_COMMANDS, CALLER, command(requestId))).get();

        await().atMost(WAIT).until(() -> statuses(requestId).contains("in-progress"));
        Instant answeredBy = Instant.now();
        String callId = attemptColumn(requestId, "provider_call_id");
        assertThat(keptState(callId)).isEqualTo("confirmed");

        first.close();

        // Nobody holds the call now: the watchdog, asking the carrier, hears that it is alive.
        CallReport meanwhile = first.status(new CallRef(requestId, 1, callId)).block(WAIT);
        assertThat(meanwhile).isNotNull();
        assertThat(meanwhile.status()).isEqualTo(AttemptStatus.IN_PROGRESS);
        assertThat(finals(requestId)).isEmpty();

        SipTrunkCarrier next = startOnTheSameAddress();
        try {
            assertThat(sipp.awaitExit(WAIT)).as("sipp received the BYE: %s", sipp.output()).isZero();
            await().atMost(WAIT).until(() -> !finals(requestId).isEmpty());
            // Once: nothing else ends the attempt, however long one waits.
            await().during(Duration.ofSeconds(3)).atMost(WAIT).until(() -> finals(requestId).size() == 1
                    && statuses(requestId).stream().filter("completed"::equals).count() == 1);

            assertThat(statuses(requestId)).containsExactly("queued", "initiated", "ringing", "in-progress",
                    "completed");
            JsonNode last = finals(requestId).get(0);
            assertThat(last.get("status").stringValue()).isEqualTo("answered");
            // Talk time from the answer to the next carrier's BYE: at most the time since the answer was seen.
            assertThat(last.get("duration_seconds").isIntegralNumber()).isTrue();
            assertThat(last.get("duration_seconds").intValue())
                    .isBetween(0, (int) Duration.between(answeredBy, Instant.now()).toSeconds() + 1);
            assertThat(attemptColumn(requestId, "status")).isEqualTo("completed");
            assertThat(keptState(callId)).as("forgotten once ended").isNull();
            assertThat(meters.counter("dialer.dispatcher.carrier.sip.recovered", "state", "confirmed").count())
                    .isEqualTo(1);
            assertThat(meters.find("dialer.dispatcher.watchdog.reconciled").tag("outcome", "status_timeout")
                    .counters().stream().mapToDouble(c -> c.count()).sum()).isZero();
        } finally {
            next.close();
        }
    }

    @Test
    @Order(2)
    void ringingCallIsCancelledByTheNextCarrierAndItsAttemptFailsWithDispatcherRestart() throws Exception {
        try (Sipp ringing = Sipp.uas("ring-until-cancel")) {
            SipTrunkProperties towardsRinging = towards(ringing.port(), freeUdpPort());
            String requestId = "sip-restart-ringing-" + UUID.randomUUID();
            PlacedCall placed = ringingWhenItsCarrierStops(towardsRinging, requestId, "+4930777001", 0);
            SipTrunkCarrier next = startOnTheSameAddress(towardsRinging);
            try {
                assertThat(ringing.awaitExit(WAIT)).as("sipp received our CANCEL and ACK: %s", ringing.output())
                        .isZero();
                await().atMost(WAIT).until(() -> !finals(requestId).isEmpty());
                await().during(Duration.ofSeconds(3)).atMost(WAIT).until(() -> finals(requestId).size() == 1);

                JsonNode failed = events(requestId).stream()
                        .filter(e -> "failed".equals(e.get("status").stringValue())).findFirst().orElseThrow();
                assertThat(failed.get("error").get("code").stringValue()).isEqualTo("dispatcher_restart");
                JsonNode last = finals(requestId).get(0);
                assertThat(last.get("status").stringValue()).as("one attempt allowed: no retry")
                        .isEqualTo("exhausted");
                assertThat(last.get("error").get("code").stringValue()).isEqualTo("dispatcher_restart");
                assertThat(attemptColumn(requestId, "status")).isEqualTo("failed");
                assertThat(keptState(placed.callId())).isNull();
            } finally {
                next.close();
            }
        }
    }

    @Test
    @Order(3)
    void ringingCallWhoseHangUpWasAskedIsCancelledByTheNextCarrierAndEndsCanceled() throws Exception {
        try (Sipp ringing = Sipp.uas("ring-until-cancel")) {
            SipTrunkProperties towardsRinging = towards(ringing.port(), freeUdpPort());
            String requestId = "sip-restart-cancel-" + UUID.randomUUID();
            PlacedCall placed = ringingWhenItsCarrierStops(towardsRinging, requestId, "+4930777002", 3);

            // The holder died with a cancel taken by another dispatcher and marked on its kept call, not yet acted on.
            db.sql("UPDATE dispatch.requests SET cancel_requested_at = now() WHERE request_id = $1")
                    .bind(0, requestId).then().block(WAIT);
            db.sql("UPDATE dispatch.sip_dialogs SET hangup_requested_at = now() WHERE call_id = $1")
                    .bind(0, placed.callId()).then().block(WAIT);
            SipTrunkCarrier next = startOnTheSameAddress(towardsRinging);
            try {
                assertThat(ringing.awaitExit(WAIT)).as("sipp received our CANCEL and ACK: %s", ringing.output())
                        .isZero();
                await().atMost(WAIT).until(() -> !finals(requestId).isEmpty());
                await().during(Duration.ofSeconds(3)).atMost(WAIT).until(() -> finals(requestId).size() == 1);

                assertThat(statuses(requestId)).endsWith("canceled").doesNotContain("failed");
                JsonNode last = finals(requestId).get(0);
                assertThat(last.get("status").stringValue()).as("three attempts allowed, none retried")
                        .isEqualTo("canceled");
                assertThat(attemptColumn(requestId, "status")).isEqualTo("canceled");
                assertThat(keptState(placed.callId())).isNull();
            } finally {
                next.close();
            }
        }
    }

    @Test
    @Order(4)
    void cancelOfATakenOverRingingCallIsSentAgainUntilTheTrunkAnswersIt() throws Exception {
        double acceptedBefore = recoveredCancels("accepted");
        try (Sipp ringing = Sipp.uasSeeingRetransmissions("ignore-first-cancel")) {
            SipTrunkProperties towardsRinging = towards(ringing.port(), freeUdpPort());
            String requestId = "sip-restart-lost-cancel-" + UUID.randomUUID();
            ringingWhenItsCarrierStops(towardsRinging, requestId, "+4930777003", 0);
            SipTrunkCarrier next = startOnTheSameAddress(towardsRinging);
            try {
                assertThat(ringing.awaitExit(WAIT))
                        .as("sipp ignored our first CANCEL, answered the next one and received the ACK of its 487: %s",
                                ringing.output())
                        .isZero();
                await().atMost(WAIT).until(() -> recoveredCancels("accepted") == acceptedBefore + 1);
                await().atMost(WAIT).until(() -> !finals(requestId).isEmpty());

                assertThat(finals(requestId).get(0).get("error").get("code").stringValue())
                        .isEqualTo("dispatcher_restart");
                assertThat(attemptColumn(requestId, "status")).isEqualTo("failed");
                assertThat(recoveredCancels("refused") + recoveredCancels("unanswered")).isZero();
            } finally {
                next.close();
            }
        }
    }

    @Test
    @Order(5)
    void statusesOfACallWhoseCallerIdThisDispatcherNoLongerOwnsGoThroughTheTopicToTheOwner() throws Exception {
        double topicBefore = meters.counter("dialer.dispatcher.callbacks.routed", "path", "topic").count();
        try (Sipp busy = Sipp.uas("busy")) {
            SipTrunkProperties towardsBusy = towards(busy.port(), freeUdpPort());
            String requestId = "sip-moved-" + UUID.randomUUID();
            String callerId = "+4930777004";
            CallCommand command = new CallCommand(1, requestId, "acc-sip", callerId, "+4915112345670", null,
                    "welcome.wav", "sip-moved", 0, 1, 1, null, null, Map.of(), null, null, null, null, null,
                    Instant.now());
            assertThat(ledger.record(command).then(ledger.claimDial(requestId, 1)).block(WAIT)).isEqualTo(1);
            // The caller ID's partition moved to another dispatcher (here: this one's consumer, which still reads
            // every partition, stands in for it), while the call stays with the SIP stack that placed it.
            keys.ownsNone();
            SipTrunkCarrier placing = SipTrunkCarrier.durable(towardsBusy, reports::report, Clock.systemUTC(), meters,
                    db);
            try {
                placing.start();
                assertThat(placing.place(command, 1).block(WAIT)).isNotNull();
                assertThat(busy.awaitExit(WAIT)).as("sipp answered busy: %s", busy.output()).isZero();

                await().atMost(WAIT).until(() -> !finals(requestId).isEmpty());
                assertThat(statuses(requestId)).containsExactly("initiated", "busy");
                assertThat(finals(requestId)).singleElement()
                        .satisfies(last -> assertThat(last.get("status").stringValue()).isEqualTo("exhausted"));
                assertThat(attemptColumn(requestId, "status")).isEqualTo("busy");
                // initiated and busy (sipp's scenario sends no 180): each appended for the owner, which read it
                // back and applied it.
                assertThat(meters.counter("dialer.dispatcher.callbacks.routed", "path", "topic").count())
                        .isEqualTo(topicBefore + 2);
                await().atMost(WAIT).until(() -> tail.all(Topics.CARRIER_CALLBACKS).stream()
                        .filter(record -> record.value().contains(requestId)).count() == 2);
            } finally {
                placing.close();
                keys.owns(Set.of(0, 1, 2), Set.of());
            }
        }
    }

    @Test
    @Order(6)
    void aKeptCallOfAnEarlierDialTakenOverWhileTheNextDialRingsChangesNothing() throws Exception {
        try (Sipp ringing = Sipp.uas("ring-until-cancel")) {
            SipTrunkProperties towardsRinging = towards(ringing.port(), freeUdpPort());
            String requestId = "sip-restart-earlier-dial-" + UUID.randomUUID();
            PlacedCall placed = ringingWhenItsCarrierStops(towardsRinging, requestId, "+4930777005", 3);
            // The ledger moves on as if dial 1 had been rejected for capacity before its ringing was recorded (a
            // dial that rang is never requeued) and its kept call not deleted: the attempt is dialled again, and
            // dial 2 rings.
            db.sql("UPDATE dispatch.attempts SET status = 'initiated' WHERE request_id = $1").bind(0, requestId)
                    .then().block(WAIT);
            assertThat(ledger.requeueForCapacity(requestId, 1, placed.callId(), 1, Instant.now().plusSeconds(60))
                    .block(WAIT)).isTrue();
            db.sql("DELETE FROM dispatch.schedule WHERE request_id = $1").bind(0, requestId).then().block(WAIT);
            db.sql("UPDATE dispatch.attempts SET requeued = false WHERE request_id = $1").bind(0, requestId)
                    .then().block(WAIT);
            assertThat(ledger.claimDial(requestId, 1).block(WAIT)).isEqualTo(2);
            ledger.storeProviderCallId(requestId, 1, 2, "dial-2@elsewhere", "sip-trunk").block(WAIT);
            db.sql("UPDATE dispatch.attempts SET status = 'ringing' WHERE request_id = $1").bind(0, requestId)
                    .then().block(WAIT);

            aKeptCallTakenOverChangesNothing(towardsRinging, ringing, requestId, placed, "ringing/2/dial-2@elsewhere");
        }
    }

    @Test
    @Order(7)
    void aKeptCallOfADialAnotherCarrierPlacedUnderTheSameNumberTakenOverChangesNothing() throws Exception {
        try (Sipp ringing = Sipp.uas("ring-until-cancel")) {
            SipTrunkProperties towardsRinging = towards(ringing.port(), freeUdpPort());
            String requestId = "sip-restart-failed-over-" + UUID.randomUUID();
            PlacedCall placed = ringingWhenItsCarrierStops(towardsRinging, requestId, "+4930777006", 3);
            // The SIP call's dial was given up and the Voice Gateway placed it, still as dial 1.
            ledger.storeProviderCallId(requestId, 1, 1, "vg-sid-1", "voice-gateway").block(WAIT);

            aKeptCallTakenOverChangesNothing(towardsRinging, ringing, requestId, placed, "ringing/1/vg-sid-1");
        }
    }

    /**
     * The next carrier takes the kept call over and cancels it on the wire, but the attempt, on another call by now,
     * stays as it was ({@code status/dial_no/provider_call_id}): no event, no end, no retry.
     */
    private void aKeptCallTakenOverChangesNothing(SipTrunkProperties trunk, Sipp ringing, String requestId,
                                                  PlacedCall placed, String attempt) throws Exception {
        SipTrunkCarrier next = startOnTheSameAddress(trunk);
        try {
            assertThat(ringing.awaitExit(WAIT)).as("sipp received our CANCEL and ACK: %s", ringing.output())
                    .isZero();
            // Deleted once its report was applied (or refused).
            await().atMost(WAIT).until(() -> keptState(placed.callId()) == null);

            assertThat(db.sql("""
                            SELECT status || '/' || dial_no || '/' || provider_call_id FROM dispatch.attempts
                             WHERE request_id = $1 AND attempt_no = 1""")
                    .bind(0, requestId).map(row -> row.get(0, String.class)).one().block(WAIT)).isEqualTo(attempt);
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() -> finals(requestId)
                    .isEmpty() && !statuses(requestId).contains("failed"));
            assertThat(db.sql("SELECT count(*) FROM dispatch.schedule WHERE request_id = $1").bind(0, requestId)
                    .map(row -> row.get(0, Long.class)).one().block(WAIT)).isZero();
        } finally {
            next.close();
        }
    }

    /**
     * A call of {@code requestId} placed by a carrier of this test's own towards {@code trunk} (the application's
     * carrier stopped, so it takes nothing over), ringing, kept as {@code early}; then that carrier stops.
     */
    private PlacedCall ringingWhenItsCarrierStops(SipTrunkProperties trunk, String requestId, String callerId,
                                                  int maxAttempts) {
        first.stop();
        if (tail == null) {
            tail = new TopicTail(Infrastructure.shared().kafkaBootstrapServers(),
                    List.of(Topics.CALL_EVENTS, Topics.CARRIER_CALLBACKS));
        }
        CallCommand command = new CallCommand(1, requestId, "acc-sip", callerId, "+4915112345670", null,
                "welcome.wav", "sip-restart", 0, maxAttempts, 1, null, null, Map.of(), null, null, null, null, null,
                Instant.now());
        assertThat(ledger.record(command).then(ledger.claimDial(requestId, 1)).block(WAIT)).isEqualTo(1);
        SipTrunkCarrier placing = startOnTheSameAddress(trunk);
        PlacedCall placed = placing.place(command, 1).block(WAIT);
        assertThat(placed).isNotNull();
        await().atMost(WAIT).until(() -> "ringing".equals(attemptColumn(requestId, "status")));
        assertThat(keptState(placed.callId())).isEqualTo("early");
        placing.close();
        return placed;
    }

    private double recoveredCancels(String outcome) {
        return meters.counter("dialer.dispatcher.carrier.sip.recovered.cancels", "outcome", outcome).count();
    }

    private SipTrunkProperties towards(int trunkPort, int bindPort) {
        return new SipTrunkProperties(true, "127.0.0.1", trunkPort, "udp", "127.0.0.1", bindPort, null, null, null,
                null, 40000, Duration.ofSeconds(60), Duration.ofHours(1), 2, Duration.ofSeconds(3), 3,
                Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofMillis(500));
    }

    private SipTrunkCarrier startOnTheSameAddress() {
        return startOnTheSameAddress(properties);
    }

    /** The old stack has just let go of the port; binding it again may take a moment. */
    private SipTrunkCarrier startOnTheSameAddress(SipTrunkProperties on) {
        AtomicReference<SipTrunkCarrier> started = new AtomicReference<>();
        await().atMost(WAIT).ignoreExceptionsInstanceOf(IllegalStateException.class).until(() -> {
            started.set(SipTrunkCarrier.durable(on, applier::apply, Clock.systemUTC(), meters, db));
            return true;
        });
        assertThat(started.get().localPort()).isEqualTo(on.bindPort());
        started.get().start();
        return started.get();
    }

    private List<String> statuses(String requestId) {
        return events(requestId).stream().filter(e -> "call.status".equals(e.get("event_type").stringValue()))
                .map(e -> e.get("status").stringValue()).toList();
    }

    private List<JsonNode> finals(String requestId) {
        return events(requestId).stream().filter(e -> "call.final".equals(e.get("event_type").stringValue()))
                .toList();
    }

    private List<JsonNode> events(String requestId) {
        return eventsOf(tail, requestId);
    }

    private String attemptColumn(String requestId, String column) {
        return db.sql("SELECT " + column + " FROM dispatch.attempts WHERE request_id = $1 AND attempt_no = 1")
                .bind(0, requestId).map(row -> row.get(0, String.class)).one().block(WAIT);
    }

    private String keptState(String callId) {
        return db.sql("SELECT state FROM dispatch.sip_dialogs WHERE call_id = $1").bind(0, callId)
                .map(row -> row.get(0, String.class)).one().block(WAIT);
    }

    private static String command(String requestId) {
        return """
                {"version":1,"request_id":"%s","account_id":"acc-sip","caller_id":"%s","to":"+4915112345678",
                 "audio":"welcome.wav","campaign":"sip-restart","created_at":"2025-06-01T12:00:00Z"}"""
                .formatted(requestId, CALLER);
    }

    private static int freeUdpPort() throws Exception {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
