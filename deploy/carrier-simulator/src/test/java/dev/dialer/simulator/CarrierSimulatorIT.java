package dev.dialer.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import reactor.blockhound.BlockHound;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class CarrierSimulatorIT {

    private static final JsonMapper MAPPER = JsonMapper.builder().build();
    private static final String API_KEY = "sim-key";
    private static final String SECRET = "sim-secret";
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static CallbackReceiver receiver;
    private static CarrierSimulator signed;
    private static CarrierSimulator unsigned;

    @BeforeAll
    static void start() {
        // any blocking call on a Reactor or Netty thread fails the request it happens in
        BlockHound.install();
        receiver = new CallbackReceiver();
        SimulatorSettings fast = SimulatorSettings.defaults()
                .withRingTime(Duration.ofMillis(100))
                .withTalkTime(Duration.ofMillis(200));
        signed = CarrierSimulator.start(fast.withApiKey(API_KEY).withWebhookSecret(SECRET));
        unsigned = CarrierSimulator.start(fast);
    }

    @AfterAll
    static void stop() {
        signed.close();
        unsigned.close();
        receiver.close();
    }

    @ParameterizedTest(name = "number ending {0} → {1}")
    @CsvSource(delimiter = '|', value = {
            "15550100005 | trying:100, ringing:180, in-progress:200, completed:200",
            "15550100000 | trying:100, ringing:180, busy:486",
            "15550100001 | trying:100, ringing:180, no-answer:487",
            "15550100002 | trying:100, failed:500",
            "15550100003 | trying:100, failed:503"})
    void eachLastDigitPlaysItsStatusSequenceInOrder(String number, String expected) throws Exception {
        String sid = createCall(signed, API_KEY, callBody(number, receiver.url("/hooks/ok"), 1, "{\"n\":1}"))
                .get("sid").stringValue();

        List<String> want = List.of(expected.split(",\\s*"));
        await().atMost(WAIT).untilAsserted(() -> assertThat(receiver.forCall(sid)).hasSize(want.size()));
        assertThat(receiver.forCall(sid))
                .extracting(callback -> callback.status() + ":" + callback.sipStatus())
                .containsExactlyElementsOf(want);
    }

    @Test
    void answeredCallCompletesWithDurationTerminationAndTheFullJambonzPayload() throws Exception {
        JsonNode created = createCall(signed, API_KEY, callBody("15550100007", receiver.url("/hooks/ok"), 5, null));
        String sid = created.get("sid").stringValue();

        await().atMost(WAIT).until(() -> receiver.statusesOf(sid).contains("completed"));
        JsonNode completed = receiver.forCall(sid).get(3).json();
        assertThat(completed.get("duration").intValue()).isZero();
        assertThat(completed.get("call_termination_by").stringValue()).isEqualTo("caller");
        assertThat(completed.get("call_id").stringValue()).isEqualTo(created.get("callId").stringValue());
        assertThat(completed.get("direction").stringValue()).isEqualTo("outbound");
        assertThat(completed.get("from").stringValue()).isEqualTo("15557770000");
        assertThat(completed.get("caller_id").stringValue()).isEqualTo("15557770000");
        assertThat(completed.get("to").stringValue()).isEqualTo("15550100007");
        assertThat(completed.get("account_sid").stringValue()).isEqualTo("dialer");
        assertThat(completed.get("application_sid").stringValue()).isEqualTo("app-1");
        assertThat(completed.has("sbc_callid")).isTrue();
        assertThat(completed.has("trace_id")).isTrue();
        assertThat(completed.get("sip_reason").stringValue()).isEqualTo("OK");
        assertThat(completed.has("customerData")).isFalse();
        assertThat(receiver.forCall(sid).get(0).json().has("duration")).isFalse();
        assertThat(receiver.forCall(sid)).allSatisfy(callback -> {
            assertThat(callback.method()).isEqualTo("POST");
            assertThat(callback.contentType()).startsWith("application/json");
        });
    }

    @Test
    void capacityRejectionCarriesTheSbcReasonWithoutRinging() throws Exception {
        String sid = createCall(signed, API_KEY, callBody("15550100013", receiver.url("/hooks/ok"), 5, null))
                .get("sid").stringValue();

        await().atMost(WAIT).until(() -> receiver.statusesOf(sid).contains("failed"));
        assertThat(receiver.forCall(sid).get(1).json().get("sip_reason").stringValue())
                .isEqualTo("Max Account Calls In Progress");
        assertThat(receiver.statusesOf(sid)).containsExactly("trying", "failed");
    }

    @Test
    void customerDataEchoesTheTagExactly() throws Exception {
        String tag = "{\"request_id\":\"r-1\",\"variables\":{\"otp\":\"123456\",\"n\":[1,2]},\"empty\":null}";
        String sid = createCall(signed, API_KEY, callBody("15550100009", receiver.url("/hooks/ok"), 5, tag))
                .get("sid").stringValue();

        await().atMost(WAIT).until(() -> receiver.statusesOf(sid).contains("completed"));
        assertThat(receiver.forCall(sid)).allSatisfy(callback ->
                assertThat(callback.json().get("customerData")).isEqualTo(MAPPER.readTree(tag)));
        ReceivedCall call = signed.calls().stream().filter(c -> c.callSid().equals(sid)).findFirst().orElseThrow();
        assertThat(call.tag()).containsEntry("request_id", "r-1")
                .containsEntry("variables", Map.of("otp", "123456", "n", List.of(1, 2)));
        assertThat(call.toNumber()).isEqualTo("15550100009");
        assertThat(call.toType()).isEqualTo("phone");
        assertThat(call.statusHookUrl()).isEqualTo(receiver.url("/hooks/ok"));
        assertThat(call.body()).containsKey("call_status_hook");
    }

    @Test
    void callbacksAreSignedVerifiablyWhenASecretIsSet() throws Exception {
        // Not ASCII, in a JVM whose default charset is (the module's failsafe argLine): signed and sent as UTF-8.
        String tag = "{\"request_id\":\"r-utf8\",\"variables\":{\"name\":\"Jos\u00e9 \u6771\u4eac\"}}";
        String sid = createCall(signed, API_KEY, callBody("15550100002", receiver.url("/hooks/ok"), 5, tag))
                .get("sid").stringValue();

        await().atMost(WAIT).untilAsserted(() -> assertThat(receiver.forCall(sid)).hasSize(2));
        assertThat(receiver.forCall(sid)).allSatisfy(callback -> {
            assertThat(callback.json().at("/customerData/variables/name").stringValue())
                    .isEqualTo("Jos\u00e9 \u6771\u4eac");
            assertThat(callback.signature()).matches("t=\\d+,v1=[0-9a-f]{64}");
            String t = callback.signature().substring(2, callback.signature().indexOf(','));
            String v1 = callback.signature().substring(callback.signature().indexOf("v1=") + 3);
            assertThat(v1).isEqualTo(TestHmac.hex(SECRET, t + "." + callback.body()));
            assertThat(Long.parseLong(t)).isCloseTo(System.currentTimeMillis() / 1000, within(60L));
        });
    }

    @ParameterizedTest(name = "number {0} → {1}")
    @CsvSource(delimiter = '|', value = {
            "15550100009 | amd_machine_detected | long greeting",
            "15550100007 | amd_human_detected | short greeting"})
    void answeredCallThatAsksForDetectionGetsItsSignedResultOnTheAmdHook(String number, String type, String reason)
            throws Exception {
        String body = callBody(number, receiver.url("/hooks/ok"), 5, "{\"request_id\":\"r-amd\"}")
                .replaceFirst("}$", ",\"amd\":{\"actionHook\":{\"url\":\"" + receiver.url("/hooks/amd")
                        + "\",\"method\":\"POST\"}}}");
        String sid = createCall(signed, API_KEY, body).get("sid").stringValue();

        await().atMost(WAIT).until(() -> receiver.statusesOf(sid).contains("completed"));
        List<CallbackReceiver.Callback> callbacks = receiver.forCall(sid);
        assertThat(callbacks).extracting(CallbackReceiver.Callback::path)
                .containsExactly("/hooks/ok", "/hooks/ok", "/hooks/ok", "/hooks/amd", "/hooks/ok");
        CallbackReceiver.Callback amd = callbacks.get(3);
        assertThat(amd.json().get("type").stringValue()).isEqualTo(type);
        assertThat(amd.json().get("reason").stringValue()).isEqualTo(reason);
        assertThat(amd.json().get("call_sid").stringValue()).isEqualTo(sid);
        assertThat(amd.json().get("customerData").get("request_id").stringValue()).isEqualTo("r-amd");
        String t = amd.signature().substring(2, amd.signature().indexOf(','));
        assertThat(amd.signature().substring(amd.signature().indexOf("v1=") + 3))
                .isEqualTo(TestHmac.hex(SECRET, t + "." + amd.body()));
    }

    @Test
    void noDetectionResultIsSentUnlessTheRequestAsksForOne() throws Exception {
        String sid = createCall(signed, API_KEY, callBody("15550100009", receiver.url("/hooks/ok"), 5, null))
                .get("sid").stringValue();

        await().atMost(WAIT).until(() -> receiver.statusesOf(sid).contains("completed"));
        assertThat(receiver.forCall(sid)).extracting(CallbackReceiver.Callback::path).containsOnly("/hooks/ok");
    }

    @Test
    void callbacksAreUnsignedWithoutASecret() throws Exception {
        String sid = createCall(unsigned, null, callBody("15550100002", receiver.url("/hooks/ok"), 5, null))
                .get("sid").stringValue();

        await().atMost(WAIT).untilAsserted(() -> assertThat(receiver.forCall(sid)).hasSize(2));
        assertThat(receiver.forCall(sid)).allSatisfy(callback -> assertThat(callback.signature()).isNull());
    }

    @Test
    void statusHookObjectWithMethodIsHonoured() throws Exception {
        String hook = "{\"url\":\"" + receiver.url("/hooks/ok") + "\",\"method\":\"PUT\"}";
        String body = """
                {"from":"15557770000","to":{"type":"phone","number":"15550100002"},
                 "call_hook":"http://127.0.0.1:1/app","call_status_hook":%s}""".formatted(hook);
        String sid = createCall(unsigned, null, body).get("sid").stringValue();

        await().atMost(WAIT).untilAsserted(() -> assertThat(receiver.forCall(sid)).hasSize(2));
        assertThat(receiver.forCall(sid)).extracting(CallbackReceiver.Callback::method).containsOnly("PUT");
        assertThat(receiver.forCall(sid).get(0).json().has("application_sid")).isFalse();
    }

    @Test
    void applicationsStatusHookReplacesTheRequestsOwnAsJambonzDoes() throws Exception {
        try (CarrierSimulator jambonz = CarrierSimulator.start(fast()
                .withApplication("app-2", Application.postingStatusesTo(receiver.url("/hooks/app"))))) {
            String sid = createCall(jambonz, null, callBody("15550100002", receiver.url("/hooks/ok"), 5, null)
                    .replace("\"app-1\"", "\"app-2\"")).get("sid").stringValue();

            await().atMost(WAIT).untilAsserted(() -> assertThat(receiver.forCall(sid)).hasSize(2));
            assertThat(receiver.forCall(sid)).extracting(CallbackReceiver.Callback::path)
                    .containsExactly("/hooks/app", "/hooks/app");
            assertThat(receiver.statusesOf(sid)).containsExactly("trying", "failed");
            assertThat(jambonz.calls()).singleElement().extracting(ReceivedCall::statusHookUrl)
                    .as("the request as it arrived").isEqualTo(receiver.url("/hooks/ok"));
        }
    }

    @Test
    void notifyUrlGetsEveryStatusBesideTheApplicationsHookAndAloneWhenTheApplicationHasNone() throws Exception {
        try (CarrierSimulator cognigy = CarrierSimulator.start(fast()
                .withApplication("app-2", Application.postingStatusesTo(receiver.url("/hooks/app")))
                .withApplication("app-3", new Application("http://127.0.0.1:1/answer", null)))) {
            String beside = createCall(cognigy, null, withNotifyUrl(callBody("15550100002", receiver.url("/hooks/ok"),
                    5, null).replace("\"app-1\"", "\"app-2\""))).get("sid").stringValue();
            String alone = createCall(cognigy, null, withNotifyUrl(callBody("15550100002", receiver.url("/hooks/ok"),
                    5, null).replace("\"app-1\"", "\"app-3\""))).get("sid").stringValue();

            await().atMost(WAIT).untilAsserted(() -> {
                assertThat(receiver.forCall(beside)).hasSize(4);
                assertThat(receiver.forCall(alone)).hasSize(2);
            });
            assertThat(receiver.forCall(beside)).extracting(callback -> callback.path() + " " + callback.status())
                    .containsExactly("/hooks/app trying", "/hooks/notify trying", "/hooks/app failed",
                            "/hooks/notify failed");
            assertThat(receiver.forCall(alone)).extracting(CallbackReceiver.Callback::path)
                    .containsExactly("/hooks/notify", "/hooks/notify");
        }
    }

    @Test
    void applicationIsReadWithItsHooksAsJambonzAnswers() throws Exception {
        try (CarrierSimulator jambonz = CarrierSimulator.start(fast().withApiKey(API_KEY)
                .withApplication("app-2", new Application("http://app.test/answer", "http://app.test/status"))
                .withApplication("app-3", new Application("http://app.test/answer", null)))) {
            HttpResponse<String> found = send(request(jambonz, API_KEY, "/v1/Applications/app-2").GET());
            HttpResponse<String> hookless = send(request(jambonz, API_KEY, "/v1/Applications/app-3").GET());

            assertThat(found.statusCode()).isEqualTo(200);
            JsonNode application = MAPPER.readTree(found.body());
            assertThat(application.get("application_sid").stringValue()).isEqualTo("app-2");
            assertThat(application.get("account_sid").stringValue()).isEqualTo("dialer");
            assertThat(application.get("call_hook").get("url").stringValue()).isEqualTo("http://app.test/answer");
            assertThat(application.get("call_status_hook").get("url").stringValue())
                    .isEqualTo("http://app.test/status");
            assertThat(application.get("call_status_hook").get("method").stringValue()).isEqualTo("POST");
            assertThat(MAPPER.readTree(hookless.body()).get("call_status_hook").isNull()).isTrue();
            assertThat(send(request(jambonz, API_KEY, "/v1/Applications/app-1").GET()).statusCode())
                    .isEqualTo(404);
            assertThat(send(request(jambonz, "wrong", "/v1/Applications/app-2").GET()).statusCode())
                    .isEqualTo(401);
        }
    }

    @Test
    void wrongOrMissingApiKeyIsRefusedWith401() throws Exception {
        String body = callBody("15550100005", receiver.url("/hooks/ok"), 5, null);
        int callsBefore = signed.calls().size();

        HttpResponse<String> wrong = post(signed, "wrong", "/v1/Accounts/dialer/Calls", body);
        HttpResponse<String> missing = post(signed, null, "/v1/Accounts/dialer/Calls", body);

        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(MAPPER.readTree(wrong.body()).get("msg").isString()).isTrue();
        assertThat(missing.statusCode()).isEqualTo(401);
        assertThat(signed.calls()).hasSize(callsBefore);
    }

    @Test
    void unknownAccountIsRefusedWith404() throws Exception {
        HttpResponse<String> response = post(signed, API_KEY, "/v1/Accounts/someone-else/Calls",
                callBody("15550100005", receiver.url("/hooks/ok"), 5, null));

        assertThat(response.statusCode()).isEqualTo(404);
    }

    @Test
    void missingToIsRefusedWith400NamingTheField() throws Exception {
        HttpResponse<String> response = post(signed, API_KEY, "/v1/Accounts/dialer/Calls", """
                {"from":"15557770000","application_sid":"app-1","call_status_hook":"%s"}"""
                .formatted(receiver.url("/hooks/ok")));

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(MAPPER.readTree(response.body()).get("errors").toString()).contains("to is required");
    }

    @Test
    void missingApplicationAndCallHookIsRefusedWith400() throws Exception {
        HttpResponse<String> response = post(unsigned, null, "/v1/Accounts/dialer/Calls", """
                {"from":"15557770000","to":{"type":"phone","number":"15550100005"}}""");

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("application_sid or call_hook");
    }

    @Test
    void getReturnsTheFinalStateOfACall() throws Exception {
        String sid = createCall(signed, API_KEY, callBody("15550100000", receiver.url("/hooks/ok"), 5, null))
                .get("sid").stringValue();

        await().atMost(WAIT).untilAsserted(() -> {
            JsonNode state = MAPPER.readTree(get(signed, API_KEY, sid).body());
            assertThat(state.get("call_status").stringValue()).isEqualTo("busy");
            assertThat(state.get("sip_status").intValue()).isEqualTo(486);
            assertThat(state.get("sip_reason").stringValue()).isEqualTo("Busy Here");
            assertThat(state.get("call_sid").stringValue()).isEqualTo(sid);
            assertThat(state.get("duration").intValue()).isZero();
        });
        assertThat(get(signed, API_KEY, "no-such-call").statusCode()).isEqualTo(404);
    }

    @Test
    void putNoAnswerCancelsARingingCallAndStopsItsTimers() throws Exception {
        try (CarrierSimulator slow = CarrierSimulator.start(SimulatorSettings.defaults()
                // Long enough for the ringing callback to arrive and the PUT to follow it on a busy machine.
                .withRingTime(Duration.ofSeconds(3)).withTalkTime(Duration.ofMillis(100)))) {
            String sid = createCall(slow, null, callBody("15550100005", receiver.url("/hooks/ok"), 30, null))
                    .get("sid").stringValue();
            await().atMost(WAIT).until(() -> receiver.statusesOf(sid).contains("ringing"));

            HttpResponse<String> cancel = put(slow, sid, "{\"call_status\":\"no-answer\"}");

            assertThat(cancel.statusCode()).isEqualTo(202);
            await().atMost(WAIT).until(() -> receiver.statusesOf(sid).contains("no-answer"));
            // the ring timer would have answered 3 s in; the call must stay cancelled past that
            await().during(Duration.ofMillis(3500)).atMost(WAIT).untilAsserted(() ->
                    assertThat(receiver.statusesOf(sid)).containsExactly("trying", "ringing", "no-answer"));
            assertThat(receiver.forCall(sid).get(2).sipStatus()).isEqualTo(487);
            assertThat(MAPPER.readTree(get(slow, null, sid).body()).get("call_status").stringValue())
                    .isEqualTo("no-answer");
            assertThat(put(slow, sid, "{\"call_status\":\"no-answer\"}").statusCode()).isEqualTo(400);
        }
    }

    @Test
    void putCompletedHangsUpAnAnsweredCall() throws Exception {
        try (CarrierSimulator longTalk = CarrierSimulator.start(SimulatorSettings.defaults()
                .withRingTime(Duration.ofMillis(50)).withTalkTime(Duration.ofSeconds(30)))) {
            String sid = createCall(longTalk, null, callBody("15550100005", receiver.url("/hooks/ok"), 5, null))
                    .get("sid").stringValue();
            await().atMost(WAIT).until(() -> receiver.statusesOf(sid).contains("in-progress"));

            assertThat(put(longTalk, sid, "{\"call_status\":\"completed\"}").statusCode()).isEqualTo(202);

            await().atMost(WAIT).until(() -> receiver.statusesOf(sid).contains("completed"));
            assertThat(receiver.statusesOf(sid)).containsExactly("trying", "ringing", "in-progress", "completed");
            assertThat(receiver.forCall(sid).get(3).json().get("call_termination_by").stringValue())
                    .isEqualTo("jambonz");
        }
    }

    @Test
    void putOnUnknownCallIs404AndAnUnknownStatusIs400() throws Exception {
        String sid = createCall(unsigned, null, callBody("15550100005", receiver.url("/hooks/ok"), 5, null))
                .get("sid").stringValue();

        assertThat(put(unsigned, "no-such-call", "{\"call_status\":\"no-answer\"}").statusCode()).isEqualTo(404);
        assertThat(put(unsigned, sid, "{\"call_status\":\"ringing\"}").statusCode()).isEqualTo(400);
    }

    @Test
    void timeLimitShortensAnAnsweredCall() throws Exception {
        try (CarrierSimulator longTalk = CarrierSimulator.start(SimulatorSettings.defaults()
                .withRingTime(Duration.ofMillis(50)).withTalkTime(Duration.ofSeconds(30)))) {
            String body = callBody("15550100005", receiver.url("/hooks/ok"), 5, null)
                    .replace("\"timeout\":5", "\"timeout\":5,\"timeLimit\":1");
            String sid = createCall(longTalk, null, body).get("sid").stringValue();

            await().atMost(WAIT).until(() -> receiver.statusesOf(sid).contains("completed"));
            JsonNode completed = receiver.forCall(sid).get(3).json();
            assertThat(completed.get("duration").intValue()).isEqualTo(1);
        }
    }

    @Test
    void refusedCallbacksAreNotRetriedAndTheSequenceContinues() throws Exception {
        String sid = createCall(unsigned, null, callBody("15550100008", receiver.url("/hooks/refuse"), 5, null))
                .get("sid").stringValue();

        await().atMost(WAIT).until(() -> receiver.statusesOf(sid).contains("completed"));
        assertThat(receiver.statusesOf(sid)).containsExactly("trying", "ringing", "in-progress", "completed");
        await().atMost(WAIT).untilAsserted(() -> assertThat(metrics(unsigned))
                .containsPattern("dialer_simulator_callbacks_total\\{result=\"refused\",status=\"completed\"} [1-9]"));
    }

    @Test
    void unreachableStatusHookStillPlaysTheCallToItsEnd() throws Exception {
        String sid = createCall(unsigned, null, callBody("15550100006", "http://127.0.0.1:1/hooks/ok", 5, null))
                .get("sid").stringValue();

        await().atMost(WAIT).untilAsserted(() -> assertThat(MAPPER.readTree(get(unsigned, null, sid).body())
                .get("call_status").stringValue()).isEqualTo("completed"));
        await().atMost(WAIT).untilAsserted(() -> assertThat(metrics(unsigned))
                .containsPattern("dialer_simulator_callbacks_total\\{result=\"error\",status=\"completed\"} [1-9]"));
    }

    @Test
    void metricsExposeCreatedCallsCallbacksAndActiveCalls() throws Exception {
        String sid = createCall(unsigned, null, callBody("15550100012", receiver.url("/hooks/ok"), 5, null))
                .get("sid").stringValue();
        await().atMost(WAIT).until(() -> receiver.statusesOf(sid).contains("failed"));

        await().atMost(WAIT).untilAsserted(() -> assertThat(metrics(unsigned))
                // Prometheus reserves the _created suffix, so dialer.simulator.calls.created is scraped without it
                .containsPattern("dialer_simulator_calls_total\\{outcome=\"failed\"} [1-9]")
                .containsPattern("dialer_simulator_callbacks_total\\{result=\"ok\",status=\"failed\"} [1-9]")
                .contains("dialer_simulator_calls_active "));
    }

    @Test
    void callsListsAcceptedRequestsInArrivalOrder() throws Exception {
        try (CarrierSimulator fresh = CarrierSimulator.start(SimulatorSettings.defaults())) {
            String first = createCall(fresh, null, callBody("15550100002", receiver.url("/hooks/ok"), 5, null))
                    .get("sid").stringValue();
            String second = createCall(fresh, null, callBody("15550100012", receiver.url("/hooks/ok"), 5, null))
                    .get("sid").stringValue();

            assertThat(fresh.calls()).extracting(ReceivedCall::callSid).containsExactly(first, second);
            assertThat(fresh.baseUrl()).isEqualTo("http://127.0.0.1:" + fresh.port());
        }
    }

    private static SimulatorSettings fast() {
        return SimulatorSettings.defaults().withRingTime(Duration.ofMillis(100)).withTalkTime(Duration.ofMillis(200));
    }

    private static String withNotifyUrl(String body) {
        return body.replaceFirst("}$", ",\"notifyUrl\":{\"url\":\"" + receiver.url("/hooks/notify")
                + "\",\"method\":\"POST\"}}");
    }

    private static String callBody(String number, String hookUrl, int timeoutSeconds, String tagJson) {
        return """
                {"application_sid":"app-1","from":"15557770000",
                 "to":{"type":"phone","number":"%s","trunk":"sim"},
                 "call_status_hook":"%s","timeout":%d%s}"""
                .formatted(number, hookUrl, timeoutSeconds, tagJson == null ? "" : ",\"tag\":" + tagJson);
    }

    private static JsonNode createCall(CarrierSimulator simulator, String apiKey, String body)
            throws IOException, InterruptedException {
        HttpResponse<String> response = post(simulator, apiKey, "/v1/Accounts/dialer/Calls", body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        JsonNode json = MAPPER.readTree(response.body());
        assertThat(json.get("sid").stringValue()).isNotBlank();
        assertThat(json.get("callId").stringValue()).isNotBlank();
        return json;
    }

    private static HttpResponse<String> post(CarrierSimulator simulator, String apiKey, String path, String body)
            throws IOException, InterruptedException {
        return send(request(simulator, apiKey, path).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private static HttpResponse<String> put(CarrierSimulator simulator, String sid, String body)
            throws IOException, InterruptedException {
        return send(request(simulator, null, "/v1/Accounts/dialer/Calls/" + sid)
                .PUT(HttpRequest.BodyPublishers.ofString(body)));
    }

    private static HttpResponse<String> get(CarrierSimulator simulator, String apiKey, String sid)
            throws IOException, InterruptedException {
        return send(request(simulator, apiKey, "/v1/Accounts/dialer/Calls/" + sid).GET());
    }

    private static String metrics(CarrierSimulator simulator) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(simulator.baseUrl() + "/metrics")).GET()).body();
    }

    private static HttpRequest.Builder request(CarrierSimulator simulator, String apiKey, String path) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(simulator.baseUrl() + path))
                .timeout(Duration.ofSeconds(5))
                .header("Content-Type", "application/json");
        return apiKey == null ? builder : builder.header("Authorization", "Bearer " + apiKey);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
