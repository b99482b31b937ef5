package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CommandReader;
import dev.dialer.common.kafka.Topics;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.PropertySource;
import tools.jackson.databind.JsonNode;

class SendIT extends RunningApiService {

    private static final String SEND = "/api/v2/outgoing/send";
    private static final CommandReader READER = new CommandReader();
    private static TopicProbe commands;

    @Autowired
    ConfigurableEnvironment environment;

    @BeforeAll
    static void readCommands() {
        commands = probe(Topics.CALL_COMMANDS);
    }

    @AfterAll
    static void closeProbe() {
        commands.close();
    }

    @Test
    void runsOnItsOwnConfigurationFile() {
        assertThat(environment.getPropertySources().stream().map(PropertySource::getName))
                .anyMatch(name -> name.contains("api-service.yml"));
        assertThat(environment.getProperty("spring.flyway.default-schema")).isEqualTo("api");
        assertThat(environment.getProperty("dialer.api.kafka.ack-timeout")).isEqualTo("PT10S");
    }

    @Test
    void queuesTheDocumentedVariablesExampleSentWithCurlsDefaultContentTypeAndAnswersAsDocumented() throws Exception {
        String foreignId = "f-" + UUID.randomUUID();
        HttpResponse<String> response = post(SEND, FORM, KEY, """
                {
                    "bridge":"918068281234",
                    "to":"919876543215",
                    "flow_id":"24",
                    "variables[Name]":"YourName",
                    "variables[otp]":"123456",
                    "foreign_id":"%s"
                }""".formatted(foreignId));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/json"));
        JsonNode body = json(response);
        assertThat(body.propertyNames()).containsExactly("status", "message", "data");
        assertThat(body.get("status").asString()).isEqualTo("OK");
        assertThat(body.get("message").asString()).isEqualTo("Calls queued successfully");
        assertThat(body.get("data")).hasSize(1);
        JsonNode row = body.get("data").get(0);
        assertThat(row.propertyNames()).containsExactly("id", "channel", "caller_id", "mobile", "flow_id", "credits",
                "created_at", "foreign_id", "options", "status");
        assertThat(row.get("channel").asString()).isEqualTo("outgoing");
        assertThat(row.get("caller_id").asString()).isEqualTo("918068281234");
        assertThat(row.get("mobile").asString()).isEqualTo("919876543215");
        assertThat(row.get("flow_id").asString()).isEqualTo("24");
        assertThat(row.get("credits").asInt()).isEqualTo(1);
        assertThat(row.get("foreign_id").asString()).isEqualTo(foreignId);
        assertThat(row.get("options").isNull()).isTrue();
        assertThat(row.get("status").asString()).isEqualTo("queued");

        ConsumerRecord<String, byte[]> record = commandWithId(row.get("id").asString());
        assertThat(record.key()).isEqualTo("+918068281234");
        CallCommand command = READER.read(record.value());
        assertThat(command.version()).isEqualTo(1);
        assertThat(command.accountId()).isEqualTo(ACCOUNT);
        assertThat(command.callerId()).isEqualTo("+918068281234");
        assertThat(command.to()).isEqualTo("+919876543215");
        assertThat(command.flowId()).isEqualTo("24");
        assertThat(command.intervalMinutes()).isZero();
        assertThat(command.maxAttempts()).isEqualTo(CallCommand.DEFAULT_MAX_ATTEMPTS);
        assertThat(command.foreignId()).isEqualTo(foreignId);
        assertThat(command.variables()).isEqualTo(Map.of("Name", "YourName", "otp", "123456"));
        assertThat(command.createdAt().toString()).isEqualTo(row.get("created_at").asString());
    }

    static Stream<Arguments> documentedExamples() {
        String audioId = "\"audio\":\"39888925-718e-43bb-a8b1-d4a3a1b2c\",\n    \"name\":\"obd_api_call\"";
        String flowId = "\"flow_id\":\"23\",\n    \"name\":\"obd_api_call\"";
        String variables = "\"flow_id\":\"24\",\n    \"variables[Name]\":\"YourName\",\n    \"variables[otp]\":\"123456\"";
        String audioUrl = "\"audio\":\"http://youraudiofilelocation.mp3\",\n    \"name\":\"obd_api_call\"";
        return Stream.of(audioId, flowId, variables, audioUrl)
                .map(fields -> "{\n    \"bridge\":\"918068281234\",\n    \"to\":\"919876543215\",\n    " + fields + "\n}")
                .flatMap(body -> Stream.of(Arguments.of(body, JSON_TYPE), Arguments.of(body, FORM)));
    }

    @ParameterizedTest
    @MethodSource("documentedExamples")
    void queuesEachDocumentedExampleWithEitherContentType(String body, String contentType) throws Exception {
        HttpResponse<String> response = post(SEND, contentType, KEY, body);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode row = json(response).get("data").get(0);
        CallCommand command = READER.read(commandWithId(row.get("id").asString()).value());
        assertThat(command.to()).isEqualTo("+919876543215");
        assertThat(command.flowId() != null || command.audio() != null).isTrue();
    }

    @Test
    void queuesTheValidRecipientsOfAListAndRejectsTheInvalidOneInItsRow() throws Exception {
        String foreignId = "f-" + UUID.randomUUID();
        HttpResponse<String> response = post(SEND, JSON_TYPE, KEY, """
                {"bridge":"918068281234","to":"919876543215, 123, 919876543216","audio":"welcome",
                 "interval":15,"foreign_id":"%s"}""".formatted(foreignId));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode data = json(response).get("data");
        assertThat(data).hasSize(3);
        assertThat(data.get(1).get("status").asString()).isEqualTo("rejected");
        assertThat(data.get(1).get("error").get("field").asString()).isEqualTo("to[1]");
        List<CallCommand> queued = commands.readToEnd().stream()
                .map(record -> READER.read(record.value()))
                .filter(command -> foreignId.equals(command.foreignId()))
                .toList();
        assertThat(queued).extracting(CallCommand::to).containsExactlyInAnyOrder("+919876543215", "+919876543216");
        assertThat(queued).extracting(CallCommand::requestId).containsExactlyInAnyOrder(
                data.get(0).get("id").asString(), data.get(2).get("id").asString());
        assertThat(queued).allSatisfy(command -> assertThat(command.intervalMinutes()).isEqualTo(15));
    }

    @Test
    void eachCommandCarriesTheRequestsTraceAsASpanOfItsOwnOrANewTrace() throws Exception {
        String trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        HttpResponse<String> traced = post(SEND, JSON_TYPE, KEY, DocumentedExample.FLOW,
                Map.of("traceparent", "00-" + trace + "-00f067aa0ba902b7-01"));
        HttpResponse<String> untraced = post(SEND, JSON_TYPE, KEY, DocumentedExample.FLOW);

        assertThat(traced.statusCode()).as(traced.body()).isEqualTo(200);
        assertThat(untraced.statusCode()).as(untraced.body()).isEqualTo(200);
        String continued = header(commandWithId(json(traced).get("data").get(0).get("id").asString()), "traceparent");
        String started = header(commandWithId(json(untraced).get("data").get(0).get("id").asString()), "traceparent");
        assertThat(continued).matches("00-" + trace + "-[0-9a-f]{16}-01").doesNotContain("00f067aa0ba902b7");
        assertThat(started).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01").doesNotContain(trace);
    }

    @Test
    void refusesARequestWithoutAKey() throws Exception {
        HttpResponse<String> response = post(SEND, JSON_TYPE, null, DocumentedExample.FLOW);

        assertUnauthorized(response);
    }

    @Test
    void refusesAnEncodedOrParameterisedFormOfAnApiPathWithoutAKey() throws Exception {
        assertUnauthorized(get("/%61pi/v2/calls", null));
        assertUnauthorized(get("/api;x=1/v2/calls", null));
        assertUnauthorized(post("/%61pi/v2/outgoing/send", JSON_TYPE, null, DocumentedExample.FLOW));
    }

    @Test
    void refusesARequestWithAWrongKey() throws Exception {
        HttpResponse<String> response = post(SEND, JSON_TYPE, "dk_" + UUID.randomUUID(), DocumentedExample.FLOW);

        assertUnauthorized(response);
    }

    @Test
    void answersAProblemNamingTheInvalidField() throws Exception {
        HttpResponse<String> response = post(SEND, JSON_TYPE, KEY, """
                {"bridge":"918068281234","to":"919876543215","audio":"ftp://x"}""");

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        JsonNode problem = json(response);
        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/validation");
        assertThat(problem.get("status").asInt()).isEqualTo(400);
        assertThat(problem.get("instance").asString()).isEqualTo(SEND);
        assertThat(problem.get("errors")).hasSize(1);
        assertThat(problem.get("errors").get(0).get("field").asString()).isEqualTo("audio");
    }

    @Test
    void answersBadInputWithA4xxProblemNeverA5xx() throws Exception {
        HttpResponse<String> malformed = post(SEND, JSON_TYPE, KEY, "{\"bridge\": [");
        HttpResponse<String> wrongMethod = get(SEND, KEY);
        HttpResponse<String> unknownPath = get("/api/v2/nothing-here", KEY);

        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(json(malformed).get("type").asString()).isEqualTo("https://dialer.dev/problems/malformed-request");
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(unknownPath.statusCode()).isEqualTo(404);
        assertThat(unknownPath.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    }

    @Test
    @ExtendWith(OutputCaptureExtension.class)
    void refusesABodyAboveTheSizeLimitWith413WhetherItsLengthIsDeclaredOrChunked(CapturedOutput log)
            throws Exception {
        String huge = "{\"bridge\":\"918068281234\",\"to\":\"" + "9".repeat(400_000) + "\",\"flow_id\":\"1\"}";

        HttpResponse<String> declared = post(SEND, JSON_TYPE, KEY, huge);
        HttpResponse<String> chunked = postChunked(SEND, KEY, huge);

        for (HttpResponse<String> response : List.of(declared, chunked)) {
            assertThat(response.statusCode()).isEqualTo(413);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(json(response).get("type").asString())
                    .isEqualTo("https://dialer.dev/problems/payload-too-large");
        }
        assertThat(post(SEND, JSON_TYPE, KEY, DocumentedExample.FLOW).statusCode()).isEqualTo(200);
        assertThat(log.getOut()).doesNotContain("IllegalReferenceCountException");
    }

    @Test
    void refusesMoreRecipientsThanTheLimitWith413NamingToAndQueuesNone() throws Exception {
        String number = "9198765" + "43215";
        String tooMany = "{\"bridge\":\"918068281234\",\"flow_id\":\"1\",\"to\":\""
                + String.join(",", java.util.Collections.nCopies(1001, number)) + "\"}";
        long before = commands.readToEnd().size();

        for (String path : List.of(SEND, "/api/v2/outgoing/preview")) {
            HttpResponse<String> response = post(path, JSON_TYPE, KEY, tooMany);

            assertThat(response.statusCode()).as(response.body()).isEqualTo(413);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            JsonNode problem = json(response);
            assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/payload-too-large");
            assertThat(problem.get("errors").get(0).get("field").asString()).isEqualTo("to");
            assertThat(problem.get("errors").get(0).get("message").asString())
                    .isEqualTo("must hold at most 1000 recipients");
        }
        assertThat(commands.readToEnd()).hasSize((int) before);
    }

    @Test
    void refusesAMultipartBodyWith415SayingWhichTypesItReadsAndStillReadsOneWithoutAContentType() throws Exception {
        String multipart = "--b1\r\nContent-Disposition: form-data; name=\"bridge\"\r\n\r\n918068281234\r\n"
                + "--b1\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\n919876543215\r\n"
                + "--b1\r\nContent-Disposition: form-data; name=\"flow_id\"\r\n\r\n23\r\n--b1--\r\n";
        long before = commands.readToEnd().size();

        for (String path : List.of(SEND, "/api/v2/outgoing/preview")) {
            HttpResponse<String> response = post(path, "multipart/form-data; boundary=b1", KEY, multipart);

            assertThat(response.statusCode()).as(response.body()).isEqualTo(415);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(response.headers().firstValue("Accept"))
                    .hasValue("application/json, application/x-www-form-urlencoded, text/plain");
            JsonNode problem = json(response);
            assertThat(problem.get("type").asString())
                    .isEqualTo("https://dialer.dev/problems/unsupported-media-type");
            assertThat(problem.get("detail").asString()).startsWith("The body is labelled multipart/form-data,")
                    .contains("application/json", "application/x-www-form-urlencoded");
        }
        assertThat(commands.readToEnd()).hasSize((int) before);
        assertThat(post(SEND, null, KEY, DocumentedExample.FLOW).statusCode()).isEqualTo(200);
    }

    @Test
    void refusesACompressedBodyWith415SayingOnlyIdentityIsRead() throws Exception {
        long before = commands.readToEnd().size();

        HttpResponse<String> response = post(SEND, JSON_TYPE, KEY, DocumentedExample.FLOW,
                Map.of("Content-Encoding", "gzip"));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(415);
        assertThat(response.headers().firstValue("Accept-Encoding")).hasValue("identity");
        JsonNode problem = json(response);
        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/unsupported-media-type");
        assertThat(problem.get("detail").asString()).contains("gzip");
        assertThat(commands.readToEnd()).hasSize((int) before);
    }

    @Test
    void exportsRequestAndProduceMetrics() throws Exception {
        post(SEND, JSON_TYPE, KEY, DocumentedExample.FLOW);
        post(SEND, JSON_TYPE, null, DocumentedExample.FLOW);

        String metrics = scrape();
        assertThat(metrics).contains("dialer_api_requests_total{endpoint=\"send\",outcome=\"accepted\"}");
        assertThat(metrics).contains("dialer_api_requests_total{endpoint=\"send\",outcome=\"rejected\"}");
        assertThat(metrics).contains("dialer_api_recipients_accepted_total");
        assertThat(metrics).contains("dialer_api_commands_produced_total");
        assertThat(metrics).contains("dialer_api_produce_latency_seconds_count{outcome=\"acknowledged\"}");
    }

    @Test
    void reportsLiveAndReadyOnTheManagementPortOnly() throws Exception {
        assertThat(actuator(managementPort, "/actuator/health/liveness").body()).contains("\"UP\"");
        assertThat(actuator(managementPort, "/actuator/health/readiness").body()).contains("\"UP\"");
        assertThat(actuator(managementPort, "/actuator/health").body()).contains("\"status\":\"UP\"")
                .contains("\"r2dbc\"");
        // The public port serves the API alone: no metrics, no health, no parts named.
        assertThat(managementPort).isNotEqualTo(port);
        for (String path : List.of("/actuator/prometheus", "/actuator/health", "/actuator/health/readiness")) {
            assertThat(actuator(port, path).statusCode()).as(path).isEqualTo(404);
        }
    }

    private static void assertUnauthorized(HttpResponse<String> response) {
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertThat(json(response).get("type").asString()).isEqualTo("https://dialer.dev/problems/unauthorized");
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static ConsumerRecord<String, byte[]> commandWithId(String requestId) {
        return commands.readToEnd().stream()
                .filter(record -> requestId.equals(READER.read(record.value()).requestId()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no command " + requestId + " on " + Topics.CALL_COMMANDS));
    }

    /** A valid request body to use where its content does not matter. */
    static final class DocumentedExample {
        static final String FLOW = """
                {"bridge":"918068281234","to":"919876543215","flow_id":"23","name":"obd_api_call"}""";

        private DocumentedExample() {
        }
    }
}
