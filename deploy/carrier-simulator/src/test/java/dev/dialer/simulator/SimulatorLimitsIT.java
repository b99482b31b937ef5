package dev.dialer.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The simulator's account concurrency limit, lost callbacks and callbacks out of order, over real HTTP. */
class SimulatorLimitsIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    /** How long the tests of forgetting keep an ended call. */
    private static final Duration KEEP = Duration.ofMillis(200);
    private static final JsonMapper MAPPER = JsonMapper.builder().build();
    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final CallbackReceiver receiver = new CallbackReceiver();
    private CarrierSimulator simulator;

    @AfterEach
    void stop() {
        if (simulator != null) {
            simulator.close();
        }
        receiver.close();
    }

    @Test
    void callBeyondTheAccountLimitIsAcceptedThenFailsWith503MaxAccountCallsInProgress() throws Exception {
        simulator = CarrierSimulator.start(SimulatorSettings.defaults()
                .withRingTime(Duration.ofSeconds(30)).withMaxCalls(2));
        List<String> sids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> response = create("15550100005");
            assertThat(response.statusCode()).as("accepted like jambonz: the SBC refuses, not the API").isEqualTo(201);
            sids.add(MAPPER.readTree(response.body()).get("sid").stringValue());
        }

        await().atMost(WAIT).until(() -> receiver.statusesOf(sids.get(2)).contains("failed"));
        JsonNode failed = receiver.forCall(sids.get(2)).get(1).json();
        assertThat(failed.get("sip_status").intValue()).isEqualTo(503);
        assertThat(failed.get("sip_reason").stringValue()).isEqualTo("Max Account Calls In Progress");
        assertThat(receiver.statusesOf(sids.get(0))).doesNotContain("failed");
        assertThat(receiver.statusesOf(sids.get(1))).doesNotContain("failed");
    }

    @Test
    void endedCallsFreeTheirPlaceUnderTheLimit() throws Exception {
        simulator = CarrierSimulator.start(shortCalls().withMaxCalls(1));
        String first = sidOf("15550100005");
        await().atMost(WAIT).until(() -> receiver.statusesOf(first).contains("completed"));

        String second = sidOf("15550100005");

        await().atMost(WAIT).until(() -> receiver.statusesOf(second).contains("completed"));
    }

    @Test
    void callsTheOutcomeRuleRefusesForCapacityTakeNoPlaceUnderTheLimit() throws Exception {
        simulator = CarrierSimulator.start(SimulatorSettings.defaults()
                .withRingTime(Duration.ofSeconds(30)).withMaxCalls(2));
        // A number ending in 3: the default rule refuses it for capacity, whatever the account's calls in progress.
        List<String> refused = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            refused.add(sidOf("15550100003"));
        }
        for (String sid : refused) {
            await().atMost(WAIT).until(() -> receiver.statusesOf(sid).contains("failed"));
        }

        List<String> ringing = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ringing.add(sidOf("15550100005"));
        }

        for (String sid : ringing) {
            await().atMost(WAIT).until(() -> receiver.statusesOf(sid).contains("ringing"));
            assertThat(receiver.statusesOf(sid)).as("the account's two places are free").doesNotContain("failed");
        }
    }

    @Test
    void lostCallbacksAreNeverSentButTheCallIsStillReadable() throws Exception {
        simulator = CarrierSimulator.start(shortCalls().withLostCallbacks(1.0));
        String sid = sidOf("15550100005");

        await().atMost(WAIT).untilAsserted(() -> assertThat(get(sid).get("call_status").stringValue())
                .isEqualTo("completed"));
        assertThat(receiver.forCall(sid)).isEmpty();
    }

    @Test
    void callbacksWithAJitterAllArriveAndSomeOvertakeTheStatusBeforeThem() throws Exception {
        simulator = CarrierSimulator.start(SimulatorSettings.defaults().withRingTime(Duration.ZERO)
                .withTalkTime(Duration.ZERO).withCallbackJitter(Duration.ofMillis(300)));
        List<String> sids = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            sids.add(sidOf("15550100005"));
        }
        List<String> inOrder = List.of("trying", "ringing", "in-progress", "completed");

        for (String sid : sids) {
            await().atMost(WAIT).untilAsserted(() -> assertThat(receiver.statusesOf(sid))
                    .containsExactlyInAnyOrderElementsOf(inOrder));
        }
        // Four callbacks each drawn a wait within 300 ms of one another: a call's come in order one time in 24.
        assertThat(sids).as("some call's callbacks out of order")
                .anySatisfy(sid -> assertThat(receiver.statusesOf(sid)).isNotEqualTo(inOrder));
    }

    @Test
    void aCallOlderThanItsKeepIsKeptWhileItGoesOn() throws Exception {
        simulator = CarrierSimulator.start(SimulatorSettings.defaults()
                .withRingTime(Duration.ofSeconds(30)).withKeepCalls(KEEP));
        String ringing = sidOf("15550100005");
        Thread.sleep(300);

        String next = sidOf("15550100005");

        assertThat(get(ringing).get("call_status").stringValue()).as("still going: kept").isEqualTo("ringing");
        assertThat(simulator.calls()).extracting(ReceivedCall::callSid).containsExactly(ringing, next);
    }

    @Test
    void anEndedCallOlderThanItsKeepIsForgottenWhenTheNextArrives() throws Exception {
        simulator = CarrierSimulator.start(shortCalls().withKeepCalls(KEEP));
        String ended = sidOf("15550100005");
        await().atMost(WAIT).until(() -> receiver.statusesOf(ended).contains("completed"));
        Thread.sleep(300);
        assertThat(get(ended).get("call_status").stringValue()).as("kept until a call arrives").isEqualTo("completed");

        String next = sidOf("15550100005");

        assertThat(http.send(HttpRequest.newBuilder(URI.create(simulator.baseUrl() + "/v1/Accounts/dialer/Calls/"
                + ended)).GET().build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
        assertThat(simulator.calls()).extracting(ReceivedCall::callSid).containsExactly(next);
    }

    @Test
    void aCallStillRingingLongAfterItArrivedHoldsNoOtherEndedCall() throws Exception {
        simulator = CarrierSimulator.start(shortCalls().withKeepCalls(KEEP));
        // A number ending in 1 is not answered: it rings for the request's timeout, 60 s.
        String ringing = sidOf("15550100001");
        String ended = sidOf("15550100005");
        await().atMost(WAIT).until(() -> receiver.statusesOf(ended).contains("completed"));
        Thread.sleep(300);

        String next = sidOf("15550100005");

        assertThat(simulator.calls()).extracting(ReceivedCall::callSid).containsExactly(ringing, next);
    }

    /** Calls that ring and talk 50 ms each. */
    private static SimulatorSettings shortCalls() {
        return SimulatorSettings.defaults().withRingTime(Duration.ofMillis(50)).withTalkTime(Duration.ofMillis(50));
    }

    /** The sid of a call created to {@code number}. */
    private String sidOf(String number) throws Exception {
        return MAPPER.readTree(create(number).body()).get("sid").stringValue();
    }

    private HttpResponse<String> create(String number) throws Exception {
        String body = """
                {"from":"15550001111","to":{"type":"phone","number":"%s"},"application_sid":"app",
                 "call_status_hook":"%s","timeout":60,"tag":{"n":1}}""".formatted(number, receiver.url("/hooks/ok"));
        return http.send(HttpRequest.newBuilder(URI.create(simulator.baseUrl() + "/v1/Accounts/dialer/Calls"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode get(String sid) throws Exception {
        return MAPPER.readTree(http.send(HttpRequest.newBuilder(
                        URI.create(simulator.baseUrl() + "/v1/Accounts/dialer/Calls/" + sid)).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }
}
