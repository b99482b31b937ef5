package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.assertStrictlyIncreasingSequence;
import static dev.dialer.dispatcher.CallEventsJson.deferred;
import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.statusEvent;
import static dev.dialer.dispatcher.CallEventsJson.statuses;
import static dev.dialer.dispatcher.DispatcherFixture.shortCalls;
import static dev.dialer.dispatcher.DispatcherFixture.signature;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.TopicProvisioner;
import dev.dialer.common.kafka.Topics;
import dev.dialer.common.trace.TraceParent;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.infra.Infrastructure;
import dev.dialer.simulator.ReceivedCall;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.reactor.netty.autoconfigure.NettyServerProperties;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.context.Lifecycle;
import org.springframework.core.env.Environment;
import org.springframework.http.MediaType;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;

/**
 * The dispatcher end to end: commands written straight to Kafka, the real carrier simulator over HTTP, its signed
 * callbacks back, events read from Kafka, attempts in PostgreSQL.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=dispatcher-service")
// Its own dispatcher must be the only one consuming commands while it runs (RetryLadderIT starts another).
@DirtiesContext
class DispatcherIT {

    private static final String SECRET = "s3cret";
    private static final String CALLER = "+4930123456";
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, shortCalls().withWebhookSecret(SECRET))
            .tailing(Topics.CALL_EVENTS, Topics.CALL_COMMANDS_DLQ, Topics.CARRIER_CALLBACKS, Topics.CALL_COMMANDS,
                    Topics.CARRIER_CALLBACKS_DLQ);

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        fixture.register(registry);
        // A call the carrier keeps rejecting for capacity is requeued for this long, then ends.
        registry.add("dialer.dispatcher.retry.carrier-unavailable-max-wait", () -> "PT8S");
    }

    @LocalServerPort
    int port;

    @Autowired
    Environment environment;

    @Autowired
    MeterRegistry meters;

    @Autowired
    DatabaseClient db;

    @Autowired
    ApplicationContext context;

    @Autowired
    AttemptLedger ledger;

    @Autowired
    NettyServerProperties server;

    @Test
    void loadsItsOwnConfigurationFile() {
        assertThat(environment.getProperty("spring.application.name")).isEqualTo("dispatcher-service");
        assertThat(environment.getProperty("spring.flyway.locations")).isEqualTo("classpath:db/migration/dispatch");
    }

    @Test
    void closesAConnectionIdleLongerThanACarriersOrAProxysKeepAlive() {
        assertThat(server.getIdleTimeout()).isEqualTo(Duration.ofSeconds(620));
    }

    @Test
    void itsPostgresqlSessionsEndWhenItsHostDiesOrATransactionIsLeftOpen() {
        // Read through the service's own pool: the parameters are set on every connection it opens.
        java.util.Map<String, String> settings = db
                .sql("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)")
                .bind("names", dev.dialer.common.db.PostgresSessions.PARAMETERS.keySet().toArray(String[]::new))
                .map((row, meta) -> java.util.Map.entry(row.get("name", String.class), row.get("setting", String.class)))
                .all()
                .collectMap(java.util.Map.Entry::getKey, java.util.Map.Entry::getValue)
                .block(java.time.Duration.ofSeconds(10));
        assertThat(settings).isEqualTo(dev.dialer.common.db.PostgresSessions.PARAMETERS);
    }

    @Test
    void answeredCallGoesThroughEveryStatusAndEndsWithOneFinalAnswered() {
        String requestId = newRequestId();
        fixture.produce(CALLER, command(requestId, CALLER, "+4915112345678", ""));

        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(statuses(events)).containsExactly("queued", "initiated", "ringing", "in-progress", "completed");
        assertThat(finals(events)).singleElement().satisfies(last -> {
            assertThat(last.get("status").stringValue()).isEqualTo("answered");
            assertThat(last.get("will_retry").booleanValue()).isFalse();
            assertThat(last.get("previous_status").stringValue()).as("the attempt's end").isEqualTo("completed");
        });
        assertThat(events.get(events.size() - 1).get("event_type").stringValue()).isEqualTo("call.final");
        assertStrictlyIncreasingSequence(events);
        assertThat(events.get(2).get("previous_status").stringValue()).isEqualTo("initiated");
        assertThat(events).allSatisfy(event -> {
            assertThat(event.get("request_id").stringValue()).isEqualTo(requestId);
            assertThat(event.path("will_retry").isBoolean()).as("will_retry on every event").isTrue();
            assertThat(event.path("will_retry").booleanValue()).as("answered at once, never to be dialled again")
                    .isFalse();
            assertThat(event.get("account_id").stringValue()).isEqualTo("acc-it");
            assertThat(event.toString()).doesNotContain("918273");
        });

        ReceivedCall call = fixture.callsFor(requestId).get(0);
        assertThat(fixture.callsFor(requestId)).hasSize(1);
        assertThat(call.from()).isEqualTo("4930123456");
        assertThat(call.toNumber()).isEqualTo("4915112345678");
        assertThat(call.applicationSid()).isEqualTo("dialer-audio-player");
        assertThat(call.statusHookUrl()).isEqualTo("http://127.0.0.1:" + port + "/carrier/voice-gateway/status");
        assertThat(call.tag()).containsEntry("request_id", requestId)
                .containsEntry("attempt", 1)
                .containsEntry("account_id", "acc-it")
                .containsEntry("caller_id", CALLER)
                .containsEntry("audio", "welcome.wav")
                .containsEntry("variables", Map.of("otp", "918273"));
        assertThat(events.get(4).get("provider_call_id").stringValue()).isEqualTo(call.callSid());
        assertThat(attemptRow(requestId)).containsEntry("status", "completed")
                .containsEntry("provider_call_id", call.callSid());
    }

    @Test
    void aSipTargetReachesTheGatewayAsJambonzsSipTargetWithTheAuthTheClientGaveAndIsReportedByItsUri() {
        String requestId = newRequestId();
        String uri = "sip:4915112345678@pbx.example.com;transport=tls";
        fixture.produce(CALLER, command(requestId, CALLER, uri, """
                "carrier_options":{"to":{"type":"sip","sipUri":"%s","auth":{"username":"dialer","password":"pw"}}},"""
                .formatted(uri)));

        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(statuses(events)).containsExactly("queued", "initiated", "ringing", "in-progress", "completed");
        assertThat(events).allSatisfy(event -> assertThat(event.get("to").stringValue()).isEqualTo(uri));
        ReceivedCall call = fixture.callsFor(requestId).get(0);
        assertThat(call.toType()).isEqualTo("sip");
        assertThat(call.toNumber()).isEqualTo(uri);
        assertThat(call.body().get("to")).isEqualTo(Map.of("type", "sip", "sipUri", uri,
                "auth", Map.of("username", "dialer", "password", "pw")));
    }

    @Test
    void aRegisteredUserReachesTheGatewayAsJambonzsUserTarget() {
        String requestId = newRequestId();
        fixture.produce(CALLER, command(requestId, CALLER, "user:agent-7", ""));

        fixture.awaitFinal(requestId);

        ReceivedCall call = fixture.callsFor(requestId).get(0);
        assertThat(call.body().get("to")).isEqualTo(Map.of("type", "user", "name", "agent-7"));
    }

    @Test
    void busyCalleeEndsBusyWithSip486AndTheRequestExhausted() {
        String requestId = newRequestId();
        fixture.produce(CALLER, command(requestId, CALLER, "+4915112345670", ""));

        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(statuses(events)).containsExactly("queued", "initiated", "ringing", "busy");
        JsonNode busy = statusEvent(events, "busy");
        assertThat(busy.get("sip_status").intValue()).isEqualTo(486);
        assertThat(busy.get("provider_status").stringValue()).isEqualTo("busy");
        assertThat(finals(events)).singleElement().satisfies(last -> {
            assertThat(last.get("status").stringValue()).isEqualTo("exhausted");
            assertThat(last.get("will_retry").booleanValue()).isFalse();
            assertThat(last.get("sip_status").intValue()).isEqualTo(486);
        });
        assertStrictlyIncreasingSequence(events);
    }

    @Test
    void capacityRejectionIsNotAnAttemptTheCallIsDeferredAndDialledAgainUnderTheSameAttemptNumberUntilTheLongestWait() {
        String requestId = newRequestId();
        double rejectionsBefore = meters.counter("dialer.dispatcher.capacity.rejections").count();
        double trunkRejectionsBefore = trunkRejections();
        fixture.produce(CALLER, command(requestId, CALLER, "+4915112345673", ""));

        // The simulator rejects this number for capacity every time: each rejection requeues the same attempt.
        await().atMost(WAIT).until(() -> fixture.callsFor(requestId).size() >= 2
                && deferred(fixture.eventsFor(requestId)).size() >= 2);

        assertThat(fixture.callsFor(requestId)).allSatisfy(call -> assertThat(call.tag()).containsEntry("attempt", 1));
        assertThat(deferred(fixture.eventsFor(requestId))).allSatisfy(event -> {
            assertThat(event.get("status").stringValue()).isEqualTo("deferred");
            assertThat(event.get("attempt").get("number").intValue()).isEqualTo(1);
            assertThat(event.get("reason").stringValue()).isEqualTo("capacity");
            assertThat(event.get("sip_status").intValue()).isEqualTo(503);
            assertThat(event.get("will_retry").booleanValue()).isTrue();
            assertThat(event.get("next_attempt_at")).isNotNull();
        });
        // Counted once each deferral is committed, which may be after its event is read.
        await().atMost(WAIT).untilAsserted(() -> assertThat(
                meters.counter("dialer.dispatcher.capacity.rejections").count())
                .isGreaterThanOrEqualTo(rejectionsBefore + 2));
        assertThat(meters.get("dialer.dispatcher.trunk.concurrency.limit").gauge().value()).isGreaterThanOrEqualTo(1);

        // The simulator rejects this number for ever: once the attempt was first queued longer than
        // carrier-unavailable-max-wait (8 s here) ago, the next rejection ends the request instead of requeueing it.
        List<JsonNode> events = fixture.awaitFinal(requestId);
        assertThat(statuses(events)).as("the attempt ends once, at the end").containsOnlyOnce("failed");
        assertThat(finals(events)).singleElement().satisfies(last -> {
            assertThat(last.get("status").stringValue()).isEqualTo("exhausted");
            assertThat(last.get("error").get("code").stringValue()).isEqualTo("capacity");
        });
        assertThat(statusEvent(events, "failed").get("reason").stringValue()).isEqualTo("capacity");
        assertThat(db.sql("""
                        SELECT count(*) FROM dispatch.attempts
                         WHERE request_id = $1 AND carrier_asked_at IS NOT NULL""")
                .bind(0, requestId).map(row -> row.get(0, Long.class)).one().block(WAIT))
                .as("it rang nobody: no per-callee cap counts it").isZero();
        assertThat(fixture.callsFor(requestId)).allSatisfy(call -> assertThat(call.tag()).containsEntry("attempt", 1));
        List<ReceivedCall> dials = fixture.callsFor(requestId);
        assertThat(dials).as("each dial of the attempt is numbered in its tag, so its callbacks name it")
                .extracting(call -> call.tag().get("dial"))
                .containsExactlyElementsOf(IntStream.rangeClosed(1, dials.size()).boxed().toList());
        // Every dial met one capacity rejection, the last one, which ended the request, included (counted just after
        // its commit, which the event may overtake).
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(meters.counter("dialer.dispatcher.capacity.rejections").count() - rejectionsBefore)
                    .isEqualTo(dials.size());
            assertThat(trunkRejections() - trunkRejectionsBefore).isEqualTo(dials.size());
        });
    }

    private double trunkRejections() {
        return meters.find("dialer.dispatcher.trunk.capacity.rejections").functionCounters().stream()
                .mapToDouble(FunctionCounter::count).sum();
    }

    @Test
    void theTraceACommandCarriesIsContinuedByEveryEventAndEveryCommandItsWaitsReinject() {
        String requestId = newRequestId();
        String trace = UUID.randomUUID().toString().replace("-", "");
        String incoming = "00-" + trace + "-b7ad6b7169203331-01";
        // The simulator rejects this number for capacity every time: the attempt is requeued through the schedule
        // (commands re-injected) until the longest wait, then ends.
        ProducerRecord<String, String> record = new ProducerRecord<>(Topics.CALL_COMMANDS, CALLER,
                command(requestId, CALLER, "+4915112345673", ""));
        record.headers().add(TraceParent.HEADER, incoming.getBytes(StandardCharsets.UTF_8));
        fixture.send(record);
        fixture.awaitFinal(requestId);

        List<String> events = await().atMost(WAIT).until(() -> fixture.records(Topics.CALL_EVENTS, requestId).stream()
                .map(event -> header(event, TraceParent.HEADER)).toList(), spans -> spans.size() >= 4);
        assertThat(events).allSatisfy(span -> assertThat(span).matches("00-" + trace + "-[0-9a-f]{16}-01")
                .isNotEqualTo(incoming));
        assertThat(events).as("a span of its own for each event").doesNotHaveDuplicates();
        List<String> reinjected = fixture.records(Topics.CALL_COMMANDS, CALLER).stream()
                .filter(command -> command.value().contains(requestId))
                .skip(1)
                .map(command -> header(command, TraceParent.HEADER))
                .toList();
        assertThat(reinjected).as("the requeued attempt's commands").isNotEmpty()
                .allSatisfy(span -> assertThat(span).matches("00-" + trace + "-[0-9a-f]{16}-01"));
    }

    @Test
    void aCommandWithoutATraceStartsOneItsEventsShare() {
        String requestId = newRequestId();
        fixture.produce(CALLER, command(requestId, CALLER, "+4915112345678", ""));
        fixture.awaitFinal(requestId);

        List<String> traces = await().atMost(WAIT).until(() -> fixture.records(Topics.CALL_EVENTS, requestId).stream()
                        .map(event -> header(event, TraceParent.HEADER)).toList(), spans -> spans.size() >= 2)
                .stream().map(span -> span.split("-")[1]).distinct().toList();
        assertThat(traces).singleElement().asString().matches("[0-9a-f]{32}");
    }

    @Test
    void carrierRefusingTheCallFailsAttemptAndRequestWithCarrierError() {
        String requestId = newRequestId();
        // The simulator answers 400 to a notifyUrl that is no http(s) URL, passed on as a carrier option.
        fixture.produce(CALLER, command(requestId, CALLER, "+4915112345678",
                "\"carrier_options\":{\"notifyUrl\":\"ftp://hooks.example.com\"},"));

        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(statuses(events)).containsExactly("queued", "failed");
        assertThat(events.get(1).get("error").get("code").stringValue()).isEqualTo("carrier_error");
        assertThat(finals(events)).singleElement().satisfies(last -> {
            assertThat(last.get("status").stringValue()).isEqualTo("failed");
            assertThat(last.get("error").get("code").stringValue()).isEqualTo("carrier_error");
        });
        assertThat(fixture.callsFor(requestId)).isEmpty();
        assertThat(attemptRow(requestId)).containsEntry("status", "failed");
    }

    @Test
    void badRecordsGoToTheDlqWithErrorHeadersAndTheNextCommandIsStillDialled() {
        String caller = "+4930" + ThreadLocalRandom.current().nextInt(1_000_000, 9_999_999);
        String requestId = newRequestId();
        double deadBefore = dlqCount();
        fixture.produce(caller, "this is not JSON");
        fixture.produce(caller, "{\"version\":1,\"request_id\":\"" + requestId + "-bad\",\"account_id\":\"acc-it\"}");
        fixture.produce(caller, command(requestId + "-v9", caller, "+4915112345678", "").replace("\"version\":1",
                "\"version\":9"));
        fixture.produce(caller, command(requestId, caller, "+4915112345678", ""));

        await().atMost(WAIT).untilAsserted(() ->
                assertThat(fixture.records(Topics.CALL_COMMANDS_DLQ, caller)).hasSize(3));
        // Counted once the broker's acknowledgement of each copy is back, which may be after a consumer read it.
        await().atMost(WAIT).untilAsserted(() -> assertThat(dlqCount()).isEqualTo(deadBefore + 3));
        // Bad records have no lane, so they are handled side by side and may reach the DLQ in any order; the source
        // offset header puts each back beside the record it came from.
        List<ConsumerRecord<String, String>> dead = fixture.records(Topics.CALL_COMMANDS_DLQ, caller).stream()
                .sorted(java.util.Comparator.comparingLong(
                        record -> Long.parseLong(header(record, Topics.HEADER_SOURCE_OFFSET))))
                .toList();
        assertThat(header(dead.get(2), Topics.HEADER_ERROR_CODE)).isEqualTo("unknown_version");
        assertThat(dead.get(0).value()).isEqualTo("this is not JSON");
        assertThat(header(dead.get(0), Topics.HEADER_ERROR_CODE)).isEqualTo("not_json");
        assertThat(header(dead.get(0), Topics.HEADER_SOURCE_TOPIC)).isEqualTo(Topics.CALL_COMMANDS);
        assertThat(header(dead.get(0), Topics.HEADER_SOURCE_OFFSET)).isNotBlank();
        assertThat(header(dead.get(1), Topics.HEADER_ERROR_CODE)).isEqualTo("schema_invalid");
        assertThat(header(dead.get(1), Topics.HEADER_ERROR_MESSAGE)).isNotBlank();

        assertThat(finals(fixture.awaitFinal(requestId))).singleElement()
                .satisfies(last -> assertThat(last.get("status").stringValue()).isEqualTo("answered"));
        assertThat(fixture.callsFor(requestId)).hasSize(1);
    }

    @Test
    void sameCommandDeliveredTwiceIsDialledOnce() {
        String requestId = newRequestId();
        String json = command(requestId, CALLER, "+4915112345678", "");
        double duplicatesBefore = commands("duplicate");
        fixture.produce(CALLER, json);
        fixture.produce(CALLER, json);

        List<JsonNode> events = fixture.awaitFinal(requestId);
        await().atMost(WAIT).until(() -> commands("duplicate") > duplicatesBefore);

        assertThat(fixture.callsFor(requestId)).hasSize(1);
        assertThat(statuses(events)).containsOnlyOnce("queued");
        assertThat(finals(fixture.eventsFor(requestId))).hasSize(1);
        Long attempts = db.sql("SELECT count(*) FROM dispatch.attempts WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, Long.class)).one().block(WAIT);
        assertThat(attempts).isEqualTo(1L);
    }

    @Test
    void commandsOnTheWrongPartitionOrKeyedWronglyAreReroutedAndDialledOnce() {
        int partitions = TopicProvisioner.partitionCount(
                KafkaSettings.of(Infrastructure.shared().kafkaBootstrapServers()),
                Topics.CALL_COMMANDS, 10_000);
        int wrong = (KafkaPublisher.partitionOf(CALLER, partitions) + 1) % partitions;
        String onWrongPartition = newRequestId();
        String keyedWrongly = newRequestId();
        double reroutedBefore = commands("rerouted");

        // What kcat does without -X partitioner=murmur2_random: the right key, CRC32's partition. Its producer's own
        // headers (one binary, one named twice) go with it.
        byte[] binary = {(byte) 0xff, 0, (byte) 0xc3, 0x28};
        ProducerRecord<String, String> misplaced = new ProducerRecord<>(Topics.CALL_COMMANDS, wrong, CALLER,
                command(onWrongPartition, CALLER, "+4915112345678", ""));
        misplaced.headers().add("b3", binary).add("tag", "one".getBytes(StandardCharsets.UTF_8))
                .add("tag", "two".getBytes(StandardCharsets.UTF_8));
        fixture.send(misplaced);
        fixture.produce("not-a-caller-id", command(keyedWrongly, CALLER, "+4915112345679", ""));

        assertThat(finals(fixture.awaitFinal(onWrongPartition))).hasSize(1);
        assertThat(finals(fixture.awaitFinal(keyedWrongly))).hasSize(1);
        assertThat(fixture.callsFor(onWrongPartition)).hasSize(1);
        assertThat(fixture.callsFor(keyedWrongly)).hasSize(1);
        assertThat(commands("rerouted")).isGreaterThanOrEqualTo(reroutedBefore + 2);
        ConsumerRecord<String, String> rerouted = fixture.records(Topics.CALL_COMMANDS, CALLER).stream()
                .filter(command -> command.value().contains(onWrongPartition))
                .filter(command -> command.headers().lastHeader("dialer.rerouted") != null)
                .findFirst().orElseThrow();
        assertThat(rerouted.partition()).as("the partition the dispatcher's count names")
                .isEqualTo(KafkaPublisher.partitionOf(CALLER, partitions));
        assertThat(new String(rerouted.headers().lastHeader("dialer.reroutes").value(), StandardCharsets.UTF_8))
                .isEqualTo("1");
        assertThat(rerouted.headers().lastHeader("b3").value()).isEqualTo(binary);
        assertThat(rerouted.headers().headers("tag")).extracting(header -> new String(header.value(),
                StandardCharsets.UTF_8)).containsExactly("one", "two");
    }

    @Test
    void aCallbackRecordOnAPartitionItsCallerIdDoesNotHashToIsReroutedToItsOwn() {
        // Appended by a dispatcher whose producer's count of the partitions lagged the topics' growth.
        int partitions = TopicProvisioner.partitionCount(
                KafkaSettings.of(Infrastructure.shared().kafkaBootstrapServers()),
                Topics.CARRIER_CALLBACKS, 10_000);
        int right = KafkaPublisher.partitionOf(CALLER, partitions);
        int wrong = (right + 1) % partitions;
        String callSid = "vg-" + UUID.randomUUID();
        double reroutedBefore = routed("rerouted");
        double unknownBefore = callbacks("completed", "unknown_attempt");
        ProducerRecord<String, String> misplaced = new ProducerRecord<>(Topics.CARRIER_CALLBACKS, wrong, CALLER,
                "{\"call_sid\":\"" + callSid + "\",\"call_status\":\"completed\","
                        + "\"customerData\":{\"request_id\":\"nobody\",\"attempt\":1}}");
        misplaced.headers().add("dialer.call-bound", "true".getBytes(StandardCharsets.UTF_8));
        fixture.send(misplaced);

        await().atMost(WAIT).untilAsserted(() -> assertThat(fixture.records(Topics.CARRIER_CALLBACKS, CALLER).stream()
                .filter(record -> record.value().contains(callSid))
                .filter(record -> record.headers().lastHeader("dialer.rerouted") != null).toList())
                .singleElement().satisfies(rerouted -> {
                    assertThat(rerouted.partition()).as("its caller ID's partition").isEqualTo(right);
                    assertThat(header(rerouted, "dialer.rerouted")).startsWith(wrong + "@");
                    assertThat(header(rerouted, "dialer.reroutes")).isEqualTo("1");
                    assertThat(header(rerouted, "dialer.call-bound")).as("what the endpoint said of it")
                            .isEqualTo("true");
                }));
        await().atMost(WAIT).until(() -> routed("rerouted") == reroutedBefore + 1);
        // Applied once, where it was re-routed to (an attempt nobody dialled).
        await().atMost(WAIT).until(() -> callbacks("completed", "unknown_attempt") == unknownBefore + 1);
    }

    @Test
    void callbackWithBadSignatureIsRefused() {
        String body = "{\"call_sid\":\"x\",\"call_status\":\"completed\","
                + "\"customerData\":{\"request_id\":\"nobody\",\"attempt\":1}}";

        client().post().uri("/carrier/voice-gateway/status")
                .contentType(MediaType.APPLICATION_JSON)
                .header("Jambonz-Signature", signature("wrong-secret", body))
                .bodyValue(body)
                .exchange()
                .expectStatus().isUnauthorized()
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody().jsonPath("$.status").isEqualTo(401);
        client().post().uri("/carrier/voice-gateway/status")
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue(body)
                .exchange()
                .expectStatus().isUnauthorized();
        // The same body correctly signed passes the check and is refused for what it is: an unknown attempt.
        client().post().uri("/carrier/voice-gateway/status")
                .contentType(MediaType.APPLICATION_JSON)
                .header("Jambonz-Signature", signature(SECRET, body))
                .bodyValue(body)
                .exchange()
                .expectStatus().isNotFound()
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON);
    }

    @Test
    void lateAndRepeatedCallbacksChangeNothing() {
        String requestId = newRequestId();
        fixture.produce(CALLER, command(requestId, CALLER, "+4915112345678", ""));
        fixture.awaitFinal(requestId);
        String callSid = fixture.callsFor(requestId).get(0).callSid();
        double statusEventsBefore = meters.counter("dialer.dispatcher.events", "type", "call.status").count();
        double finalEventsBefore = meters.counter("dialer.dispatcher.events", "type", "call.final").count();
        double ignoredBefore = ignoredCallbacks("ringing") + ignoredCallbacks("completed");
        double busyBefore = callbacksOf("busy");

        postSigned(callback(requestId, callSid, "ringing", 180, "Ringing")).expectStatus().isOk();
        postSigned(callback(requestId, callSid, "completed", 200, "OK")).expectStatus().isOk();
        postSigned(callback(requestId, callSid, "busy", 486, "Busy Here")).expectStatus().isOk();

        // A callback of an attempt this dispatcher has seen end goes through the callbacks topic, answered once
        // appended: it is counted when the consumer has applied it, after its answer.
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(ignoredCallbacks("ringing") + ignoredCallbacks("completed")).isEqualTo(ignoredBefore + 2);
            assertThat(callbacksOf("busy")).as("the busy callback looked at").isEqualTo(busyBefore + 1);
        });
        assertThat(meters.counter("dialer.dispatcher.events", "type", "call.status").count())
                .isEqualTo(statusEventsBefore);
        assertThat(meters.counter("dialer.dispatcher.events", "type", "call.final").count())
                .isEqualTo(finalEventsBefore);
        assertThat(attemptRow(requestId)).containsEntry("status", "completed");
    }

    @Test
    void callbacksOfACallDialledHereAreAppliedWhereTheyArrive() {
        String requestId = newRequestId();
        double inPlaceBefore = routed("in_place");
        double topicBefore = routed("topic");

        fixture.produce(CALLER, command(requestId, CALLER, "+4915112345678", ""));

        assertThat(finals(fixture.awaitFinal(requestId))).singleElement()
                .satisfies(event -> assertThat(event.get("status").stringValue()).isEqualTo("answered"));
        // trying, ringing, in-progress and completed: this dispatcher owns the caller ID and dialled the call, so
        // none of them travelled through dialer.carrier.callbacks.
        // Counted once applied: the last one after the final it committed.
        await().atMost(WAIT).untilAsserted(() ->
                assertThat(routed("in_place")).isGreaterThanOrEqualTo(inPlaceBefore + 4));
        assertThat(routed("topic")).isEqualTo(topicBefore);
    }

    @Test
    void aCallbackAboutACallThisDispatcherNoLongerHoldsGoesThroughTheTopicToTheOwner() {
        String requestId = newRequestId();
        fixture.produce(CALLER, command(requestId, CALLER, "+4915112345678", ""));
        fixture.awaitFinal(requestId);
        ReceivedCall call = fixture.callsFor(requestId).get(0);
        double topicBefore = routed("topic");
        double ignoredBefore = ignoredCallbacks("completed");
        // The call ended, so this dispatcher no longer holds it: a repeat of its end, tagged as the dispatcher tagged
        // it (caller ID included), is appended for the caller ID's owner, which reads it back and ignores it.
        String repeated = """
                {"call_sid":"%s","call_status":"completed","sip_status":200,"sip_reason":"OK","customerData":%s}"""
                .formatted(call.callSid(), Contract.mapper().writeValueAsString(call.tag()));

        postSigned(repeated).expectStatus().isOk();

        assertThat(routed("topic")).isEqualTo(topicBefore + 1);
        await().atMost(WAIT).until(() -> fixture.records(Topics.CARRIER_CALLBACKS, CALLER).stream()
                .anyMatch(record -> record.value().contains(requestId)));
        await().atMost(WAIT).until(() -> ignoredCallbacks("completed") == ignoredBefore + 1);
    }

    @Test
    void callbackRecordsThatCannotBeReadGoToTheirDlqAndTheCallbacksAfterThemAreStillApplied() {
        double notJsonBefore = skippedCallbacks("not_json");
        double invalidBefore = skippedCallbacks("schema_invalid");
        fixture.send(new ProducerRecord<>(Topics.CARRIER_CALLBACKS, CALLER, "this is not JSON"));
        ProducerRecord<String, String> untagged = new ProducerRecord<>(Topics.CARRIER_CALLBACKS, CALLER,
                "{\"call_sid\":\"vg-untagged\",\"call_status\":\"completed\"}");
        untagged.headers().add("dialer.call-bound", "true".getBytes(StandardCharsets.UTF_8));
        fixture.send(untagged);

        await().atMost(WAIT).untilAsserted(() ->
                assertThat(fixture.records(Topics.CARRIER_CALLBACKS_DLQ, CALLER)).hasSize(2));
        List<ConsumerRecord<String, String>> dead = fixture.records(Topics.CARRIER_CALLBACKS_DLQ, CALLER).stream()
                .sorted(java.util.Comparator.comparingLong(
                        record -> Long.parseLong(header(record, Topics.HEADER_SOURCE_OFFSET))))
                .toList();
        assertThat(dead.get(0).value()).isEqualTo("this is not JSON");
        assertThat(header(dead.get(0), Topics.HEADER_ERROR_CODE)).isEqualTo("not_json");
        assertThat(header(dead.get(0), Topics.HEADER_SOURCE_TOPIC)).isEqualTo(Topics.CARRIER_CALLBACKS);
        assertThat(header(dead.get(1), Topics.HEADER_ERROR_CODE)).isEqualTo("schema_invalid");
        assertThat(header(dead.get(1), Topics.HEADER_ERROR_MESSAGE)).startsWith("customerData.request_id");
        assertThat(header(dead.get(1), "dialer.call-bound")).as("what the endpoint said of it").isEqualTo("true");
        // Counted once the broker's acknowledgement of each copy is back, which may be after a consumer read it.
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(skippedCallbacks("not_json")).isEqualTo(notJsonBefore + 1);
            assertThat(skippedCallbacks("schema_invalid")).isEqualTo(invalidBefore + 1);
        });

        // The partition goes on: a callback appended after them is applied (a repeat of a call's end, ignored).
        String requestId = newRequestId();
        fixture.produce(CALLER, command(requestId, CALLER, "+4915112345678", ""));
        fixture.awaitFinal(requestId);
        ReceivedCall call = fixture.callsFor(requestId).get(0);
        double ignoredBefore = ignoredCallbacks("completed");
        postSigned("""
                {"call_sid":"%s","call_status":"completed","sip_status":200,"sip_reason":"OK","customerData":%s}"""
                .formatted(call.callSid(), Contract.mapper().writeValueAsString(call.tag()))).expectStatus().isOk();
        await().atMost(WAIT).until(() -> ignoredCallbacks("completed") == ignoredBefore + 1);
    }

    @Test
    void aCallbackWhoseTagTheCallsApplicationReplacedReachesItsCallByItsCallSid() {
        String callSid = "vg-" + UUID.randomUUID();
        String requestId = ringingCall(callSid);
        // The call's application ran jambonz's tag verb: customerData is the customer's own from then on.
        postSigned("""
                {"call_sid":"%s","call_status":"no-answer","sip_status":487,"sip_reason":"Request Terminated",
                 "customerData":{"crm_step":"collect-dob"}}""".formatted(callSid)).expectStatus().isOk();

        List<JsonNode> events = fixture.awaitFinal(requestId);
        assertThat(statuses(events)).containsExactly("ringing", "no-answer");
        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(last.get("status").stringValue()).isEqualTo("exhausted"));
        assertThat(attemptRow(requestId)).containsEntry("status", "no-answer")
                .containsEntry("provider_call_id", callSid);
    }

    @Test
    void aCustomersTagNamingARequestAndAttemptOfItsOwnDoesNotHideTheCallsCallSid() {
        String callSid = "vg-" + UUID.randomUUID();
        String requestId = ringingCall(callSid);
        // The customer's flow tagged the call with ids of its own (a CRM case, a PIN-entry counter): not ours.
        postSigned("""
                {"call_sid":"%s","call_status":"busy","sip_status":486,"sip_reason":"Busy Here",
                 "customerData":{"request_id":"crm-881","attempt":2}}""".formatted(callSid)).expectStatus().isOk();

        List<JsonNode> events = fixture.awaitFinal(requestId);
        assertThat(statuses(events)).containsExactly("ringing", "busy");
        assertThat(attemptRow(requestId)).containsEntry("status", "busy").containsEntry("provider_call_id", callSid);
    }

    @Test
    void anAnsweredCallsDetectionAndEndReachItAfterItsApplicationReplacedTheTag() {
        String callSid = "vg-" + UUID.randomUUID();
        String requestId = ringingCall(callSid, Map.of("amd", Map.of("thresholdWordCount", 5)));
        postSigned(callback(requestId, callSid, "in-progress", 200, "OK")).expectStatus().isOk();
        String retagged = "\"customerData\":{\"crm_step\":\"greeting\",\"request_id\":7}";

        postSignedTo("/carrier/voice-gateway/amd", """
                {"type":"amd_machine_detected","call_sid":"%s",%s}""".formatted(callSid, retagged))
                .expectStatus().isOk();
        postSigned("""
                {"call_sid":"%s","call_status":"completed","sip_status":200,"sip_reason":"OK","duration":42,%s}"""
                .formatted(callSid, retagged)).expectStatus().isOk();

        List<JsonNode> events = fixture.awaitFinal(requestId);
        assertThat(statuses(events)).containsExactly("ringing", "in-progress", "in-progress", "completed");
        assertThat(finals(events)).singleElement().satisfies(last -> {
            assertThat(last.get("status").stringValue()).isEqualTo("answered");
            assertThat(last.get("answered_by").stringValue()).isEqualTo("machine");
            assertThat(last.get("duration_seconds").intValue()).isEqualTo(42);
            assertThat(last.get("provider_call_id").stringValue()).isEqualTo(callSid);
        });
    }

    @Test
    void aCallbackWithNeitherOurTagNorACallSidOnRecordNamesNoAttempt() {
        double unknownBefore = callbacks("completed", "unknown_attempt");

        postSigned("""
                {"call_sid":"vg-%s","call_status":"completed","customerData":{"crm_step":"bye"}}"""
                .formatted(UUID.randomUUID())).expectStatus().isNotFound();

        assertThat(callbacks("completed", "unknown_attempt")).isEqualTo(unknownBefore + 1);
    }

    @Test
    void aCallbackNamingAnotherRequestsAttemptFromAnotherCallLeavesThatAttemptAlone() {
        String callSid = "vg-" + UUID.randomUUID();
        String victim = ringingCall(callSid);
        double refusedBefore = callbacks("completed", "other_call");
        // Another call's application wrote this request's ids into its own call's data, which jambonz signs.
        String forged = """
                {"call_sid":"another-accounts-call","call_status":"completed","sip_status":200,"duration":3,
                 "customerData":{"request_id":"%s","attempt":1%s}}""";

        postSigned(forged.formatted(victim, "")).expectStatus().isOk();
        postSignedTo("/carrier/voice-gateway/amd", """
                {"type":"amd_human_detected","call_sid":"another-accounts-call",
                 "customerData":{"request_id":"%s","attempt":1}}""".formatted(victim)).expectStatus().isOk();

        assertThat(attemptRow(victim)).containsEntry("status", "ringing").containsEntry("provider_call_id", callSid);
        assertThat(db.sql("SELECT count(*) FROM dispatch.answered_by WHERE request_id = $1").bind(0, victim)
                .map(row -> row.get(0, Long.class)).one().block(WAIT)).isZero();
        assertThat(callbacks("completed", "other_call")).isEqualTo(refusedBefore + 1);

        // Tagged as the dispatcher tags (caller ID and dial): through the topic to the owner, refused there too.
        postSigned(forged.formatted(victim, ",\"caller_id\":\"" + CALLER + "\",\"dial\":1")).expectStatus().isOk();
        await().atMost(WAIT).until(() -> callbacks("completed", "other_call") == refusedBefore + 2);
        assertThat(attemptRow(victim)).containsEntry("status", "ringing").containsEntry("provider_call_id", callSid);
        assertThat(finals(fixture.eventsFor(victim))).isEmpty();

        // Its own call's end still ends it.
        postSigned(callback(victim, callSid, "busy", 486, "Busy Here")).expectStatus().isOk();
        assertThat(finals(fixture.awaitFinal(victim))).singleElement()
                .satisfies(last -> assertThat(last.get("provider_call_id").stringValue()).isEqualTo(callSid));
        assertThat(attemptRow(victim)).containsEntry("status", "busy").containsEntry("provider_call_id", callSid);
    }

    /**
     * An attempt placed with the Voice Gateway as {@code callSid} and ringing, recorded here as the command pipeline
     * records one, without the simulator: nothing but the test's callbacks moves it. Not retried: its end is final.
     */
    private String ringingCall(String callSid) {
        return ringingCall(callSid, Map.of());
    }

    private String ringingCall(String callSid, Map<String, Object> carrierOptions) {
        String requestId = newRequestId();
        CallCommand command = new CallCommand(1, requestId, "acc-it", CALLER, "+4915112345678", null, "welcome.wav",
                "it", 0, 1, 1, null, null, null, null, null, null, null, carrierOptions, Instant.now());
        assertThat(ledger.record(command).block(WAIT)).isTrue();
        assertThat(ledger.claimDial(requestId, 1).block(WAIT)).isEqualTo(1);
        ledger.storeProviderCallId(requestId, 1, 1, callSid, "voice-gateway").block(WAIT);
        postSigned(callback(requestId, callSid, "ringing", 180, "Ringing")).expectStatus().isOk();
        // Known by its call_sid (the tag names no caller ID), applied by the caller ID's owner.
        await().atMost(WAIT).untilAsserted(() -> assertThat(attemptRow(requestId)).containsEntry("status", "ringing"));
        return requestId;
    }

    @Test
    void readinessFollowsTheCommandPipeline() {
        Lifecycle pipeline = context.getBean("commandConsumerLifecycle", Lifecycle.class);
        pipeline.stop();
        try {
            client().get().uri("/actuator/health/readiness").exchange()
                    .expectStatus().isEqualTo(503)
                    .expectBody()
                    .jsonPath("$.status").isEqualTo("DOWN")
                    // Named, so that an operator sees which part is not ready.
                    .jsonPath("$.components.commandConsumer.status").isEqualTo("DOWN")
                    .jsonPath("$.components.policyViews.status").isEqualTo("UP");
        } finally {
            pipeline.start();
        }
        client().get().uri("/actuator/health/readiness").exchange()
                .expectStatus().isOk()
                .expectBody().jsonPath("$.status").isEqualTo("UP");
    }

    @Test
    void reportsReadyAndExposesDispatcherMetrics() {
        client().get().uri("/actuator/health/readiness").exchange()
                .expectStatus().isOk()
                .expectBody().jsonPath("$.status").isEqualTo("UP");
        String scrape = client().get().uri("/actuator/prometheus").exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        assertThat(scrape).contains("dialer_dispatcher_commands_total")
                .contains("dialer_dispatcher_carrier_requests_seconds_count")
                .contains("dialer_dispatcher_retries_total{reason=\"retry\",stage=\"scheduled\"}")
                .contains("dialer_dispatcher_retry_lateness_seconds_count");
    }

    private WebTestClient.ResponseSpec postSigned(String body) {
        return postSignedTo("/carrier/voice-gateway/status", body);
    }

    private WebTestClient.ResponseSpec postSignedTo(String path, String body) {
        return client().post().uri(path)
                .contentType(MediaType.APPLICATION_JSON)
                .header("Jambonz-Signature", signature(SECRET, body))
                .bodyValue(body)
                .exchange();
    }

    private static String callback(String requestId, String callSid, String status, int sip, String reason) {
        return """
                {"call_sid":"%s","call_status":"%s","sip_status":%d,"sip_reason":"%s",
                 "customerData":{"request_id":"%s","attempt":1}}""".formatted(callSid, status, sip, reason, requestId);
    }

    private double routed(String path) {
        return meters.counter("dialer.dispatcher.callbacks.routed", "path", path).count();
    }

    private double skippedCallbacks(String code) {
        return meters.counter("dialer.dispatcher.callbacks.skipped", "code", code).count();
    }

    private double ignoredCallbacks(String status) {
        return callbacks(status, "ignored");
    }

    /** Callbacks of {@code status} the dispatcher looked at, whatever it made of them. */
    private double callbacksOf(String status) {
        return meters.find("dialer.dispatcher.callbacks").tag("status", status).counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    private double callbacks(String status, String result) {
        return meters.counter("dialer.dispatcher.callbacks", "status", status, "result", result).count();
    }

    private Map<String, Object> attemptRow(String requestId) {
        return db.sql("SELECT status, provider_call_id FROM dispatch.attempts WHERE request_id = $1 AND attempt_no = 1")
                .bind(0, requestId)
                .fetch().one().block(WAIT);
    }

    private double dlqCount() {
        return meters.find("dialer.dispatcher.dlq").counters().stream().mapToDouble(c -> c.count()).sum();
    }

    private double commands(String outcome) {
        return meters.counter("dialer.dispatcher.commands", "outcome", outcome).count();
    }

    private WebTestClient client() {
        return WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(WAIT).build();
    }

    /** A command as upstream producers write it: the documented snake_case JSON of call-command.v1.json. */
    private static String command(String requestId, String callerId, String to, String extraFields) {
        return """
                {"version":1,"request_id":"%s","account_id":"acc-it","caller_id":"%s","to":"%s",
                 "audio":"welcome.wav","campaign":"it","variables":{"otp":"918273"},%s
                 "created_at":"2025-06-01T12:00:00Z"}""".formatted(requestId, callerId, to, extraFields);
    }

    private static String newRequestId() {
        return "it-" + UUID.randomUUID();
    }

    private static String header(ConsumerRecord<String, String> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
