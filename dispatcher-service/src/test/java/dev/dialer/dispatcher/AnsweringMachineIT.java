package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.statusEvent;
import static dev.dialer.dispatcher.DispatcherFixture.signature;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.simulator.ReceivedCall;
import dev.dialer.simulator.SimulatorSettings;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
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
import tools.jackson.databind.JsonNode;

/**
 * Answering-machine detection end to end: commands that ask for {@code amd} go to the real carrier simulator over
 * HTTP, which posts a signed {@code amd_*_detected} event to the dispatcher's own AMD endpoint after answer; the
 * result comes out of {@code dialer.call.events} as {@code answered_by}. Also: the callbacks' lag is measured.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=dispatcher-service")
@DirtiesContext
class AnsweringMachineIT {

    private static final String SECRET = "amd-s3cret";
    private static final String CALLER = "+4930555000";
    private static final Duration WAIT = Duration.ofSeconds(60);

    /** Talks long enough that the detection, which follows the answer, lands while the call is up. */
    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, SimulatorSettings.defaults()
            .withRingTime(Duration.ofMillis(100)).withTalkTime(Duration.ofMillis(1500)).withWebhookSecret(SECRET));

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        fixture.register(registry);
    }

    @LocalServerPort
    int port;

    @Autowired
    MeterRegistry meters;

    @Autowired
    DatabaseClient db;

    @Test
    void machineDetectedAfterAnswerIsPublishedAsAnsweredByAndKeptForTheEndOfTheCall() {
        String requestId = newRequestId();
        // The simulator's rule: a number ending in 9 is answered by a machine.
        fixture.produce(CALLER, command(requestId, "+4915112345679"));

        List<JsonNode> events = fixture.awaitFinal(requestId);

        JsonNode detected = detection(events);
        assertThat(detected.get("answered_by").stringValue()).isEqualTo("machine");
        assertThat(detected.get("status").stringValue()).isEqualTo("in-progress");
        assertThat(detected.get("provider_status").stringValue()).isEqualTo("amd_machine_detected");
        assertThat(statusEvent(events, "completed").get("answered_by").stringValue()).isEqualTo("machine");
        assertThat(finals(events).get(0).get("status").stringValue()).isEqualTo("answered");
        assertThat(finals(events).get(0).get("answered_by").stringValue()).isEqualTo("machine");
        assertThat(db.sql("SELECT answered_by FROM dispatch.answered_by WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, String.class)).one().block(WAIT)).isEqualTo("machine");
    }

    @Test
    void everyEventCarriesTheCommandsAmdHookForTheWebhookServiceToDeliverTheDetectionTo() {
        String requestId = newRequestId();
        fixture.produce(CALLER, command(requestId, "+4915112345679"));

        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(detection(events).get("answered_by").stringValue()).isEqualTo("machine");
        assertThat(events).allSatisfy(event -> {
            assertThat(event.path("amd_hook").path("url").stringValue()).isEqualTo("https://customer.example.com/amd");
            assertThat(event.path("amd_hook").path("method").stringValue()).isEqualTo("POST");
        });
        // The carrier still posts its detections to the dispatcher, never to the customer.
        assertThat(fixture.callsFor(requestId).get(0).body().get("amd")).isEqualTo(Map.of("thresholdWordCount", 5,
                "actionHook", Map.of("url", "http://127.0.0.1:" + port + "/carrier/voice-gateway/amd",
                        "method", "POST")));
    }

    @Test
    void humanDetectedEndsUpAsAnsweredByHumanAndTheCarrierGotOurHookNotTheCustomers() {
        String requestId = newRequestId();
        fixture.produce(CALLER, command(requestId, "+4915112345678"));

        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(detection(events).get("answered_by").stringValue()).isEqualTo("human");
        assertThat(finals(events).get(0).get("answered_by").stringValue()).isEqualTo("human");
        ReceivedCall call = fixture.callsFor(requestId).get(0);
        assertThat(call.body().get("amd")).isEqualTo(Map.of("thresholdWordCount", 5, "actionHook",
                Map.of("url", "http://127.0.0.1:" + port + "/carrier/voice-gateway/amd", "method", "POST")));
        assertThat(call.tag()).containsEntry("carrier", "voice-gateway").containsKey("sent_at");
    }

    @Test
    void resultAfterTheCallEndedIsKeptButPublishedNowhere() {
        String requestId = newRequestId();
        fixture.produce(CALLER, command(requestId, "+4915112345678"));
        int eventsAtTheEnd = fixture.awaitFinal(requestId).size();
        double lateBefore = meters.counter("dialer.dispatcher.answering.machine", "answered_by", "tone",
                "result", "late").count();
        // No caller ID in the tag: the call is known by its call_sid, and the result goes to the caller ID's owner.
        String body = """
                {"type":"amd_tone_detected","call_sid":"%s","customerData":{"request_id":"%s","attempt":1}}"""
                .formatted(fixture.callsFor(requestId).get(0).callSid(), requestId);

        client().post().uri("/carrier/voice-gateway/amd")
                .contentType(MediaType.APPLICATION_JSON)
                .header("Jambonz-Signature", signature(SECRET, body))
                .bodyValue(body)
                .exchange()
                .expectStatus().isOk();

        await().atMost(WAIT).untilAsserted(() -> assertThat(meters.counter("dialer.dispatcher.answering.machine",
                "answered_by", "tone", "result", "late").count()).isEqualTo(lateBefore + 1));
        assertThat(db.sql("SELECT answered_by FROM dispatch.answered_by WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, String.class)).one().block(WAIT)).isEqualTo("tone");

        // A first decision posted again after the beep (a signed callback replayed): the beep stays.
        String replayed = """
                {"type":"amd_machine_detected","call_sid":"%s","customerData":{"request_id":"%s","attempt":1}}"""
                .formatted(fixture.callsFor(requestId).get(0).callSid(), requestId);
        client().post().uri("/carrier/voice-gateway/amd")
                .contentType(MediaType.APPLICATION_JSON)
                .header("Jambonz-Signature", signature(SECRET, replayed))
                .bodyValue(replayed)
                .exchange()
                .expectStatus().isOk();
        await().during(Duration.ofSeconds(2)).atMost(WAIT).untilAsserted(() -> assertThat(db.sql(
                        "SELECT answered_by FROM dispatch.answered_by WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, String.class)).one().block(WAIT)).isEqualTo("tone"));
        await().during(Duration.ofSeconds(2)).atMost(WAIT)
                .until(() -> fixture.eventsFor(requestId).size() == eventsAtTheEnd);
    }

    @Test
    void callsWithoutDetectionCarryNoAnsweredBy() {
        String requestId = newRequestId();
        fixture.produce(CALLER, command(requestId, "+4915112345679").replace("\"carrier_options\":", "\"unused\":"));

        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(events).allSatisfy(event -> assertThat(event.has("answered_by")
                && !event.get("answered_by").isNull()).isFalse());
    }

    @Test
    void answeringMachineEventWithBadSignatureIsRefusedWith401Problem() {
        String body = """
                {"type":"amd_machine_detected","call_sid":"x",
                 "customerData":{"request_id":"nobody","attempt":1}}""";

        client().post().uri("/carrier/voice-gateway/amd")
                .contentType(MediaType.APPLICATION_JSON)
                .header("Jambonz-Signature", signature("wrong-secret", body))
                .bodyValue(body)
                .exchange()
                .expectStatus().isUnauthorized()
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody()
                .jsonPath("$.status").isEqualTo(401)
                .jsonPath("$.type").isEqualTo("https://dialer.dev/problems/invalid-signature");
        client().post().uri("/carrier/voice-gateway/amd")
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue(body)
                .exchange()
                .expectStatus().isUnauthorized();
        // Correctly signed, the same body passes the check and is refused for what it is: an unknown attempt.
        client().post().uri("/carrier/voice-gateway/amd")
                .contentType(MediaType.APPLICATION_JSON)
                .header("Jambonz-Signature", signature(SECRET, body))
                .bodyValue(body)
                .exchange()
                .expectStatus().isNotFound();
    }

    @Test
    void statusCallbackPostedToTheAmdEndpointIsRefusedNamingTheField() {
        String body = """
                {"call_status":"ringing","call_sid":"x","customerData":{"request_id":"nobody","attempt":1}}""";

        client().post().uri("/carrier/voice-gateway/amd")
                .contentType(MediaType.APPLICATION_JSON)
                .header("Jambonz-Signature", signature(SECRET, body))
                .bodyValue(body)
                .exchange()
                .expectStatus().isBadRequest()
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody().jsonPath("$.field").isEqualTo("type");
    }

    @Test
    void callbackLagIsRecordedPerCarrierFromTheSignatureAndFromOurCreateRequest() {
        String requestId = newRequestId();
        fixture.produce(CALLER, command(requestId, "+4915112345678"));
        fixture.awaitFinal(requestId);

        assertThat(meters.get("dialer.dispatcher.carrier.callback.lag")
                .tags("carrier", "voice-gateway", "kind", "delivery").timer().count()).isGreaterThanOrEqualTo(5);
        assertThat(meters.get("dialer.dispatcher.carrier.callback.lag")
                .tags("carrier", "voice-gateway", "kind", "first_callback").timer().count()).isGreaterThanOrEqualTo(1);
        String scrape = client().get().uri("/actuator/prometheus").exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        assertThat(scrape).contains(
                "dialer_dispatcher_carrier_callback_lag_seconds_count{carrier=\"voice-gateway\",kind=\"delivery\"");
    }

    private static JsonNode detection(List<JsonNode> events) {
        return events.stream().filter(e -> e.has("answered_by") && !e.get("answered_by").isNull()
                        && "in-progress".equals(e.get("status").stringValue()))
                .findFirst().orElseThrow(() -> new AssertionError("no answered_by event in " + events));
    }

    private WebTestClient client() {
        return WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(WAIT).build();
    }

    private static String command(String requestId, String to) {
        return """
                {"version":1,"request_id":"%s","account_id":"acc-amd","caller_id":"%s","to":"%s",
                 "audio":"welcome.wav","campaign":"amd",
                 "carrier_options":{"amd":{"actionHook":"https://customer.example.com/amd","thresholdWordCount":5}},
                 "amd_hook":{"url":"https://customer.example.com/amd"},
                 "created_at":"2025-06-01T12:00:00Z"}""".formatted(requestId, CALLER, to);
    }

    private static String newRequestId() {
        return "amd-" + UUID.randomUUID();
    }
}
