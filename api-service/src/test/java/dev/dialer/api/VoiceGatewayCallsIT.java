package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CommandReader;
import dev.dialer.common.contract.Hook;
import dev.dialer.common.kafka.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The Voice Gateway dialect's create-call, as its API document writes it, against real Kafka and PostgreSQL. */
class VoiceGatewayCallsIT extends RunningApiService {

    @Test
    void createsACallAnsweringSidAndCallIdAndCarriesEveryFieldToTheCommand() throws Exception {
        HttpResponse response = call("/v1/Accounts/" + ACCOUNT + "/Calls", JSON_TYPE, KEY, """
                {"application_sid":"app-123","from":"918068281234",
                 "to":{"type":"phone","number":"919876543215","trunk":"carrier-a"},
                 "timeLimit":120,"tag":{"crm":"c-9"},"headers":{"X-Campaign":"spring"},
                 "amd":{"actionHook":"https://example.com/amd"},"callerName":"Acme","fromHost":"sip.acme.example",
                 "speech_synthesis_voice":"en-IN-Wavenet-A",
                 "notifyUrl":{"url":"https://example.com/status","method":"POST"},
                 "actionHook":"https://example.com/done"}""");

        assertThat(response.status()).as(response.body()).isEqualTo(201);
        JsonNode created = JSON.readTree(response.body());
        String sid = created.get("sid").asString();
        assertThat(created.get("callId").asString()).isNotBlank();
        assertThat(created.get("callid").asString()).isEqualTo(created.get("callId").asString());

        CallCommand command = commandFor(sid);
        assertThat(command.callerId()).isEqualTo("+918068281234");
        assertThat(command.to()).isEqualTo("+919876543215");
        assertThat(command.flowId()).isEqualTo("app-123");
        assertThat(command.notifyUrl()).isEqualTo(new Hook("https://example.com/status", "POST"));
        assertThat(command.actionHook()).isEqualTo(new Hook("https://example.com/done", null));
        assertThat(command.amdHook()).isEqualTo(new Hook("https://example.com/amd", null));
        assertThat(command.carrierOptions()).containsEntry("timeout", 60).containsEntry("timeLimit", 120)
                .containsEntry("trunk", "carrier-a").containsEntry("callerName", "Acme")
                .containsEntry("fromHost", "sip.acme.example").containsEntry("speech_synthesis_voice", "en-IN-Wavenet-A")
                .containsEntry("tag", Map.of("crm", "c-9")).containsEntry("headers", Map.of("X-Campaign", "spring"))
                .containsKey("amd");
    }

    @Test
    void anotherAccountsSidIsNotFound() throws Exception {
        HttpResponse response = call("/v1/Accounts/someone-else/Calls", JSON_TYPE, KEY, """
                {"application_sid":"a","from":"918068281234","to":{"type":"phone","number":"919876543215"}}""");

        assertThat(response.status()).isEqualTo(404);
    }

    @Test
    void missingFieldsAreNamedAndNeedAKey() throws Exception {
        HttpResponse invalid = call("/v1/Accounts/" + ACCOUNT + "/Calls", JSON_TYPE, KEY, """
                {"from":"918068281234","to":{"type":"teams","number":"a"},"timeout":-1}""");
        HttpResponse anonymous = call("/v1/Accounts/" + ACCOUNT + "/Calls", JSON_TYPE, null, "{}");

        assertThat(invalid.status()).isEqualTo(400);
        assertThat(invalid.body()).contains("\"to.type\"", "\"application_sid\"", "\"timeout\"");
        assertThat(anonymous.status()).isEqualTo(401);
    }

    @Test
    void aCallAnswered201IsOneTheDispatcherAcceptsHooksWrittenInAnyCase() throws Exception {
        HttpResponse response = call("/v1/Accounts/" + ACCOUNT + "/Calls", JSON_TYPE, KEY, """
                {"application_sid":"app-9","from":"918068281234","to":{"type":"phone","number":"919876543215"},
                 "notifyUrl":{"url":"HTTPS://example.com/Status","method":"post"},
                 "actionHook":"Https://example.com/x","amd":{"actionHook":{"url":"HTTPS://example.com/Amd",
                 "method":"get"}}}""");

        assertThat(response.status()).as(response.body()).isEqualTo(201);
        // Read with the dispatcher's own reader, schema included: it would send anything else to the DLQ.
        CallCommand command = commandFor(JSON.readTree(response.body()).get("sid").asString());
        assertThat(command.notifyUrl()).isEqualTo(new Hook("https://example.com/Status", "POST"));
        assertThat(command.actionHook()).isEqualTo(new Hook("https://example.com/x", null));
        assertThat(command.amdHook()).isEqualTo(new Hook("https://example.com/Amd", "GET"));
    }

    @Test
    void anAmdActionHookTheDialerCouldNotCallIsAProblemNamingItAndQueuesNothing() throws Exception {
        for (String hook : new String[] {"\"wss://example.com/amd\"|amd.actionHook", "7|amd.actionHook",
                "{\"url\":\"example.com/amd\"}|amd.actionHook.url",
                "{\"url\":\"https://example.com/amd\",\"method\":\"PUT\"}|amd.actionHook.method"}) {
            String[] given = hook.split("\\|");
            java.net.http.HttpResponse<String> refused = post("/v1/Accounts/" + ACCOUNT + "/Calls", JSON_TYPE, KEY, """
                    {"application_sid":"app-amd","from":"918068281234","to":{"type":"phone","number":"919876543215"},
                     "amd":{"thresholdWordCount":5,"actionHook":%s}}""".formatted(given[0]));

            assertThat(refused.statusCode()).as(hook).isEqualTo(400);
            assertThat(refused.headers().firstValue("Content-Type")).as(hook).hasValue("application/problem+json");
            assertThat(JSON.readTree(refused.body()).get("errors").get(0).get("field").asString()).as(hook)
                    .isEqualTo(given[1]);
        }
        try (TopicProbe probe = probe(Topics.CALL_COMMANDS)) {
            assertThat(probe.readToEnd()).noneMatch(r -> new String(r.value(), StandardCharsets.UTF_8)
                    .contains("\"flow_id\":\"app-amd\""));
        }
    }

    @Test
    void anApplicationTheDispatcherCouldNotRunIsRefusedNamingApplicationSid() throws Exception {
        String to = ",\"from\":\"918068281234\",\"to\":{\"type\":\"phone\",\"number\":\"919876543215\"}}";
        for (String application : new String[] {"{\"call_hook\":\"https://example.com/app\"",
                "{\"application_sid\":\"\"", "{\"application_sid\":\"" + "a".repeat(129) + "\""}) {
            HttpResponse refused = call("/v1/Accounts/" + ACCOUNT + "/Calls", JSON_TYPE, KEY, application + to);

            assertThat(refused.status()).as(application).isEqualTo(400);
            assertThat(JSON.readTree(refused.body()).get("errors").get(0).get("field").asString())
                    .isEqualTo("application_sid");
        }
    }

    @Test
    void aRingOrCallTimeThatIsNoWholeNumberOfSecondsUpToADayIsRefusedNamingIt() throws Exception {
        for (String times : new String[] {"\"timeout\":1.5", "\"timeout\":4294967297", "\"timeLimit\":86401",
                "\"timeLimit\":99999999999999999999", "\"timeout\":\"30\""}) {
            HttpResponse refused = call("/v1/Accounts/" + ACCOUNT + "/Calls", JSON_TYPE, KEY, "{" + times
                    + ",\"application_sid\":\"a\",\"from\":\"918068281234\","
                    + "\"to\":{\"type\":\"phone\",\"number\":\"919876543215\"}}");

            assertThat(refused.status()).as(times).isEqualTo(400);
            assertThat(JSON.readTree(refused.body()).get("errors").get(0).get("field").asString())
                    .isEqualTo(times.substring(1, times.indexOf('"', 1)));
        }
    }

    private record HttpResponse(int status, String body) {
    }

    private HttpResponse call(String path, String type, String key, String body) throws Exception {
        java.net.http.HttpResponse<String> response = super.post(path, type, key, body);
        return new HttpResponse(response.statusCode(), response.body());
    }

    private static CallCommand commandFor(String requestId) {
        try (TopicProbe probe = probe(Topics.CALL_COMMANDS)) {
            ConsumerRecord<String, byte[]> record = probe.readToEnd().stream()
                    .filter(r -> new String(r.value(), StandardCharsets.UTF_8)
                            .contains("\"request_id\":\"" + requestId + "\""))
                    .findFirst().orElseThrow();
            assertThat(record.key()).isEqualTo("+918068281234");
            return new CommandReader().read(record.value());
        }
    }
}
