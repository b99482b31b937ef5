package dev.dialer.dispatcher.policy;

import static dev.dialer.dispatcher.CallEventsJson.deferred;
import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.ofType;
import static dev.dialer.dispatcher.CallEventsJson.statusEvent;
import static dev.dialer.dispatcher.CallEventsJson.statuses;
import static dev.dialer.dispatcher.CallEventsJson.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.DispatcherFixture;
import dev.dialer.dispatcher.SpiedBeans;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.Transition;
import dev.dialer.simulator.SimulatorSettings;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mockito.stubbing.Answer;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import tools.jackson.databind.JsonNode;

/**
 * Cancels of calls that are live at the carrier, end to end (controls on {@code dialer.call.control}, the carrier
 * simulator over HTTP behind a proxy that can refuse a hang-up, or hold or refuse a create-call request), including
 * the cancels that cross something: a hang-up the carrier refuses, a dial that the cancel could not reach or that the
 * carrier refused, an attempt's end that a cancel crosses. Where an interleaving must be forced, a ledger statement
 * is held (the ledger bean is wrapped in a spy, built once before the application uses it, that delays the real
 * statement until the test lets it go), never replaced.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=dispatcher-service",
        // A capacity rejection halves the trunk's limit (a cancelled call's too): from a limit of its own, not from
        // the calls in flight at that moment, which a long-ringing call of another test would then hold alone.
        "dialer.dispatcher.pacing.trunk-concurrency=1000"})
@DirtiesContext
class CancelAtTheCarrierIT {

    /** Numbers ending in 1 ring until the request's timeout (60 s): far longer than any wait here. */
    private static final String RINGS_LONG = "+4915112345671";
    /** Busy after {@link #RING}. */
    private static final String BUSY = "+4915112345670";
    /** Refused for capacity (503 "Max Account Calls In Progress") in a callback after the carrier's 201. */
    private static final String REFUSED_FOR_CAPACITY = "+4915112345673";
    /** Answered after {@link #RING}, then talks for half a second. */
    private static final String ANSWERING = "+4915112345678";
    private static final Duration RING = Duration.ofSeconds(3);
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, SimulatorSettings.defaults()
            .withRingTime(RING).withTalkTime(Duration.ofMillis(500)));

    private static CarrierProxy proxy;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        DispatcherFixture.infrastructure(registry);
        proxy = new CarrierProxy(fixture.startCarrier().baseUrl());
        registry.add("dialer.dispatcher.carrier.base-url", proxy::baseUrl);
        registry.add("dialer.dispatcher.policy.control-claim-lease", () -> "PT2S");
    }

    @AfterAll
    static void stopProxy() {
        proxy.close();
    }

    /** Retries scheduled for these requests wait, before their statement runs, until the test lets them go. */
    private static final Map<String, Hold> HELD_RETRIES = new ConcurrentHashMap<>();
    /** A cancel's read of these requests' live attempt (once their carrier id is sought) waits likewise. */
    private static final Map<String, Hold> HELD_LIVE_READS = new ConcurrentHashMap<>();

    @TestConfiguration
    static class HeldStatements {

        @Bean
        static BeanPostProcessor holdingRetries() {
            return SpiedBeans.around(AttemptLedger.class, holding(Set.of("transitionAndSchedule", "requeueForCapacity"),
                    arguments -> arguments[0] instanceof Transition change ? change.requestId() : (String) arguments[0],
                    HELD_RETRIES));
        }

        @Bean
        static BeanPostProcessor holdingLiveReads() {
            return SpiedBeans.around(PolicyLedger.class, holding(Set.of("liveAttempt"),
                    arguments -> (String) arguments[0], HELD_LIVE_READS));
        }
    }

    /** Every call to the real method; {@code methods} wait, for a request held in {@code holds}, before they run. */
    private static Answer<Object> holding(Set<String> methods, Function<Object[], String> requestOf,
                                          Map<String, Hold> holds) {
        return invocation -> {
            Object result = invocation.callRealMethod();
            Hold hold = methods.contains(invocation.getMethod().getName())
                    ? holds.get(requestOf.apply(invocation.getArguments())) : null;
            return hold == null ? result : hold.pass().then((Mono<?>) result);
        };
    }

    @Autowired
    DatabaseClient db;

    @Autowired
    MeterRegistry meters;

    @Test
    void hangUpTheCarrierRefusesIsOrderedAgainAndTheRingingCallEndsCanceled() {
        String requestId = "refused-" + UUID.randomUUID();
        fixture.produce("+4930777501", command(requestId, "+4930777501", RINGS_LONG, 0));
        await().atMost(WAIT).until(() -> statuses(fixture.eventsFor(requestId)).contains("ringing"));
        double failedBefore = hangUps("failed");
        // Only this call's hang-up is refused: another test's call may be hung up meanwhile, refused or not.
        String callSid = providerCallId(requestId);
        proxy.refuseNextHangUpsOf(callSid, 1);

        CallControl control = cancel(requestId);
        publish(control);

        await().atMost(WAIT).untilAsserted(() -> assertThat(proxy.hangUps()).filteredOn(uri -> uri.endsWith(callSid))
                .as("the refused order is given again").hasSizeGreaterThanOrEqualTo(2));
        List<JsonNode> events = fixture.awaitFinal(requestId);
        assertThat(statuses(events)).endsWith("ringing", "canceled");
        assertThat(statusEvent(events, "canceled").get("sip_status").intValue()).isEqualTo(487);
        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("canceled"));
        // At least: a call another test left refusing its hang-ups may be given up on meanwhile.
        assertThat(hangUps("failed")).isGreaterThanOrEqualTo(failedBefore + 1);
        await().atMost(WAIT).until(() -> "hung_up".equals(settled(control)));
    }

    @Test
    void aCancelWhoseClaimantStoppedBeforeActingIsTakenOverWithoutARestart() {
        String requestId = "orphaned-" + UUID.randomUUID();
        fixture.produce("+4930777504", command(requestId, "+4930777504", RINGS_LONG, 0));
        await().atMost(WAIT).until(() -> statuses(fixture.eventsFor(requestId)).contains("ringing"));
        CallControl control = cancel(requestId);
        // Another dispatcher claimed the cancel just now and stopped before it acted: its claim is never renewed.
        db.sql("INSERT INTO dispatch.applied_controls (control_id, outcome) VALUES ($1, 'claimed')")
                .bind(0, control.controlId()).then().block(WAIT);

        publish(control);

        List<JsonNode> events = fixture.awaitFinal(requestId);
        assertThat(statuses(events)).endsWith("ringing", "canceled");
        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("canceled"));
        await().atMost(WAIT).until(() -> "hung_up".equals(settled(control)));
    }

    @Test
    void callThatRingsAlthoughItsRequestWasCancelledIsCancelledAtTheCarrier() {
        String requestId = "crossed-dial-" + UUID.randomUUID();
        Hold create = proxy.holdCreate(requestId);
        fixture.produce("+4930777502", command(requestId, "+4930777502", RINGS_LONG, 0));
        create.reached().join();

        // The dial is claimed and on its way to the carrier; a cancel marks the request now, and (as when its own
        // order could not reach the carrier) nothing else: only the call's first statuses can end it.
        db.sql("UPDATE dispatch.requests SET cancel_requested_at = now() WHERE request_id = $1").bind(0, requestId)
                .then().block(WAIT);
        create.release();

        await().atMost(WAIT).untilAsserted(() -> assertThat(proxy.hangUps()).isNotEmpty());
        List<JsonNode> events = fixture.awaitFinal(requestId);
        assertThat(statuses(events)).endsWith("canceled");
        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("canceled"));
    }

    @Test
    void createCallRefusedForCapacityThatCrossesACancelEndsTheRequestCanceledWithoutADeferral() {
        String requestId = "crossed-429-" + UUID.randomUUID();
        double rejectionsBefore = meters.counter("dialer.dispatcher.capacity.rejections").count();

        // The carrier answers that it has no room.
        CallControl control = cancelWhileTheCarrierRefusesTheDial(requestId, "+4930777507", 429);

        List<JsonNode> events = fixture.awaitFinal(requestId);
        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("canceled"));
        assertThat(deferred(events)).as("no deferral announced for a request that was cancelled").isEmpty();
        assertThat(statusEvent(events, "failed").path("error").path("code").asString()).isEqualTo("carrier_error");
        assertThat(scheduled(requestId)).as("no requeue waits").isZero();
        assertThat(fixture.callsFor(requestId)).as("nobody was called").isEmpty();
        // Counted once the attempt's end is committed, which may be after its final is read.
        await().atMost(WAIT).untilAsserted(() -> assertThat(meters.counter("dialer.dispatcher.capacity.rejections")
                .count()).as("the carrier had no room all the same").isEqualTo(rejectionsBefore + 1));
        await().atMost(WAIT).until(() -> "applied".equals(settled(control)));
    }

    @Test
    void createCallTheCarrierRefusesThatCrossesACancelEndsTheRequestCanceledNotTooLate() {
        String requestId = "crossed-400-" + UUID.randomUUID();

        // The carrier refuses the call for good.
        CallControl control = cancelWhileTheCarrierRefusesTheDial(requestId, "+4930777508", 400);

        List<JsonNode> events = fixture.awaitFinal(requestId);
        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("canceled"));
        assertThat(statusEvent(events, "failed").path("error").path("code").asString()).isEqualTo("carrier_error");
        assertThat(fixture.callsFor(requestId)).as("nobody was called").isEmpty();
        await().atMost(WAIT).until(() -> "applied".equals(settled(control)));
        assertThat(ofType(fixture.eventsFor(requestId), "call.cancel_rejected")).as("the cancel was not too late")
                .isEmpty();
    }

    /**
     * Dials a request whose create-call the carrier will answer {@code status}, and cancels it while the dial is on its
     * way: the cancel has marked the request when the carrier's answer comes back. The cancel, published.
     */
    private CallControl cancelWhileTheCarrierRefusesTheDial(String requestId, String callerId, int status) {
        Hold create = proxy.holdCreate(requestId);
        proxy.refuseCreate(requestId, status);
        fixture.produce(callerId, command(requestId, callerId, RINGS_LONG, 0));
        create.reached().join();
        CallControl control = cancel(requestId);
        publish(control);
        await().atMost(WAIT).until(() -> cancelMarked(requestId));
        create.release();
        return control;
    }

    @Test
    void retryableEndThatCrossesACancelEndsTheRequestCanceledWithoutARetry() {
        String requestId = "crossed-retry-" + UUID.randomUUID();
        Hold retry = new Hold();
        HELD_RETRIES.put(requestId, retry);
        fixture.produce("+4930777503", command(requestId, "+4930777503", BUSY, 5));
        // The busy callback has read that no cancel reached the request, and is about to schedule the retry.
        retry.reached().join();

        CallControl control = cancel(requestId);
        publish(control);
        await().atMost(WAIT).until(() -> settled(control) != null && !"claimed".equals(settled(control)));
        retry.release();

        List<JsonNode> events = fixture.awaitFinal(requestId);
        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("canceled"));
        assertThat(statuses(events)).doesNotContain("busy").endsWith("canceled");
        assertThat(scheduled(requestId)).as("no retry waits").isZero();
        assertThat(fixture.callsFor(requestId)).as("dialled once").hasSize(1);
    }

    @Test
    void capacityRejectionThatCrossesACancelEndsTheRequestCanceledWithoutARequeue() {
        String requestId = "crossed-capacity-" + UUID.randomUUID();
        double rejectionsBefore = meters.counter("dialer.dispatcher.capacity.rejections").count();
        Hold requeue = new Hold();
        HELD_RETRIES.put(requestId, requeue);
        fixture.produce("+4930777504", command(requestId, "+4930777504", REFUSED_FOR_CAPACITY, 0));
        // The capacity rejection has read that no cancel reached the request, and is about to requeue the attempt.
        requeue.reached().join();

        CallControl control = cancel(requestId);
        publish(control);
        await().atMost(WAIT).until(() -> settled(control) != null && !"claimed".equals(settled(control)));
        requeue.release();

        List<JsonNode> events = fixture.awaitFinal(requestId);
        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("canceled"));
        assertThat(deferred(events)).as("no deferral announced after the cancel").isEmpty();
        assertThat(scheduled(requestId)).as("no requeue waits").isZero();
        assertThat(statusEvent(events, "canceled").path("reason").asString()).isEqualTo("capacity");
        assertThat(db.sql("""
                        SELECT count(*) FROM dispatch.attempts
                         WHERE request_id = $1 AND carrier_asked_at IS NOT NULL""")
                .bind(0, requestId).map(row -> row.get(0, Long.class)).one().block(WAIT))
                .as("it rang nobody: no per-callee cap counts it").isZero();
        // Counted once the attempt's end is committed, which may be after its final is read.
        await().atMost(WAIT).untilAsserted(() -> assertThat(meters.counter("dialer.dispatcher.capacity.rejections")
                .count()).as("the carrier had no room all the same: the trunk's limit shrinks")
                .isEqualTo(rejectionsBefore + 1));
    }

    @Test
    void attemptThatEndsOtherwiseWhileTheCancelIsOnItsWayIsToldTooLate() {
        String requestId = "crossed-end-" + UUID.randomUUID();
        fixture.produce("+4930777504", command(requestId, "+4930777504", ANSWERING, 0));
        await().atMost(WAIT).until(() -> statuses(fixture.eventsFor(requestId)).contains("ringing"));
        Hold liveRead = new Hold();
        HELD_LIVE_READS.put(requestId, liveRead);

        publish(cancel(requestId));
        // The cancel found the call ringing and is about to look for its carrier id; meanwhile it is answered and ends.
        liveRead.reached().join();
        assertThat(text(fixture.awaitEvent(requestId, "call.final"), "status")).isEqualTo("answered");
        liveRead.release();

        JsonNode rejected = fixture.awaitEvent(requestId, "call.cancel_rejected");
        assertThat(text(rejected, "reason")).isEqualTo("too_late");
        assertThat(text(rejected, "status")).isEqualTo("answered");
        assertThat(ofType(fixture.eventsFor(requestId), "call.final")).hasSize(1);
    }

    @Test
    void campaignCancelGoesOnPastARequestWhoseCallCannotBeCancelledAndIsActedOnAgain() {
        String campaign = "camp-" + UUID.randomUUID();
        String stuck = "stuck-" + UUID.randomUUID();
        String other = "other-" + UUID.randomUUID();
        // Accepted, and cancelled, long enough ago that the calls' ring timeout has passed: a failed hang-up is not
        // ordered again, it fails the request's cancel at once.
        Instant accepted = Instant.now().minus(Duration.ofMinutes(3));
        fixture.produce("+4930777505", campaignCommand(stuck, "+4930777505", campaign, accepted));
        fixture.produce("+4930777506", campaignCommand(other, "+4930777506", campaign, accepted));
        await().atMost(WAIT).until(() -> statuses(fixture.eventsFor(stuck)).contains("ringing")
                && statuses(fixture.eventsFor(other)).contains("ringing"));
        proxy.refuseHangUpsOf(providerCallId(stuck));
        Hold otherRead = new Hold();
        HELD_LIVE_READS.put(other, otherRead);
        double failedBefore = hangUps("failed");
        double givenBackBefore = controls("failed");

        CallControl control = new CallControl(CallControl.VERSION, UUID.randomUUID().toString(),
                CallControl.Action.CANCEL, CallControl.Scope.CAMPAIGN, "acc-cancel", null, campaign,
                accepted.plus(Duration.ofMinutes(1)));
        publish(control);
        // The other request's cancel waits until the stuck one's has failed.
        otherRead.reached().join();
        await().atMost(WAIT).until(() -> hangUps("failed") >= failedBefore + 1);
        otherRead.release();

        assertThat(text(fixture.awaitEvent(other, "call.final"), "status")).isEqualTo("canceled");
        await().atMost(WAIT).until(() -> controls("failed") >= givenBackBefore + 1);
        assertThat(settled(control)).as("given back, to be acted on again").isNull();
    }

    private double controls(String outcome) {
        return meters.counter("dialer.dispatcher.controls", "action", "cancel", "outcome", outcome).count();
    }

    private String providerCallId(String requestId) {
        return db.sql("SELECT provider_call_id FROM dispatch.attempts WHERE request_id = $1 AND attempt_no = 1")
                .bind(0, requestId).map(row -> row.get(0, String.class)).one().block(WAIT);
    }

    private static String campaignCommand(String requestId, String caller, String campaign, Instant createdAt) {
        return """
                {"version":1,"request_id":"%s","account_id":"acc-cancel","caller_id":"%s","to":"%s",
                 "audio":"welcome.wav","campaign":"%s","created_at":"%s"}"""
                .formatted(requestId, caller, RINGS_LONG, campaign, createdAt);
    }

    private double hangUps(String result) {
        return meters.counter("dialer.dispatcher.cancel.hangups", "result", result).count();
    }

    /** The control's outcome in {@code dispatch.applied_controls}; null while nobody claimed it. */
    private String settled(CallControl control) {
        return db.sql("SELECT outcome FROM dispatch.applied_controls WHERE control_id = $1")
                .bind(0, control.controlId())
                .map(row -> Optional.ofNullable(row.get(0, String.class)))
                .one()
                .defaultIfEmpty(Optional.empty())
                .block(WAIT)
                .orElse(null);
    }

    private boolean cancelMarked(String requestId) {
        return db.sql("SELECT cancel_requested_at IS NOT NULL FROM dispatch.requests WHERE request_id = $1")
                .bind(0, requestId).map(row -> row.get(0, Boolean.class)).one().block(WAIT);
    }

    private long scheduled(String requestId) {
        return db.sql("SELECT count(*) FROM dispatch.schedule WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    private static CallControl cancel(String requestId) {
        return new CallControl(CallControl.VERSION, UUID.randomUUID().toString(), CallControl.Action.CANCEL,
                CallControl.Scope.REQUEST, "acc-cancel", requestId, null, Instant.now());
    }

    private static void publish(CallControl control) {
        fixture.send(new ProducerRecord<>(Topics.CALL_CONTROL, control.key(), Contract.toJson(control)));
    }

    private static String command(String requestId, String caller, String to, int intervalMinutes) {
        return """
                {"version":1,"request_id":"%s","account_id":"acc-cancel","caller_id":"%s","to":"%s",
                 "audio":"welcome.wav","interval_minutes":%d,"max_attempts":3,"created_at":"%s"}"""
                .formatted(requestId, caller, to, intervalMinutes, Instant.now());
    }

    /** A point a test holds a step at: {@link #reached} once the step waits there, until {@link #release}. */
    static final class Hold {

        private final CompletableFuture<Void> reached = new CompletableFuture<>();
        private final CompletableFuture<Void> released = new CompletableFuture<>();

        /** Completes once released; notes that the step got here. */
        Mono<Void> pass() {
            return Mono.defer(() -> {
                reached.complete(null);
                return Mono.fromFuture(released, true);
            });
        }

        CompletableFuture<Void> reached() {
            return reached.orTimeout(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        }

        void release() {
            released.complete(null);
        }
    }

    /**
     * The Voice Gateway API as the dispatcher sees it: the simulator's, passed through, except that the next hang-ups
     * ({@code PUT …/Calls/{sid}}) can be refused with a 503, and a create-call request for a given request id can be
     * held before it reaches the simulator, or answered with a status of the test's choosing instead.
     */
    static final class CarrierProxy implements AutoCloseable {

        private final String target;
        private final HttpClient client = HttpClient.create();
        private final Map<String, AtomicInteger> refuseNext = new ConcurrentHashMap<>();
        private final List<String> refusedCalls = new CopyOnWriteArrayList<>();
        private final List<String> hangUps = new CopyOnWriteArrayList<>();
        private final Map<String, Hold> heldCreates = new ConcurrentHashMap<>();
        private final Map<String, Integer> refusedCreates = new ConcurrentHashMap<>();
        private final DisposableServer server;

        CarrierProxy(String target) {
            this.target = target;
            this.server = HttpServer.create().host("127.0.0.1").port(0)
                    .handle((request, response) -> request.receive().aggregate().asByteArray()
                            .defaultIfEmpty(new byte[0])
                            .flatMap(body -> answer(request, body))
                            .flatMap(reply -> response.status(reply.status())
                                    .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                                    .sendByteArray(Mono.just(reply.body())).then()))
                    .bindNow();
        }

        String baseUrl() {
            return "http://127.0.0.1:" + server.port();
        }

        /** The next {@code count} hang-ups of this call are refused. */
        void refuseNextHangUpsOf(String callSid, int count) {
            refuseNext.put(callSid, new AtomicInteger(count));
        }

        /** Every hang-up of this call is refused. */
        void refuseHangUpsOf(String callSid) {
            refusedCalls.add(callSid);
        }

        /** The hang-ups asked for so far, refused or passed on. */
        List<String> hangUps() {
            return List.copyOf(hangUps);
        }

        /** The create-call for this request is answered {@code status}, and not passed on. */
        void refuseCreate(String requestId, int status) {
            refusedCreates.put(requestId, status);
        }

        Hold holdCreate(String requestId) {
            Hold hold = new Hold();
            heldCreates.put(requestId, hold);
            return hold;
        }

        private Mono<Reply> answer(HttpServerRequest request, byte[] body) {
            if (request.method() == HttpMethod.PUT) {
                hangUps.add(request.uri());
                if (refusedCalls.stream().anyMatch(request.uri()::endsWith) || refuseNext.entrySet().stream()
                        .filter(next -> request.uri().endsWith(next.getKey())).findFirst()
                        .map(next -> next.getValue().getAndUpdate(left -> Math.max(0, left - 1)) > 0)
                        .orElse(false)) {
                    return Mono.just(new Reply(503, "{\"msg\":\"service unavailable\"}"
                            .getBytes(StandardCharsets.UTF_8)));
                }
            }
            return heldUntilReleased(request, body).then(Mono.defer(() -> refusedCreate(request, body)
                    .map(status -> Mono.just(new Reply(status, "{\"msg\":\"too many requests\"}"
                            .getBytes(StandardCharsets.UTF_8))))
                    .orElseGet(() -> forward(request, body))));
        }

        private Optional<Integer> refusedCreate(HttpServerRequest request, byte[] body) {
            String json = new String(body, StandardCharsets.UTF_8);
            return request.method() != HttpMethod.POST ? Optional.empty() : refusedCreates.entrySet().stream()
                    .filter(refused -> json.contains(refused.getKey())).findFirst().map(Map.Entry::getValue);
        }

        private Mono<Void> heldUntilReleased(HttpServerRequest request, byte[] body) {
            if (request.method() != HttpMethod.POST) {
                return Mono.empty();
            }
            String json = new String(body, StandardCharsets.UTF_8);
            return heldCreates.entrySet().stream().filter(held -> json.contains(held.getKey())).findFirst()
                    .map(held -> held.getValue().pass())
                    .orElse(Mono.empty());
        }

        private Mono<Reply> forward(HttpServerRequest request, byte[] body) {
            HttpClient.RequestSender sender = client.headers(headers -> {
                        String type = request.requestHeaders().get(HttpHeaderNames.CONTENT_TYPE);
                        if (type != null) {
                            headers.set(HttpHeaderNames.CONTENT_TYPE, type);
                        }
                    })
                    .request(request.method())
                    .uri(target + request.uri());
            HttpClient.ResponseReceiver<?> sent = body.length == 0 ? sender
                    : sender.send(ByteBufFlux.fromString(Mono.just(new String(body, StandardCharsets.UTF_8))));
            return sent.responseSingle((response, content) -> content.asByteArray().defaultIfEmpty(new byte[0])
                    .map(bytes -> new Reply(response.status().code(), bytes)));
        }

        @Override
        public void close() {
            server.disposeNow();
        }

        private record Reply(int status, byte[] body) {
        }
    }
}
