package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.statuses;
import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.simulator.Application;
import dev.dialer.simulator.ReceivedCall;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * A Voice Gateway that keeps jambonz's rule: a call naming an application reports to the application's status hook,
 * never to the request's {@code call_status_hook}. Here every application posts elsewhere (the Cognigy flow's own
 * hook), so statuses reach the dispatcher only through the request's {@code notifyUrl}, which a Cognigy Voice Gateway
 * posts to alongside ({@code dialer.dispatcher.carrier.notify-url}).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=dispatcher-service")
@DirtiesContext
class ApplicationStatusHookIT {

    private static final String SECRET = "vg-s3cret";
    private static final String CALLER = "+4930777000";
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** Where the applications post their calls' statuses: not this dispatcher (nothing listens there). */
    private static final String ELSEWHERE = "http://127.0.0.1:1/flow/status";

    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, DispatcherFixture.shortCalls()
            .withWebhookSecret(SECRET).withEveryOtherApplication(Application.postingStatusesTo(ELSEWHERE)));

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        fixture.register(registry);
        registry.add("dialer.dispatcher.carrier.notify-url", () -> "true");
    }

    @LocalServerPort
    int port;

    @Test
    void statusesReachTheDispatcherThroughNotifyUrlWhenTheApplicationsHookPointsElsewhere() {
        String requestId = "vg-" + UUID.randomUUID();
        fixture.produce(CALLER, command(requestId, "+4915112345678", "\"flow_id\":\"flow-42\""));

        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(statuses(events)).containsExactly("queued", "initiated", "ringing", "in-progress", "completed");
        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(last.get("status").stringValue()).isEqualTo("answered"));
        ReceivedCall call = fixture.callsFor(requestId).get(0);
        String hook = "http://127.0.0.1:" + port + "/carrier/voice-gateway/status";
        assertThat(call.applicationSid()).isEqualTo("flow-42");
        assertThat(call.body()).containsEntry("notifyUrl", Map.of("url", hook, "method", "POST"));
    }

    @Test
    void capacityRefusalArrivesAtOnceAndIsRequeuedNotFailed() {
        String requestId = "vg-" + UUID.randomUUID();
        // The simulator's rule: a number ending in 3 meets the account's limit (503 Max Account Calls In Progress).
        // It expires in a few seconds: the number meets the limit at every dial, and a wait left behind would be fired
        // by the tests after this one.
        fixture.produce(CALLER, command(requestId, "+4915112345673", "\"audio\":\"welcome.wav\",\"valid_until\":\""
                + Instant.now().plusSeconds(4) + "\""));

        JsonNode deferred = fixture.awaitEvent(requestId, "call.deferred");

        assertThat(deferred.get("reason").stringValue()).isEqualTo("capacity");
        assertThat(fixture.callsFor(requestId).get(0).applicationSid()).isEqualTo("dialer-audio-player");
        assertThat(finals(fixture.awaitFinal(requestId))).singleElement()
                .satisfies(last -> assertThat(last.get("status").stringValue()).isEqualTo("expired"));
    }

    private static String command(String requestId, String to, String flowOrAudio) {
        return """
                {"version":1,"request_id":"%s","account_id":"acc-vg","caller_id":"%s","to":"%s",%s,
                 "campaign":"vg","created_at":"2025-06-01T12:00:00Z"}""".formatted(requestId, CALLER, to, flowOrAudio);
    }
}
