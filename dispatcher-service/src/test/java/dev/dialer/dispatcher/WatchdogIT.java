package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.statusEvent;
import static dev.dialer.dispatcher.CallEventsJson.statuses;
import static dev.dialer.dispatcher.CallEventsJson.text;
import static dev.dialer.dispatcher.DispatcherFixture.shortCalls;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.pacing.Lanes;
import dev.dialer.dispatcher.pacing.TrunkGate;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.context.Lifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

/**
 * The reconciliation watchdog against the real simulator configured to lose every status callback: attempts that
 * go quiet are settled by asking the carrier ({@code GET …/Calls/{sid}}), and an attempt the carrier never knew ends
 * with {@code status_timeout} and exactly one final event, whose slot is freed even when the statement that made it
 * committed but its answer was lost (played by a spy on the events bean that runs the real statement, then reports a
 * connection failure once; it never replaces the statement).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=dispatcher-service")
@DirtiesContext
class WatchdogIT {

    private static final String CALLER = "+4930777000";
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** A partition no commands topic has: a slot held on it is let go by its call's end, never by a rebalance. */
    private static final int NO_PARTITION = -1;
    /** Requests whose next attempt end is reported lost after it committed, once. */
    private static final Set<String> ANSWER_LOST = ConcurrentHashMap.newKeySet();


    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, shortCalls().withLostCallbacks(1.0));

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        fixture.register(registry);
        // Quiet after 2 s without news: ring timeout 1 s + time limit 1 s + no margin.
        registry.add("dialer.dispatcher.carrier.ring-timeout", () -> "PT1S");
        registry.add("dialer.dispatcher.carrier.time-limit", () -> "PT1S");
        registry.add("dialer.dispatcher.watchdog.margin", () -> "PT0S");
        registry.add("dialer.dispatcher.watchdog.poll-interval", () -> "PT0.5S");
    }

    @TestConfiguration
    static class AnswerLostOnce {

        @Bean
        static BeanPostProcessor answerLostOnce() {
            return SpiedBeans.around(CallEvents.class, invocation -> {
                Object result = invocation.callRealMethod();
                if (invocation.getMethod().getName().equals("endOn")
                        && invocation.getArgument(0) instanceof CallCommand command
                        && ANSWER_LOST.contains(command.requestId())) {
                    return Mono.defer(() -> ANSWER_LOST.remove(command.requestId())
                            ? ((Mono<?>) result).then(Mono.error(
                                    new TransientDataAccessResourceException("connection lost")))
                            : (Mono<?>) result);
                }
                return result;
            });
        }
    }

    @Autowired
    AttemptLedger ledger;

    @Autowired
    MeterRegistry meters;

    @Autowired
    Lanes lanes;

    @Autowired
    DatabaseClient database;

    @Autowired
    ApplicationContext context;

    @LocalServerPort
    int port;

    @Test
    void answeredCallWhoseCallbacksWereLostIsSettledByAskingTheCarrier() {
        String requestId = "wd-" + UUID.randomUUID();
        fixture.produce(CALLER, command(requestId, "+4915112345678"));

        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(statuses(events)).as("no callback arrived: only the carrier's answer to GET moved the attempt")
                .containsExactly("queued", "completed");
        JsonNode completed = statusEvent(events, "completed");
        assertThat(text(completed, "provider_status")).isEqualTo("completed");
        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("answered"));
        // Counted once the final is committed, which may be after it is read.
        await().atMost(WAIT).untilAsserted(() -> assertThat(
                meters.counter("dialer.dispatcher.watchdog.reconciled", "outcome", "carrier_answered").count())
                .isGreaterThanOrEqualTo(1));
    }

    @Test
    void attemptTheCarrierNeverKnewEndsFailedWithStatusTimeoutAndOneFinalEvent() {
        String requestId = "wd-" + UUID.randomUUID();
        CallCommand command = Contract.read(command(requestId, "+4915100000001").getBytes(), CallCommand.class);
        // As after a create-call request that timed out: recorded, the carrier asked, no call id ever learnt; its
        // trunk slot held. Its own slot is looked at: calls of earlier tests, and of earlier classes' dispatchers
        // counted in flight when this one gained their partitions, end on their own time.
        String slot = TrunkGate.slotKey(requestId, 1);
        double failedBefore = failedWithoutSipStatus();
        lanes.trunks().countingStarts();
        assertThat(lanes.trunks().holdCounted(List.of(new TrunkGate.CountedCall(slot, NO_PARTITION, 0)))).isEqualTo(1);
        assertThat(lanes.trunks().holds(slot)).isTrue();
        ledger.record(command).then(ledger.markCarrierAsked(requestId, 1)).block(WAIT);

        List<JsonNode> events = fixture.awaitFinal(requestId);
        await().atMost(WAIT).untilAsserted(() -> assertThat(lanes.trunks().holds(slot))
                .as("no callback will ever free its slot: the watchdog does").isFalse());
        assertThat(failedWithoutSipStatus()).as("the attempt's end counted among the outcomes")
                .isGreaterThanOrEqualTo(failedBefore + 1);

        assertThat(statuses(events)).containsExactly("failed");
        assertThat(events.get(0).get("error").get("code").stringValue()).isEqualTo("status_timeout");
        assertThat(events.get(0).path("will_retry").isBoolean()).as("the attempt's end says whether a retry follows")
                .isTrue();
        assertThat(events.get(0).path("will_retry").booleanValue()).isFalse();
        assertThat(finals(events)).singleElement().satisfies(last -> {
            assertThat(text(last, "status")).isEqualTo("failed");
            assertThat(last.get("error").get("code").stringValue()).isEqualTo("status_timeout");
        });
        // Later polls find nothing more to do: still exactly one final event.
        await().pollDelay(Duration.ofSeconds(3)).atMost(WAIT).untilAsserted(() ->
                assertThat(finals(fixture.eventsFor(requestId))).hasSize(1));
    }

    @Test
    void attemptTheCarrierNeverKnewOfACancelledRequestEndsCanceledNotFailed() {
        String requestId = "wd-" + UUID.randomUUID();
        CallCommand command = Contract.read(command(requestId, "+4915100000003").getBytes(), CallCommand.class);
        // A create-call request that timed out, then a cancel whose order could not reach the carrier (no call id).
        ledger.record(command).then(ledger.markCarrierAsked(requestId, 1)).block(WAIT);
        database.sql("UPDATE dispatch.requests SET cancel_requested_at = now() WHERE request_id = :id")
                .bind("id", requestId).fetch().rowsUpdated().block(WAIT);

        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(statuses(events)).containsExactly("canceled");
        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("canceled"));
        // Counted once the final is committed, which may be after it is read.
        await().atMost(WAIT).untilAsserted(() -> assertThat(
                meters.counter("dialer.dispatcher.watchdog.reconciled", "outcome", "canceled").count())
                .isGreaterThanOrEqualTo(1));
    }

    @Test
    void aStatusTimeoutCommittedButUnacknowledgedStillFreesItsSlot() {
        String requestId = "wd-late-" + UUID.randomUUID();
        CallCommand command = Contract.read(command(requestId, "+4915100000004").getBytes(), CallCommand.class);
        ANSWER_LOST.add(requestId);
        // As after a create-call request that timed out: recorded, the carrier asked, no call id; its slot held.
        String slot = TrunkGate.slotKey(requestId, 1);
        lanes.trunks().countingStarts();
        assertThat(lanes.trunks().holdCounted(List.of(new TrunkGate.CountedCall(slot, NO_PARTITION, 0)))).isEqualTo(1);
        assertThat(lanes.trunks().holds(slot)).isTrue();
        ledger.record(command).then(ledger.markCarrierAsked(requestId, 1)).block(WAIT);

        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(ANSWER_LOST).as("the answer was lost once").doesNotContain(requestId);
        assertThat(finals(events)).singleElement().satisfies(last -> {
            assertThat(text(last, "status")).isEqualTo("failed");
            assertThat(last.get("error").get("code").stringValue()).isEqualTo("status_timeout");
        });
        await().atMost(WAIT).untilAsserted(() -> assertThat(lanes.trunks().holds(slot))
                .as("no callback will ever free its slot: the watchdog does").isFalse());
    }

    private double failedWithoutSipStatus() {
        return meters.counter("dialer.dispatcher.outcomes", "status", "failed", "sip_class", "none").count();
    }

    @Test
    void attemptWhoseCallIdTheCarrierDoesNotKnowEndsWithStatusTimeout() {
        String requestId = "wd-" + UUID.randomUUID();
        CallCommand command = Contract.read(command(requestId, "+4915100000002").getBytes(), CallCommand.class);
        String callId = "never-placed-" + UUID.randomUUID();
        ledger.record(command)
                .then(ledger.claimDial(requestId, 1))
                .flatMap(dial -> ledger.storeProviderCallId(requestId, 1, dial, callId))
                .block(WAIT);

        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(last.get("error").get("code").stringValue())
                        .isEqualTo("status_timeout"));
        assertThat(events).as("both the attempt's end and the final event name the call the carrier does not know")
                .filteredOn(event -> text(event, "status").equals("failed")).hasSize(2)
                .allSatisfy(event -> assertThat(text(event, "provider_call_id")).isEqualTo(callId));
    }

    @Test
    void healthNamesTheWatchdogDownWhenItsPollsStopAndReadinessStaysUp() {
        WebTestClient actuator = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port)
                .responseTimeout(WAIT).build();
        await().atMost(WAIT).until(() -> health() == Status.UP);
        // Readiness holds the command consumer's indicator (its assignment), which may come up a moment after the
        // watchdog's.
        await().atMost(WAIT).untilAsserted(() ->
                actuator.get().uri("/actuator/health/readiness").exchange().expectStatus().isOk());
        assertThat(meters.get("dialer.dispatcher.watchdog.poll.age").gauge()).isNotNull();

        Lifecycle watchdog = context.getBean("watchdogLifecycle", Lifecycle.class);
        watchdog.stop();
        try {
            assertThat(health()).isEqualTo(Status.DOWN);
            actuator.get().uri("/actuator/health").exchange()
                    .expectStatus().isEqualTo(503)
                    .expectBody().jsonPath("$.components.watchdog.status").isEqualTo("DOWN");
            // The watchdog's work is every dispatcher's: its stall does not take this one out of the Service.
            actuator.get().uri("/actuator/health/readiness").exchange().expectStatus().isOk();
        } finally {
            watchdog.start();
        }
        await().atMost(WAIT).until(() -> health() == Status.UP);
    }

    private Status health() {
        return context.getBean("watchdogHealthIndicator", HealthIndicator.class).health().getStatus();
    }

    private static String command(String requestId, String to) {
        return """
                {"version":1,"request_id":"%s","account_id":"acc-wd","caller_id":"%s","to":"%s",
                 "audio":"welcome.wav","campaign":"wd","created_at":"%s"}""".formatted(requestId, CALLER, to,
                Instant.now());
    }
}
