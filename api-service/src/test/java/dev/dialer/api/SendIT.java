package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.account.ApiKeys;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CommandReader;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=api-service",
        "dialer.api.bootstrap.account-id=acme",
        "dialer.api.bootstrap.api-key=" + SendIT.KEY,
        "dialer.kafka.partitions=3"})
class SendIT {

    static final String KEY = "dk_test_acme_0123456789abcdefghijklmnopqrstuvwxyz";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;

    @Value("${dialer.api.kafka.ack-timeout}")
    Duration ackTimeout;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.Endpoints infra = Infrastructure.shared();
        registry.add("dialer.kafka.bootstrap-servers", infra::kafkaBootstrapServers);
        registry.add("spring.r2dbc.url", infra::r2dbcUrl);
        registry.add("spring.r2dbc.username", infra::username);
        registry.add("spring.r2dbc.password", infra::password);
        registry.add("spring.flyway.url", infra::jdbcUrl);
        registry.add("spring.flyway.user", infra::username);
        registry.add("spring.flyway.password", infra::password);
    }

    @Test
    void loadsItsOwnConfigurationFile() {
        assertThat(ackTimeout).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void queuesASeedRequestAndAnswersInTheSeedsShape() throws Exception {
        String foreign = UUID.randomUUID().toString();
        HttpResponse<String> response = post("/api/v2/outgoing/send", "application/x-www-form-urlencoded", KEY, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"24","foreign_id":"%s",
                 "variables[Name]":"YourName","variables[otp]":"123456"}""".formatted(foreign));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(response.body());
        assertThat(body.get("status").asString()).isEqualTo("OK");
        assertThat(body.get("message").asString()).isEqualTo("Calls queued successfully");
        JsonNode row = body.get("data").get(0);
        assertThat(row.propertyNames()).containsExactly("id", "channel", "caller_id", "mobile", "flow_id", "credits",
                "created_at", "foreign_id", "options", "status");
        assertThat(row.get("channel").asString()).isEqualTo("outgoing");
        assertThat(row.get("caller_id").asString()).isEqualTo("918068281234");
        assertThat(row.get("mobile").asString()).isEqualTo("919876543215");
        assertThat(row.get("options").isNull()).isTrue();
        assertThat(row.get("status").asString()).isEqualTo("queued");

        ConsumerRecord<String, byte[]> record = commandFor(row.get("id").asString());
        assertThat(record.key()).isEqualTo("+918068281234");
        CallCommand command = new CommandReader().read(record.value());
        assertThat(command.accountId()).isEqualTo("acme");
        assertThat(command.to()).isEqualTo("+919876543215");
        assertThat(command.foreignId()).isEqualTo(foreign);
        assertThat(command.variables()).isEqualTo(Map.of("Name", "YourName", "otp", "123456"));
    }

    @Test
    void queuesValidRecipientsAndReportsTheInvalidOne() throws Exception {
        HttpResponse<String> response = post("/api/v2/outgoing/send", "application/json", KEY, """
                {"bridge":"918068281234","to":"919876543215,12,919876543216","audio":"a-sound"}""");

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode data = JSON.readTree(response.body()).get("data");
        assertThat(data).hasSize(3);
        assertThat(data.get(1).get("status").asString()).isEqualTo("rejected");
        assertThat(data.get(1).get("error").asString()).startsWith("to[1]");
        commandFor(data.get(0).get("id").asString());
        commandFor(data.get(2).get("id").asString());
    }

    @Test
    void refusesMissingOrWrongKeys() throws Exception {
        HttpResponse<String> none = http.send(HttpRequest.newBuilder(uri("/api/v2/outgoing/send"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> wrong = post("/api/v2/outgoing/send", "application/json", "dk_wrong", "{}");

        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    }

    @Test
    void namesTheBadFieldInAProblem() throws Exception {
        HttpResponse<String> response = post("/api/v2/outgoing/send", "application/json", KEY, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","interval":7}""");

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        JsonNode problem = JSON.readTree(response.body());
        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/validation");
        assertThat(problem.get("errors").get(0).get("field").asString()).isEqualTo("interval");
    }

    @Test
    void createsAWebhookStoresItsKeyHashedAndPublishesIt() throws Exception {
        HttpResponse<String> created = post("/api/v2/webhooks", "application/json", KEY,
                "{\"url\":\"https://example.com/hooks\",\"description\":\"crm\"}");

        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode webhook = JSON.readTree(created.body());
        String id = webhook.get("id").asString();
        assertThat(webhook.get("secret").asString()).startsWith("whsec_");
        WebhookConfig published = Contract.read(recordOn(Topics.WEBHOOK_CONFIG, id).value(), WebhookConfig.class);
        assertThat(published.url()).isEqualTo("https://example.com/hooks");
        assertThat(published.accountId()).isEqualTo("acme");
        assertThat(published.secret()).isEqualTo(webhook.get("secret").asString());

        HttpResponse<String> read = get("/api/v2/webhooks/" + id, KEY);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.body()).doesNotContain("whsec_");

        Infrastructure.Endpoints infra = Infrastructure.shared();
        try (var connection = DriverManager.getConnection(infra.jdbcUrl(), infra.username(), infra.password());
             var rows = connection.createStatement().executeQuery("SELECT key_hash FROM api.api_keys")) {
            List<String> hashes = new ArrayList<>();
            while (rows.next()) {
                hashes.add(rows.getString(1));
            }
            assertThat(hashes).contains(ApiKeys.hash(KEY)).doesNotContain(KEY);
        }
    }

    @Test
    void anotherAccountsWebhookIsNotFoundAndCannotBeUsed() throws Exception {
        String otherKey = ApiKeys.newKey();
        accounts().ensure("other", "IN", otherKey).block(Duration.ofSeconds(10));
        String id = JSON.readTree(post("/api/v2/webhooks", "application/json", otherKey,
                "{\"url\":\"https://example.com/other\"}").body()).get("id").asString();

        assertThat(get("/api/v2/webhooks/" + id, KEY).statusCode()).isEqualTo(404);
        HttpResponse<String> send = post("/api/v2/outgoing/send", "application/json", KEY, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","webhook_id":"%s"}""".formatted(id));
        assertThat(send.statusCode()).isEqualTo(400);
        assertThat(send.body()).contains("webhook_id");
    }

    @Test
    void exportsItsCounters() throws Exception {
        post("/api/v2/outgoing/send", "application/json", KEY, "{}");

        assertThat(get("/actuator/prometheus", null).body()).contains("dialer_api_requests_total");
        assertThat(get("/actuator/health/readiness", null).body()).contains("UP");
    }

    @org.springframework.beans.factory.annotation.Autowired
    private dev.dialer.api.account.Accounts accountsBean;

    private dev.dialer.api.account.Accounts accounts() {
        return accountsBean;
    }

    private ConsumerRecord<String, byte[]> commandFor(String id) {
        return recordOn(Topics.CALL_COMMANDS, null, id);
    }

    private ConsumerRecord<String, byte[]> recordOn(String topic, String key) {
        return recordOn(topic, key, null);
    }

    private ConsumerRecord<String, byte[]> recordOn(String topic, String key, String requestId) {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                "bootstrap.servers", Infrastructure.shared().kafkaBootstrapServers(),
                "group.id", "send-it-" + UUID.randomUUID(), "auto.offset.reset", "earliest"),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    boolean keyMatches = key == null || key.equals(record.key());
                    boolean idMatches = requestId == null
                            || new String(record.value()).contains("\"request_id\":\"" + requestId + "\"");
                    if (keyMatches && idMatches) {
                        return record;
                    }
                }
            }
        }
        throw new AssertionError("no record on " + topic + " for " + (key != null ? key : requestId));
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    private HttpResponse<String> post(String path, String contentType, String key, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path, String key) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).GET();
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
