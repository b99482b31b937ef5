package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.deferred;
import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.statusEvent;
import static dev.dialer.dispatcher.CallEventsJson.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.AccountSettings.CallingWindow;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.policy.DialGate;
import dev.dialer.simulator.CarrierSimulator;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import tools.jackson.databind.JsonNode;

/**
 * A carrier that cannot be reached places no call, so the call waits and is dialled again under the same attempt
 * number instead of failing: against a port where nothing listens at first, then the real simulator started there.
 */
class CarrierUnavailableIT extends CarrierDown {

    private static final String CALLER = "+4930777222";
    private static final String OTHER_CALLER = "+4930777223";
    private static final String WINDOW_CALLER = "+4930777224";
    private static final String LIMITED_CALLER = "+4930777225";
    private static final String EXPIRING_CALLER = "+4930777226";
    private static final String GARBLED_CALLER = "+4930777227";

    @Autowired
    MeterRegistry meters;

    @Autowired
    DialGate gate;

    @DynamicPropertySource
    static void waits(DynamicPropertyRegistry registry) {
        // Waits of about 1, 1, 2 and 4 s (each as long as the call has waited), then it fails.
        registry.add("dialer.dispatcher.retry.carrier-unavailable-max-wait", () -> "PT8S");
        // The refused connections would otherwise open the carrier's breaker for 30 s, longer than the wait allowed.
        registry.add("dialer.dispatcher.carrier.routing.guard.minimum-calls", () -> "1000");
        // A 429 halves the trunk's limit; unlimited, it would halve the calls counted in flight, which include the
        // shared database's calls of other tests, and hold the later calls until those slots lapse.
        registry.add("dialer.dispatcher.pacing.trunk-concurrency", () -> "1000");
        // Longer than the 429 call's valid_until below leaves: its requeue could only expire.
        registry.add("dialer.dispatcher.pacing.capacity-requeue-delay", () -> "PT10S");
    }

    @Test
    void aCallNoCarrierTookWaitsAndIsDialledOnceUnderTheSameAttemptOrFailsAfterTheLongestWait() throws Exception {
        // While the carrier stays down: deferred again and again, then failed once the longest wait has passed.
        String givesUp = "cu-" + UUID.randomUUID();
        send(CALLER, givesUp);
        // Waits of 1, 1 and then 2 s: the third would end after this one's valid_until.
        String expires = "cu-" + UUID.randomUUID();
        Instant validUntil = Instant.now().plusSeconds(3);
        send(OTHER_CALLER, expires, validUntil);
        // Its calling window closes in 5 s, and valid_until (30 s) comes before it opens again: a wait ending after
        // the window closed could only expire.
        String windowCloses = "cu-" + UUID.randomUUID();
        String account = "acc-" + UUID.randomUUID();
        LocalTime nowInBerlin = Instant.now().atZone(ZoneId.of("Europe/Berlin")).toLocalTime()
                .truncatedTo(ChronoUnit.SECONDS);
        Instant windowEnd = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(5);
        fixture.send(new ProducerRecord<>(Topics.ACCOUNT_CONFIG, account, Contract.toJson(new AccountSettings(
                AccountSettings.VERSION, account, null, new CallingWindow(nowInBerlin.minusHours(1),
                nowInBerlin.plusSeconds(5)), List.of(), null, List.of(), null, Instant.now()))));
        String closing = command(WINDOW_CALLER, windowCloses, account, Instant.now().plusSeconds(30));
        CallCommand command = Contract.read(closing.getBytes(StandardCharsets.UTF_8), CallCommand.class);
        await().atMost(WAIT).until(() -> gate.expiresBy(command, windowEnd.plusSeconds(1)));
        fixture.produce(WINDOW_CALLER, closing);

        List<JsonNode> events = fixture.awaitFinal(givesUp);

        Instant firstDeferred = Instant.parse(text(deferred(events).get(0), "occurred_at"));
        assertThat(deferred(events)).hasSizeGreaterThanOrEqualTo(3).allSatisfy(event -> {
            // Each wait is as long as the call has waited so far, and at least the shortest (1 s).
            Instant occurred = Instant.parse(text(event, "occurred_at"));
            Duration waited = Duration.between(firstDeferred, occurred);
            Duration wait = Duration.between(occurred, Instant.parse(text(event, "next_attempt_at")));
            // Less the time from computing the due time to building the event, which a busy machine stretches.
            assertThat(wait).isGreaterThanOrEqualTo(
                    (waited.compareTo(Duration.ofSeconds(1)) > 0 ? waited : Duration.ofSeconds(1))
                            .minusMillis(500));
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
        assertThat(text(statusEvent(events, "failed"), "reason")).isEqualTo("not_placed");
        assertThat(askedAttempts(givesUp)).as("it rang nobody: no per-callee cap counts it").isEmpty();
        assertThat(meters.counter("dialer.dispatcher.outcomes", "status", "failed", "sip_class", "none").count())
                .as("the attempt's end counted among the outcomes, with no SIP status").isPositive();

        // A wait that would end after valid_until is not announced: the request expires when its dial fails.
        List<JsonNode> expired = fixture.awaitFinal(expires);
        assertThat(deferred(expired)).isNotEmpty().allSatisfy(event -> assertThat(
                Instant.parse(text(event, "next_attempt_at"))).isBefore(validUntil));
        assertThat(finals(expired)).singleElement().satisfies(last -> {
            assertThat(text(last, "status")).isEqualTo("expired");
            assertThat(text(last, "reason")).isEqualTo("valid_until");
            assertThat(last.get("error").get("code").stringValue()).isEqualTo("valid_until");
        });
        // Ended by its failed dial, or, when a wait due before valid_until fired after it (the schedule's poll late
        // on a loaded machine), by the policy as that wait ended: the attempt then stays as it waited.
        assertThat(attempts(expires)).containsAnyOf("1:failed", "1:queued").hasSize(1);

        // No wait announced past the window's end: the request expires when the dial before it fails.
        List<JsonNode> closed = fixture.awaitFinal(windowCloses);
        assertThat(deferred(closed)).isNotEmpty().allSatisfy(event -> {
            assertThat(text(event, "reason")).isEqualTo("carrier_unavailable");
            assertThat(Instant.parse(text(event, "next_attempt_at"))).isBeforeOrEqualTo(windowEnd);
        });
        assertThat(finals(closed)).singleElement().satisfies(last -> {
            assertThat(text(last, "status")).isEqualTo("expired");
            assertThat(text(last, "reason")).isEqualTo("valid_until");
        });

        // The carrier's API refuses calls for its capacity (429): a capacity rejection, not an attempt and not a
        // failure of the carrier. The call waits under the same attempt, and the trunk's concurrency limit shrinks.
        double decreases = trunkLimitDecreases();
        DisposableServer limiting = HttpServer.create().host("127.0.0.1").port(CARRIER_PORT)
                .route(routes -> routes.post("/v1/Accounts/{sid}/Calls", (request, response) -> response
                        // Closed after each answer: a kept-alive connection would outlive the server's disposal.
                        .status(429).header("Content-Type", "application/json").header("Connection", "close")
                        .sendString(Mono.just("{\"msg\":\"too many calls\"}"))))
                .bindNow();
        String limited = "cu-" + UUID.randomUUID();
        String limitedExpiring = "cu-" + UUID.randomUUID();
        try {
            // Refused for capacity with a requeue past its valid_until: it expires at once, and still tells the trunk.
            double rejections = meters.counter("dialer.dispatcher.capacity.rejections").count();
            send(EXPIRING_CALLER, limitedExpiring, Instant.now().plusSeconds(5));
            assertThat(finals(fixture.awaitFinal(limitedExpiring))).singleElement().satisfies(last -> {
                assertThat(text(last, "status")).isEqualTo("expired");
                assertThat(text(last, "reason")).isEqualTo("valid_until");
            });
            assertThat(meters.counter("dialer.dispatcher.capacity.rejections").count())
                    .as("the refusal counted as a capacity rejection").isGreaterThan(rejections);
            assertThat(trunkLimitDecreases()).as("the trunk's concurrency limit shrank").isGreaterThan(decreases);
            send(LIMITED_CALLER, limited);
            JsonNode refused = fixture.awaitEvent(limited, "call.deferred");
            assertThat(text(refused, "reason")).isEqualTo("capacity");
            assertThat(refused.get("attempt").get("number").intValue()).isEqualTo(1);
            assertThat(refused.get("will_retry").booleanValue()).isTrue();
            assertThat(refused.get("error").get("message").stringValue()).contains("429");
            assertThat(meters.counter("dialer.dispatcher.capacity.rejections").count()).isGreaterThan(rejections);
        } finally {
            limiting.disposeNow();
        }

        // The carrier's API refuses the call with a 503 whose body holds a NUL character, which PostgreSQL's jsonb
        // refuses: the call waits as after any 503, and its event quotes the body with U+FFFD in the NUL's place.
        DisposableServer garbled = HttpServer.create().host("127.0.0.1").port(CARRIER_PORT)
                .route(routes -> routes.post("/v1/Accounts/{sid}/Calls", (request, response) -> response
                        .status(503).header("Content-Type", "application/json").header("Connection", "close")
                        .sendString(Mono.just("{\"msg\":\"no feature server\u0000available\"}"))))
                .bindNow();
        String refusedWithNul = "cu-" + UUID.randomUUID();
        try {
            send(GARBLED_CALLER, refusedWithNul);
            JsonNode waits = fixture.awaitEvent(refusedWithNul, "call.deferred");
            assertThat(text(waits, "reason")).isEqualTo("carrier_unavailable");
            assertThat(waits.get("error").get("message").stringValue()).contains("503")
                    .contains("no feature server\uFFFDavailable").doesNotContain("\u0000");
        } finally {
            garbled.disposeNow();
        }

        // The carrier comes back while a call waits: it is dialled once, under attempt 1, and answered.
        String comesThrough = "cu-" + UUID.randomUUID();
        send(CALLER, comesThrough);
        fixture.awaitEvent(comesThrough, "call.deferred");
        CarrierSimulator simulator = carrierComesBack();

        List<JsonNode> answered = fixture.awaitFinal(comesThrough);

        assertThat(finals(answered)).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("answered"));
        assertThat(fixture.callsFor(comesThrough)).singleElement()
                .satisfies(call -> assertThat(call.tag()).containsEntry("attempt", 1));
        assertThat(attempts(comesThrough)).containsExactly("1:completed");
        assertThat(simulator.calls()).noneMatch(call -> givesUp.equals(call.tag().get("request_id")));

        assertThat(finals(fixture.awaitFinal(limited))).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("answered"));
        assertThat(fixture.callsFor(limited)).singleElement()
                .satisfies(call -> assertThat(call.tag()).containsEntry("attempt", 1));
    }

    private double trunkLimitDecreases() {
        return meters.find("dialer.dispatcher.trunk.concurrency.decreases").functionCounters().stream()
                .mapToDouble(FunctionCounter::count).sum();
    }
}
