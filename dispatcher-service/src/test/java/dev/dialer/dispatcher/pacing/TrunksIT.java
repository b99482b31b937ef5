package dev.dialer.dispatcher.pacing;

import static dev.dialer.dispatcher.CallEventsJson.deferred;
import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.dispatcher.DispatcherFixture;
import dev.dialer.simulator.CarrierSimulator;
import dev.dialer.simulator.ReceivedCall;
import dev.dialer.simulator.SimulatorSettings;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A trunk per carrier, end to end: three carriers of the route table, each with its own trunk limits. {@code limited}
 * (the default route, the fixture's simulator) takes one call at a time and rejects more for capacity; {@code roomy}
 * takes any; {@code down} is a closed port, the first carrier of the route of {@code +4916…} numbers, which fail over
 * to {@code roomy}. {@code roomy} is on an account of its own, which signs its callbacks with its own secret, and every
 * tag is sealed ({@code tag-keys}, decision 0149).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=dispatcher-service",
        "dialer.dispatcher.carrier.routing.order=limited",
        "dialer.dispatcher.carrier.routing.prefixes[+4916]=down,roomy",
        "dialer.dispatcher.carrier.routing.prefixes[+4917]=down,mute",
        "dialer.dispatcher.pacing.trunks.mute.concurrency=3",
        "dialer.dispatcher.carrier.request-timeout=PT1S",
        "dialer.dispatcher.pacing.trunks.limited.concurrency=4",
        "dialer.dispatcher.pacing.trunks.roomy.concurrency=6",
        "dialer.dispatcher.pacing.trunks.down.concurrency=2",
        "dialer.dispatcher.pacing.capacity-requeue-delay=PT0.5S",
        "dialer.dispatcher.carrier.routing.carriers.roomy.webhook-secret=" + TrunksIT.ROOMY_SECRET,
        "dialer.dispatcher.carrier.tag-keys=trunks-tag-key",
        // down's breaker stays closed between the tests, whatever they take: its trunk paces the +4916 calls.
        "dialer.dispatcher.carrier.routing.guard.probe-idle-after=PT0S"})
@DirtiesContext
class TrunksIT {

    private static final Duration WAIT = Duration.ofSeconds(40);
    private static final String SECRET = "s3cret";
    static final String ROOMY_SECRET = "roomy-s3cret";
    private static final SimulatorSettings CALLS = SimulatorSettings.defaults().withWebhookSecret(SECRET)
            .withRingTime(Duration.ofMillis(100)).withTalkTime(Duration.ofMillis(1_500));

    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, CALLS.withMaxCalls(1));

    private static CarrierSimulator roomy;
    private static DisposableServer mute;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) throws Exception {
        fixture.register(registry);
        roomy = CarrierSimulator.start(CALLS.withWebhookSecret(ROOMY_SECRET));
        String down = "http://127.0.0.1:" + closedPort();
        registry.add("dialer.dispatcher.carrier.routing.carriers.limited.base-url", fixture.simulator()::baseUrl);
        registry.add("dialer.dispatcher.carrier.routing.carriers.roomy.base-url", roomy::baseUrl);
        registry.add("dialer.dispatcher.carrier.routing.carriers.down.base-url", () -> down);
        // Takes the request and never answers: a call it may have placed.
        mute = HttpServer.create().host("127.0.0.1").port(0)
                .handle((request, response) -> request.receive().then(Mono.never()))
                .bindNow();
        registry.add("dialer.dispatcher.carrier.routing.carriers.mute.base-url",
                () -> "http://127.0.0.1:" + mute.port());
    }

    @AfterAll
    static void stopRoomy() {
        roomy.close();
        mute.disposeNow();
    }

    @Autowired
    Lanes lanes;

    @Autowired
    MeterRegistry meters;

    @Autowired
    DatabaseClient db;

    @LocalServerPort
    int port;

    @Test
    void aCapacityRejectionHalvesOnlyTheLimitOfTheTrunkWhoseCarrierRejected() {
        String first = send("+4930555101", "+4915112345678");
        String second = send("+4930555102", "+4915112345668");

        // limited takes one call at a time: one of the two is rejected for capacity while the other talks, waits,
        // and is dialled again.
        await().atMost(WAIT).until(() -> !deferred(fixture.eventsFor(first)).isEmpty()
                || !deferred(fixture.eventsFor(second)).isEmpty());
        // The trunk learns of the rejection once the deferral is committed, which may be after its event is read.
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(lanes.trunks().gate("limited").capacityRejections()).isPositive();
            assertThat(lanes.trunks().gate("limited").currentLimit()).as("halved at least once").isLessThan(4);
        });
        assertThat(lanes.trunks().gate("roomy").currentLimit()).isEqualTo(6);
        assertThat(lanes.trunks().gate("roomy").capacityRejections()).isZero();
        assertThat(lanes.trunks().gate("down").currentLimit()).isEqualTo(2);

        for (String requestId : List.of(first, second)) {
            assertThat(finals(fixture.awaitFinal(requestId))).singleElement()
                    .satisfies(last -> assertThat(text(last, "status")).isEqualTo("answered"));
        }
        assertThat(roomy.calls()).isEmpty();
        assertThat(meters.get("dialer.dispatcher.trunk.concurrency.limit").tag("trunk", "roomy").gauge().value())
                .isEqualTo(6.0);
    }

    @Test
    void aCallTheFirstCarrierOfItsRouteCouldNotTakeHoldsItsSlotOnTheTrunkOfTheCarrierThatPlacedIt() {
        double pacedByDown = startedOn("down");
        String requestId = send("+4930555103", "+4916012345678");
        String slot = TrunkGate.slotKey(requestId, 1);

        // Paced by down's trunk, the route's first carrier; placed by roomy, where its slot is held while it talks.
        await().atMost(WAIT).until(() -> lanes.trunks().gate("roomy").holds(slot));
        assertThat(lanes.trunks().gate("down").holds(slot)).isFalse();
        assertThat(startedOn("down")).isEqualTo(pacedByDown + 1);
        assertThat(db.sql("SELECT carrier FROM dispatch.attempts WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, String.class)).one().block(WAIT)).isEqualTo("roomy");

        assertThat(finals(fixture.awaitFinal(requestId))).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("answered"));
        await().atMost(WAIT).until(() -> !lanes.trunks().holds(slot));
        assertThat(roomy.calls()).singleElement()
                .satisfies(call -> assertThat(call.tag()).containsEntry("request_id", requestId));
    }

    @Test
    void aCallTheCarrierItFailedOverToMayHavePlacedHoldsItsSlotOnThatCarriersTrunk() {
        String requestId = send("+4930555104", "+4917012345678");
        String slot = TrunkGate.slotKey(requestId, 1);

        // Paced by down's trunk; mute took the request and never answered: the call may be ringing there.
        await().atMost(WAIT).until(() -> lanes.trunks().gate("mute").holds(slot));
        assertThat(lanes.trunks().gate("down").holds(slot)).isFalse();
        assertThat(lanes.trunks().gate("mute").inFlight()).isEqualTo(1);
        assertThat(db.sql("SELECT status FROM dispatch.attempts WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, String.class)).one().block(WAIT)).as("open, left to reconciliation")
                .isEqualTo("queued");
        assertThat(db.sql("SELECT count(*) FROM dispatch.schedule WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, Long.class)).one().block(WAIT)).as("never to be dialled again").isZero();
    }

    @Test
    void aCarrierAccountsSecretSignsCallbacksOnlyAboutTheTagsThatAccountWasGiven() {
        double refusedBefore = refused("seal");
        String requestId = send("+4930555104", "+4915112345678");
        ReceivedCall placed = await().atMost(WAIT).until(() -> fixture.simulator().calls().stream()
                .filter(call -> requestId.equals(call.tag().get("request_id"))).findFirst(), Optional::isPresent).get();
        assertThat(placed.tag()).containsEntry("carrier", "limited").containsKey("seal");

        // roomy's account, whose signature is valid, writes about limited's call, whose call id it does not know:
        // without the seal, then with the seal of another dial of it, then with the call's own seal on a tag of
        // another caller ID.
        Map<String, Object> unsealed = new LinkedHashMap<>(placed.tag());
        unsealed.remove("seal");
        Map<String, Object> otherDial = new LinkedHashMap<>(placed.tag());
        otherDial.put("dial", 2);
        Map<String, Object> otherCaller = new LinkedHashMap<>(placed.tag());
        otherCaller.put("caller_id", "+4930555105");
        for (Map<String, Object> tag : List.of(unsealed, otherDial, otherCaller)) {
            postSignedByRoomy(tag, UUID.randomUUID().toString())
                    .expectStatus().isForbidden()
                    .expectBody().jsonPath("$.field").isEqualTo("customerData.seal");
        }

        assertThat(refused("seal")).isEqualTo(refusedBefore + 3);
        assertThat(finals(fixture.awaitFinal(requestId))).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("answered"));
        assertThat(fixture.eventsFor(requestId)).noneMatch(event -> "failed".equals(text(event, "status")));
    }

    private WebTestClient.ResponseSpec postSignedByRoomy(Map<String, Object> tag, String callSid) {
        Map<String, Object> callback = new LinkedHashMap<>();
        callback.put("call_sid", callSid);
        callback.put("call_status", "failed");
        callback.put("sip_status", 404);
        callback.put("customerData", tag);
        String body = JsonMapper.builder().build().writeValueAsString(callback);
        return WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(WAIT).build()
                .post().uri("/carrier/voice-gateway/status")
                .contentType(MediaType.APPLICATION_JSON)
                .header("Jambonz-Signature", DispatcherFixture.signature(ROOMY_SECRET, body))
                .bodyValue(body)
                .exchange();
    }

    private double refused(String reason) {
        var counter = meters.find("dialer.dispatcher.callbacks.rejected").tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    private double startedOn(String trunk) {
        var counter = meters.find("dialer.dispatcher.dials.started").tag("trunk", trunk).counter();
        return counter == null ? 0 : counter.count();
    }

    private static String send(String callerId, String to) {
        String requestId = "trunks-" + UUID.randomUUID();
        CallCommand command = new CallCommand(CallCommand.VERSION, requestId, "acc-trunks", callerId, to, null,
                "welcome.wav", null, 0, 0, 1, null, null, Map.of(), null, null, null, null, Map.of(), Instant.now());
        fixture.produce(callerId, Contract.toJson(command));
        return requestId;
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
