package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.assertStrictlyIncreasingSequence;
import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.statuses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.simulator.SimulatorSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * Status callbacks in any order, as jambonz posts them (each its own HTTP request, none waiting for the one
 * before): the carrier simulator, without ring or talk time, sends each of a call's callbacks after a wait of up to
 * 300 ms of its own, so a call's {@code completed} may come before its {@code ringing}, and its first callback before
 * the answer to the create-call request. Every request still ends once, as its callee answered, with one terminal
 * status, its events in sequence, and every trunk slot given back.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=dispatcher-service")
@DirtiesContext
class CallbacksOutOfOrderIT {

    private static final String SECRET = "disorder-s3cret";
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final List<String> TERMINAL = List.of("completed", "busy", "failed", "no-answer", "canceled");

    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, SimulatorSettings.defaults()
            .withRingTime(Duration.ZERO).withTalkTime(Duration.ZERO).withWebhookSecret(SECRET)
            .withCallbackJitter(Duration.ofMillis(300)));

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        fixture.register(registry);
    }

    @Autowired
    MeterRegistry meters;

    @Test
    void everyRequestEndsOnceAsItsCalleeAnsweredWhateverOrderItsCallbacksCameIn() {
        double ignoredBefore = ignoredCallbacks();
        // The simulator's rule by the number's last digit: 5 answered, 0 busy (486), 2 failed (500). One attempt each.
        Map<String, String> expectedFinal = new LinkedHashMap<>();
        Map<String, String> expectedEnd = new LinkedHashMap<>();
        List<String> lastDigits = List.of("5", "0", "2");
        for (int i = 0; i < 30; i++) {
            String requestId = "disorder-" + UUID.randomUUID();
            String digit = lastDigits.get(i % 3);
            String caller = "+49305550" + (10 + i % 5);
            fixture.produce(caller, command(requestId, caller, "+49151123456" + (10 + i) + digit));
            expectedFinal.put(requestId, "5".equals(digit) ? "answered" : "exhausted");
            expectedEnd.put(requestId, switch (digit) {
                case "5" -> "completed";
                case "0" -> "busy";
                default -> "failed";
            });
        }

        for (Map.Entry<String, String> request : expectedFinal.entrySet()) {
            String requestId = request.getKey();
            List<JsonNode> events = fixture.awaitFinal(requestId);

            assertThat(finals(events)).as(requestId).singleElement()
                    .satisfies(last -> assertThat(last.get("status").stringValue()).isEqualTo(request.getValue()));
            List<String> statuses = statuses(events);
            assertThat(statuses.stream().filter(TERMINAL::contains).toList()).as(requestId + ": " + statuses)
                    .containsExactly(expectedEnd.get(requestId));
            assertThat(statuses.get(statuses.size() - 1)).as(requestId + ": the end is the last status")
                    .isEqualTo(expectedEnd.get(requestId));
            assertThat(events.get(events.size() - 1).get("event_type").stringValue()).isEqualTo("call.final");
            assertThat(fixture.callsFor(requestId)).as(requestId + ": dialled once").hasSize(1);
            assertStrictlyIncreasingSequence(events);
        }
        // Statuses that came after the call had moved past them were let go, not applied out of order.
        assertThat(ignoredCallbacks()).as("callbacks that came late").isGreaterThan(ignoredBefore);
        await().atMost(WAIT).untilAsserted(() -> assertThat(slotsHeld()).as("trunk slots held").isZero());
        // A few seconds on, still none: no late callback took a slot back.
        await().during(Duration.ofSeconds(2)).atMost(WAIT).untilAsserted(() -> assertThat(slotsHeld()).isZero());
    }

    private double ignoredCallbacks() {
        return meters.find("dialer.dispatcher.callbacks").tag("result", "ignored").counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    private double slotsHeld() {
        List<Gauge> gauges = new ArrayList<>(meters.find("dialer.dispatcher.trunk.in.flight").gauges());
        assertThat(gauges).isNotEmpty();
        return gauges.stream().mapToDouble(Gauge::value).sum();
    }

    private static String command(String requestId, String caller, String to) {
        return """
                {"version":1,"request_id":"%s","account_id":"acc-disorder","caller_id":"%s","to":"%s",
                 "audio":"welcome.wav","campaign":"disorder","max_attempts":1,
                 "created_at":"2025-06-01T12:00:00Z"}""".formatted(requestId, caller, to);
    }
}
