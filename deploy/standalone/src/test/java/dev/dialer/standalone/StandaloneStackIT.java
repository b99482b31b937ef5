package dev.dialer.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.infra.Infrastructure;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The whole stack as the README's run command starts it (on free ports): the four example requests of the
 * {@code outgoing/send} API document, sent the way its curl examples send them, each end in a completed call and
 * delivered webhooks.
 */
class StandaloneStackIT {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String BRIDGE = "918068281234";

    private static Path dataDir;
    private static StandaloneStack stack;
    private static DisposableServer receiver;
    private static final Queue<JsonNode> delivered = new ConcurrentLinkedQueue<>();
    private static final Queue<JsonNode> notified = new ConcurrentLinkedQueue<>();
    private static final Queue<JsonNode> actioned = new ConcurrentLinkedQueue<>();
    /** Each action hook body with its {@code webhook-id|webhook-timestamp|webhook-signature}. */
    private static final Map<String, String> actionSignatures = new ConcurrentHashMap<>();
    private static final HttpClient http = HttpClient.newHttpClient();
    private static String webhookId;

    @BeforeAll
    static void startStack() throws Exception {
        // Named as the other tests' data, which .ci/run clears should a killed run leave it behind.
        dataDir = Files.createTempDirectory("dialer-it-standalone-");
        stack = StandaloneStack.start(StandaloneOptions.defaults().withFreePorts().withDataDir(dataDir)
                .withTimes(Duration.ofMillis(200), Duration.ofMillis(300)));
        receiver = HttpServer.create().host("127.0.0.1").port(0)
                .route(routes -> routes
                        .post("/hooks", (request, response) -> request.receive().aggregate()
                                .asString(StandardCharsets.UTF_8)
                                .doOnNext(body -> delivered.add(JSON.readTree(body)))
                                .then(response.status(200).send()))
                        .post("/notify", (request, response) -> request.receive().aggregate()
                                .asString(StandardCharsets.UTF_8)
                                .doOnNext(body -> notified.add(JSON.readTree(body)))
                                .then(response.status(200).send()))
                        .post("/action", (request, response) -> request.receive().aggregate()
                                .asString(StandardCharsets.UTF_8)
                                .doOnNext(body -> {
                                    actionSignatures.put(body, request.requestHeaders().get("webhook-id") + "|"
                                            + request.requestHeaders().get("webhook-timestamp") + "|"
                                            + request.requestHeaders().get("webhook-signature"));
                                    actioned.add(JSON.readTree(body));
                                })
                                .then(response.status(200).send())))
                .bindNow();
        HttpResponse<String> created = post("/api/v2/webhooks", "application/json",
                "{\"url\":\"http://127.0.0.1:" + receiver.port() + "/hooks\",\"description\":\"e2e\"}");
        assertThat(created.statusCode()).isEqualTo(201);
        webhookId = JSON.readTree(created.body()).get("id").asString();
    }

    @AfterAll
    static void stopStack() {
        if (receiver != null) {
            receiver.disposeNow();
        }
        if (stack != null) {
            stack.close();
        }
        if (dataDir != null) {
            Infrastructure.deleteQuietly(dataDir);
        }
    }

    @Test
    void documentedExampleWithAudioIdCompletes() throws Exception {
        String id = send("application/json", """
                {"bridge":"%s","to":"919876543215","audio":"39888925-718e-43bb-a8b1-d4a3a1b2c3d4",
                 "name":"obd_api_call","webhook_id":"%s"}""".formatted(BRIDGE, webhookId));
        assertCompletedLifecycle(id);
    }

    @Test
    void documentedExampleWithFlowIdSentWithCurlsDefaultContentTypeCompletes() throws Exception {
        String id = send("application/x-www-form-urlencoded", """
                {"bridge":"%s","to":"919876543216","flow_id":"23","name":"obd_api_call","webhook_id":"%s"}"""
                .formatted(BRIDGE, webhookId));
        assertCompletedLifecycle(id);
    }

    @Test
    void documentedExampleWithFlowIdAndVariablesCompletesWithoutLeakingVariables() throws Exception {
        String id = send("application/x-www-form-urlencoded", """
                {"bridge":"%s","to":"919876543217","flow_id":"24","variables[Name]":"YourName",
                 "variables[otp]":"123456","webhook_id":"%s"}""".formatted(BRIDGE, webhookId));
        assertCompletedLifecycle(id);
        assertThat(eventsOf(id)).allSatisfy(event -> {
            assertThat(event.has("variables")).isFalse();
            assertThat(event.toString()).doesNotContain("123456");
        });
        Map<String, Object> tag = stack.simulator().calls().stream()
                .filter(call -> id.equals(call.tag().get("request_id"))).findFirst().orElseThrow().tag();
        assertThat(tag.get("variables")).isEqualTo(Map.of("Name", "YourName", "otp", "123456"));
    }

    @Test
    void documentedExampleWithAudioUrlCompletes() throws Exception {
        String id = send("application/json", """
                {"bridge":"%s","to":"919876543218","audio":"http://youraudiofilelocation.mp3",
                 "name":"obd_api_call","webhook_id":"%s"}""".formatted(BRIDGE, webhookId));
        assertCompletedLifecycle(id);
    }

    @Test
    void calleeEndingInZeroEndsBusy() throws Exception {
        String id = sendAndAwaitFinal("919876543210");

        List<String> statuses = statusesOf(id);
        assertThat(statuses).contains("queued", "initiated", "busy");
        assertThat(statuses).doesNotContain("in-progress", "completed");
        JsonNode busy = eventsOf(id).stream().filter(e -> e.get("status").asString().equals("busy")).findFirst()
                .orElseThrow();
        assertThat(busy.get("sip_status").asInt()).isEqualTo(486);
        assertThat(finalsOf(id).get(0).get("status").asString()).isEqualTo("exhausted");
    }

    @Test
    void calleeEndingInThreeIsRefusedForCapacityOnceThenAnsweredInTheSameAttempt() throws Exception {
        String id = sendAndAwaitFinal("919876543213");

        List<JsonNode> deferred = eventsOf(id).stream()
                .filter(e -> e.get("event_type").asString().equals("call.deferred")).toList();
        assertThat(deferred).hasSize(1);
        assertThat(deferred.get(0).get("sip_status").asInt()).isEqualTo(503);
        assertThat(deferred.get(0).get("will_retry").asBoolean()).isTrue();
        JsonNode answered = finalsOf(id).get(0);
        assertThat(answered.get("status").asString()).isEqualTo("answered");
        assertThat(answered.get("attempt").get("number").asInt()).isEqualTo(1);
        assertThat(stack.simulator().calls().stream().filter(call -> id.equals(call.tag().get("request_id"))))
                .hasSize(2);
    }

    @Test
    void commandWrittenStraightToKafkaIsDialled() throws Exception {
        String id = UUID.randomUUID().toString();
        String command = """
                {"version":1,"request_id":"%s","account_id":"demo","caller_id":"+918068281234",
                 "to":"+919876543219","flow_id":"23","webhook_id":"%s","created_at":"%s"}"""
                .formatted(id, webhookId, Instant.now());
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                "bootstrap.servers", stack.kafkaBootstrapServers(), "acks", "all"),
                new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>("dialer.call.commands", "+918068281234", command)).get();
        }
        assertCompletedLifecycle(id);
    }

    @Test
    void voiceGatewayDialectCallReportsToItsNotifyUrlAndActionHook() throws Exception {
        String hooks = "http://127.0.0.1:" + receiver.port();
        HttpResponse<String> created = post("/v1/Accounts/demo/Calls", "application/json", """
                {"application_sid":"app-1","from":"918068281234","to":{"type":"phone","number":"919876543214"},
                 "timeLimit":30,"tag":{"crm":"c-1"},"notifyUrl":{"url":"%s/notify","method":"POST"},
                 "actionHook":"%s/action"}""".formatted(hooks, hooks));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String sid = JSON.readTree(created.body()).get("sid").asString();

        await().atMost(Duration.ofSeconds(60)).until(() -> actioned.stream()
                .anyMatch(e -> sid.equals(e.get("request_id").asString())));
        List<String> statuses = notified.stream().filter(e -> sid.equals(e.get("request_id").asString()))
                .filter(e -> e.get("event_type").asString().equals("call.status"))
                .map(e -> e.get("status").asString()).toList();
        assertThat(statuses).containsSubsequence("queued", "initiated", "ringing", "in-progress", "completed");
        List<JsonNode> finals = actioned.stream().filter(e -> sid.equals(e.get("request_id").asString())).toList();
        assertThat(finals).hasSize(1);
        assertThat(finals.get(0).get("status").asString()).isEqualTo("answered");
        assertSignedWithTheAccountsHookSecret(sid);
        Map<String, Object> tag = stack.simulator().calls().stream()
                .filter(call -> sid.equals(call.tag().get("request_id"))).findFirst().orElseThrow().tag();
        assertThat(tag).containsEntry("crm", "c-1");
    }

    @Test
    void everyServiceIsReadyAndExportsItsCounters() throws Exception {
        Map<Integer, String> counters = Map.of(
                stack.apiPort(), "dialer_api_requests_total",
                stack.dispatcherPort(), "dialer_dispatcher_commands_total",
                stack.webhookPort(), "dialer_webhook_deliveries_total");
        documentedExampleWithAudioIdCompletes();
        for (var service : counters.entrySet()) {
            assertThat(get(service.getKey(), "/actuator/health/readiness").body()).contains("\"UP\"");
            assertThat(get(service.getKey(), "/actuator/health/liveness").body()).contains("\"UP\"");
            assertThat(get(service.getKey(), "/actuator/prometheus").body()).contains(service.getValue());
        }
    }

    @Test
    void theSimulatorsApplicationsPostStatusesToTheDispatcherWhichFindsThemPostingThere() throws Exception {
        documentedExampleWithAudioIdCompletes();

        assertThat(stack.simulator().calls()).allSatisfy(call -> {
            assertThat(call.applicationSid()).isNotNull();
            assertThat(call.tag()).as("sealed, and answered through that seal").containsKey("seal");
        });
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(get(stack.dispatcherPort(),
                "/actuator/prometheus").body())
                .containsPattern("dialer_dispatcher_carrier_application_checks_total\\{result=\"here\"} [1-9]")
                .contains("dialer_dispatcher_carrier_applications_misdirected 0.0"));
        assertThat(get(stack.dispatcherPort(), "/actuator/health").body())
                .contains("\"applicationStatusHooks\":{\"status\":\"UP\"}");
    }

    /** The action hook's signature verifies with the secret the API shows the demo account: both have one key. */
    private static void assertSignedWithTheAccountsHookSecret(String sid) throws Exception {
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + stack.apiPort() + "/api/v2/account/hook-secret"))
                .header("Authorization", "Bearer " + stack.demoApiKey()).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        String secret = JSON.readTree(answer.body()).get("secret").asString();
        Map.Entry<String, String> signed = actionSignatures.entrySet().stream()
                .filter(entry -> sid.equals(JSON.readTree(entry.getKey()).get("request_id").asString()))
                .findFirst().orElseThrow();
        String[] headers = signed.getValue().split("\\|");
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring("whsec_".length())), "HmacSHA256"));
        byte[] expected = mac.doFinal((headers[0] + "." + headers[1] + "." + signed.getKey())
                .getBytes(StandardCharsets.UTF_8));
        assertThat(headers[2]).isEqualTo("v1," + Base64.getEncoder().encodeToString(expected));
    }

    private static void assertCompletedLifecycle(String id) {
        await().atMost(Duration.ofSeconds(60)).until(() -> finalsOf(id).size() == 1);
        assertThat(statusesOf(id)).containsSubsequence("queued", "initiated", "ringing", "in-progress", "completed");
        List<JsonNode> finals = finalsOf(id);
        assertThat(finals).hasSize(1);
        assertThat(finals.get(0).get("status").asString()).isEqualTo("answered");
        List<Long> sequence = eventsOf(id).stream().map(e -> e.get("sequence_number").asLong()).toList();
        assertThat(sequence).isSorted().doesNotHaveDuplicates();
    }

    /** The documented send with a flow, to {@code to}, and the wait for its one final event; its request id. */
    private static String sendAndAwaitFinal(String to) throws Exception {
        String id = send("application/json", """
                {"bridge":"%s","to":"%s","flow_id":"23","webhook_id":"%s"}""".formatted(BRIDGE, to, webhookId));
        await().atMost(Duration.ofSeconds(60)).until(() -> finalsOf(id).size() == 1);
        return id;
    }

    private static List<JsonNode> eventsOf(String id) {
        return delivered.stream().filter(event -> id.equals(event.get("request_id").asString())).toList();
    }

    private static List<String> statusesOf(String id) {
        return eventsOf(id).stream().filter(e -> e.get("event_type").asString().equals("call.status"))
                .map(e -> e.get("status").asString()).toList();
    }

    private static List<JsonNode> finalsOf(String id) {
        return eventsOf(id).stream().filter(e -> e.get("event_type").asString().equals("call.final")).toList();
    }

    private static String send(String contentType, String body) throws Exception {
        HttpResponse<String> response = post("/api/v2/outgoing/send", contentType, body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode json = JSON.readTree(response.body());
        assertThat(json.get("status").asString()).isEqualTo("OK");
        assertThat(json.get("message").asString()).isEqualTo("Calls queued successfully");
        assertThat(json.get("data").get(0).get("status").asString()).isEqualTo("queued");
        return json.get("data").get(0).get("id").asString();
    }

    private static HttpResponse<String> post(String path, String contentType, String body)
            throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.apiPort() + path))
                .header("Accept", "application/json")
                .header("Authorization", "Bearer " + stack.demoApiKey())
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
