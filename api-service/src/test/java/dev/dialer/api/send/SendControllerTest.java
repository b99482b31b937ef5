package dev.dialer.api.send;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.account.Account;
import dev.dialer.api.kafka.AcknowledgedPublisher;
import dev.dialer.api.problem.ProblemAdvice;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CommandReader;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import java.nio.charset.StandardCharsets;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.util.unit.DataSize;
import org.springframework.web.reactive.function.BodyInserters;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The send endpoint over HTTP without Kafka: the records it would produce are captured instead (SendIT covers the
 * real broker). Proves the body is read whatever its Content-Type and that the answer has the documented shape.
 */
class SendControllerTest {

    private static final SendProperties PROPERTIES = new SendProperties(DataSize.ofKilobytes(256), 1000);
    private static final Account ACCOUNT = new Account("acct-test", "Test", "IN");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String CURL_FORM_TYPE = MediaType.APPLICATION_FORM_URLENCODED_VALUE;

    private final CapturingPublisher publisher = new CapturingPublisher();
    private final SendSeams.InMemoryClaims claims = new SendSeams.InMemoryClaims();
    private final WebTestClient client = WebTestClient
            .bindToController(new SendController(new OutgoingCalls(publisher,
                    (webhookId, accountId) -> Mono.just(webhookId.equals("wh-own")), SendSeams.defaults(), claims,
                    SendSeams.noLedger(), new SimpleMeterRegistry(), PROPERTIES),
                    // No request here carries an Idempotency-Key: IdempotencyIT covers the store on PostgreSQL.
                    null, null, JSON, PROPERTIES))
            .controllerAdvice(new ProblemAdvice())
            .webFilter((exchange, chain) -> {
                exchange.getAttributes().put(Account.ATTRIBUTE, ACCOUNT);
                return chain.filter(exchange);
            })
            .build();

    static Stream<Arguments> documentedBodiesWithBothContentTypes() {
        return DocumentedBodies.all().stream().flatMap(body -> Stream.of(
                Arguments.of(body, MediaType.APPLICATION_JSON_VALUE),
                Arguments.of(body, CURL_FORM_TYPE)));
    }

    @ParameterizedTest
    @MethodSource("documentedBodiesWithBothContentTypes")
    void queuesEachDocumentedExampleWhateverItsContentType(String body, String contentType) {
        JsonNode answer = send(contentType, body, 200);

        assertThat(publisher.records).hasSize(1);
        OutboundRecord record = publisher.records.get(0);
        CallCommand command = new CommandReader().read(record.value());
        assertThat(record.topic()).isEqualTo(Topics.CALL_COMMANDS);
        assertThat(record.key()).isEqualTo("+918068281234");
        assertThat(command.to()).isEqualTo("+919876543215");
        assertThat(command.accountId()).isEqualTo(ACCOUNT.id());
        assertThat(answer.get("data").get(0).get("id").asString()).isEqualTo(command.requestId());
        assertThat(answer.get("data").get(0).get("status").asString()).isEqualTo("queued");
    }

    @Test
    void answersInTheDocumentedShapeWithNullsWritten() {
        JsonNode answer = send(CURL_FORM_TYPE, DocumentedBodies.AUDIO_ID, 200);

        assertThat(answer.propertyNames()).containsExactly("status", "message", "data");
        assertThat(answer.get("status").asString()).isEqualTo("OK");
        assertThat(answer.get("message").asString()).isEqualTo("Calls queued successfully");
        JsonNode row = answer.get("data").get(0);
        assertThat(row.propertyNames()).containsExactly("id", "channel", "caller_id", "mobile", "flow_id", "credits",
                "created_at", "foreign_id", "options", "status");
        assertThat(row.get("channel").asString()).isEqualTo("outgoing");
        assertThat(row.get("caller_id").asString()).isEqualTo("918068281234");
        assertThat(row.get("mobile").asString()).isEqualTo("919876543215");
        assertThat(row.get("flow_id").isNull()).isTrue();
        assertThat(row.get("credits").asInt()).isEqualTo(1);
        assertThat(row.get("created_at").asString()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");
        assertThat(row.get("foreign_id").isNull()).isTrue();
        assertThat(row.get("options").isNull()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"2024-07-10T06:09:43.054164Z", "2024-07-10T06:09:43.054Z", "2024-07-10T06:09:43Z",
            "2024-07-10T06:09:43.000001Z"})
    void writesCreatedAtWithTheDocumentedSixFractionDigitsWhateverTheyAre(String instant) {
        String written = OutgoingCalls.createdAt(Instant.parse(instant));

        assertThat(written).matches("2024-07-10T06:09:43\\.\\d{6}Z");
        assertThat(Instant.parse(written)).isEqualTo(Instant.parse(instant));
    }

    @Test
    void carriesTheDocumentedVariablesIntoTheCommand() {
        send(CURL_FORM_TYPE, DocumentedBodies.FLOW_ID_WITH_VARIABLES, 200);

        CallCommand command = new CommandReader().read(publisher.records.get(0).value());
        assertThat(command.flowId()).isEqualTo("24");
        assertThat(command.variables()).containsEntry("Name", "YourName").containsEntry("otp", "123456");
    }

    @Test
    void readsARealFormBody() {
        send(CURL_FORM_TYPE, "bridge=918068281234&to=919876543215&audio=http%3A%2F%2Fa.example%2Fx.mp3"
                + "&interval=30&variables%5Bcode%5D=77&webhook_id=wh-own&foreign_id=f-1", 200);

        CallCommand command = new CommandReader().read(publisher.records.get(0).value());
        assertThat(command.audio()).isEqualTo("http://a.example/x.mp3");
        assertThat(command.intervalMinutes()).isEqualTo(30);
        assertThat(command.variables()).containsEntry("code", "77");
        assertThat(command.webhookId()).isEqualTo("wh-own");
        assertThat(command.foreignId()).isEqualTo("f-1");
    }

    @Test
    void readsABodyWithoutAnyContentType() {
        client.post().uri("/api/v2/outgoing/send").bodyValue(DocumentedBodies.FLOW_ID.getBytes())
                .exchange()
                .expectStatus().isOk();

        assertThat(publisher.records).hasSize(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"json", "application/json; charset=utf-9", "text/plain; charset=\"\""})
    void readsABodyWhoseContentTypeCannotBeParsedAsUtf8(String contentType) {
        // Written as raw bytes: the client's own encoders would parse the label, and refuse it, before sending.
        client.post().uri("/api/v2/outgoing/send")
                .header("Content-Type", contentType)
                .body(BodyInserters.fromDataBuffers(Flux.just(DefaultDataBufferFactory.sharedInstance.wrap(
                        DocumentedBodies.FLOW_ID.getBytes(StandardCharsets.UTF_8)))))
                .exchange()
                .expectStatus().isOk();

        assertThat(publisher.records).hasSize(1);
    }

    @Test
    void readsABodyLabelledWithTheWildcardTypeAsAnUnlabelledOne() {
        // Answered 415 before: */* names no type, and some HTTP clients send it as the Content-Type of a body.
        for (String body : List.of(DocumentedBodies.FLOW_ID, "bridge=918068281234&to=919876543215&flow_id=1")) {
            // Written as raw bytes: the client's own encoders refuse a wildcard Content-Type.
            client.post().uri("/api/v2/outgoing/send")
                    .header("Content-Type", "*/*")
                    .body(BodyInserters.fromDataBuffers(Flux.just(DefaultDataBufferFactory.sharedInstance.wrap(
                            body.getBytes(StandardCharsets.UTF_8)))))
                    .exchange()
                    .expectStatus().isOk();
        }

        assertThat(publisher.records).hasSize(2);
    }

    @Test
    void readsAJsonBodyLabelledAsPlainTextAsFetchLabelsAString() {
        send("text/plain;charset=UTF-8", DocumentedBodies.FLOW_ID, 200);

        assertThat(publisher.records).hasSize(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"multipart/form-data; boundary=----x", "application/octet-stream", "text/csv"})
    void refusesABodyLabelledAsATypeItDoesNotReadWith415SayingWhichItReads(String contentType) {
        // Read as a form, a multipart body was answered "bridge is required, to is required…" for fields it held.
        String multipart = "------x\r\nContent-Disposition: form-data; name=\"bridge\"\r\n\r\n918068281234\r\n"
                + "------x\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\n919876543215\r\n------x--\r\n";
        for (String path : List.of("/api/v2/outgoing/send", "/api/v2/outgoing/preview")) {
            byte[] answer = client.post().uri(path)
                    .header("Content-Type", contentType)
                    .bodyValue(multipart.getBytes(StandardCharsets.UTF_8))
                    .exchange()
                    .expectStatus().isEqualTo(415)
                    .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                    .expectHeader().valueEquals("Accept",
                            "application/json, application/x-www-form-urlencoded, text/plain")
                    .expectBody().returnResult().getResponseBody();

            JsonNode problem = JSON.readTree(answer);
            assertThat(problem.get("type").asString())
                    .isEqualTo("https://dialer.dev/problems/unsupported-media-type");
            assertThat(problem.get("detail").asString()).as(path).isEqualTo("The body is labelled "
                    + contentType.split(";")[0] + ", which this endpoint does not read: send its fields as JSON or "
                    + "as a URL-encoded form, labelled application/json, application/x-www-form-urlencoded or "
                    + "text/plain.");
        }
        assertThat(publisher.records).isEmpty();
    }

    @Test
    void readsAFormsPercentEncodedValuesInTheCharsetItsContentTypeNames() {
        send(CURL_FORM_TYPE + "; charset=ISO-8859-1",
                "bridge=918068281234&to=919876543215&flow_id=1&foreign_id=Caf%E9", 200);

        assertThat(new CommandReader().read(publisher.records.get(0).value()).foreignId()).isEqualTo("Café");
    }

    @Test
    void refusesAFormValueThatIsNotTextInItsCharsetNamingItInsteadOfQueuingAReplacementCharacter() {
        JsonNode problem = send(CURL_FORM_TYPE, "bridge=918068281234&to=919876543215&flow_id=1&foreign_id=Caf%E9",
                400);

        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/validation");
        assertThat(problem.get("errors").get(0).get("field").asString()).isEqualTo("foreign_id");
        assertThat(publisher.records).isEmpty();
    }

    @Test
    void refusesABodyThatIsNotTextInItsCharsetAsMalformed() {
        byte[] latin1 = """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","name":"Caf\u00e9"}"""
                .getBytes(StandardCharsets.ISO_8859_1);
        byte[] answer = client.post().uri("/api/v2/outgoing/send")
                .header("Content-Type", MediaType.APPLICATION_JSON_VALUE)
                .bodyValue(latin1)
                .exchange()
                .expectStatus().isEqualTo(400)
                .expectBody().returnResult().getResponseBody();

        assertThat(JSON.readTree(answer).get("type").asString())
                .isEqualTo("https://dialer.dev/problems/malformed-request");
        assertThat(publisher.records).isEmpty();
    }

    @Test
    void queuesTheValidRecipientsOfAListAndReportsTheInvalidOneInItsRow() {
        JsonNode answer = send(MediaType.APPLICATION_JSON_VALUE, """
                {"bridge":"918068281234","to":"919876543215,12345,919876543216","flow_id":"9","foreign_id":"f"}""",
                200);

        assertThat(publisher.records).extracting(OutboundRecord::key).containsExactly("+918068281234", "+918068281234");
        JsonNode data = answer.get("data");
        assertThat(data).hasSize(3);
        assertThat(answer.get("message").asString()).isEqualTo("2 calls queued, 1 rejected");
        assertThat(data.get(0).get("status").asString()).isEqualTo("queued");
        assertThat(data.get(2).get("status").asString()).isEqualTo("queued");
        JsonNode rejected = data.get(1);
        assertThat(rejected.get("status").asString()).isEqualTo("rejected");
        assertThat(rejected.get("id").isNull()).isTrue();
        assertThat(rejected.get("credits").asInt()).isZero();
        assertThat(rejected.get("mobile").asString()).isEqualTo("12345");
        assertThat(rejected.get("error").get("field").asString()).isEqualTo("to[1]");
        assertThat(rejected.get("error").get("message").asString()).isNotBlank();
        assertThat(List.of(data.get(0).get("id").asString(), data.get(2).get("id").asString())).containsExactly(
                new CommandReader().read(publisher.records.get(0).value()).requestId(),
                new CommandReader().read(publisher.records.get(1).value()).requestId());
    }

    @Test
    void answersAValidationProblemNamingTheField() {
        JsonNode problem = send(MediaType.APPLICATION_JSON_VALUE, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","interval":7}""", 400);

        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/validation");
        assertThat(problem.get("status").asInt()).isEqualTo(400);
        assertThat(problem.get("errors").get(0).get("field").asString()).isEqualTo("interval");
        assertThat(publisher.records).isEmpty();
    }

    @Test
    void refusesAnIdempotencyKeyHoldingANulCharacterBeforeStoringIt() {
        client.post().uri("/api/v2/outgoing/send")
                .header("Content-Type", MediaType.APPLICATION_JSON_VALUE)
                .header("Idempotency-Key", "order\u00001")
                .bodyValue(DocumentedBodies.FLOW_ID)
                .exchange()
                .expectStatus().isEqualTo(400)
                .expectBody().jsonPath("$.errors[0].field").isEqualTo("Idempotency-Key");

        assertThat(publisher.records).isEmpty();
    }

    @Test
    void refusesMoreRecipientsThanTheLimitWith413NamingToAndQueuesNone() {
        JsonNode problem = send(MediaType.APPLICATION_JSON_VALUE, "{\"bridge\":\"918068281234\",\"flow_id\":\"1\","
                + "\"to\":\"" + String.join(",", java.util.Collections.nCopies(1001, "919876543215")) + "\"}", 413);

        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/payload-too-large");
        assertThat(problem.get("errors").get(0).get("field").asString()).isEqualTo("to");
        assertThat(publisher.records).isEmpty();
    }

    @Test
    void refusesAWebhookIdTheAccountDoesNotOwn() {
        JsonNode problem = send(MediaType.APPLICATION_JSON_VALUE, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","webhook_id":"wh-other"}""", 400);

        assertThat(problem.get("errors").get(0).get("field").asString()).isEqualTo("webhook_id");
        assertThat(publisher.records).isEmpty();
    }

    @Test
    void answersMalformedJsonWithA400Problem() {
        JsonNode problem = send(MediaType.APPLICATION_JSON_VALUE, "{\"bridge\":", 400);

        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/malformed-request");
    }

    @Test
    void answersAnUnsupportedMethodWithA405Problem() {
        client.get().uri("/api/v2/outgoing/send").exchange()
                .expectStatus().isEqualTo(405)
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody().jsonPath("$.type").isEqualTo("https://dialer.dev/problems/method-not-allowed");
    }

    private JsonNode send(String contentType, String body, int status) {
        byte[] answer = client.post().uri("/api/v2/outgoing/send")
                .header("Content-Type", contentType)
                .header("Accept", MediaType.APPLICATION_JSON_VALUE)
                .bodyValue(body)
                .exchange()
                .expectStatus().isEqualTo(status)
                .expectHeader().contentType(status == 200 ? MediaType.APPLICATION_JSON
                        : MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody().returnResult().getResponseBody();
        return JSON.readTree(answer);
    }

    /** Stands in for Kafka: every record is acknowledged at once and kept for the assertions. */
    static class CapturingPublisher extends AcknowledgedPublisher {

        final List<OutboundRecord> records = new CopyOnWriteArrayList<>();

        CapturingPublisher() {
            super(null, Duration.ofSeconds(1), Duration.ofSeconds(1), new SimpleMeterRegistry());
        }

        @Override
        public Mono<Void> publishAll(List<OutboundRecord> batch, String outcome) {
            return Mono.fromRunnable(() -> records.addAll(batch));
        }
    }
}
