package dev.dialer.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CreateCallRequestTest {

    @Test
    void minimalPhoneCallIsAcceptedWithJambonzDefaults() {
        CreateCallRequest.Parsed parsed = parse("""
                {"from":"15557770000","to":{"type":"phone","number":"15550100005","trunk":"carrier-a"},
                 "application_sid":"app-1","call_status_hook":"http://hooks.test/status"}""");

        assertThat(parsed.errors()).isEmpty();
        CreateCallRequest request = parsed.request();
        assertThat(request.toAddress()).isEqualTo("15550100005");
        assertThat(request.trunk()).isEqualTo("carrier-a");
        assertThat(request.timeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(request.timeLimit()).isNull();
        assertThat(request.tag()).isNull();
        assertThat(request.statusHook()).isEqualTo(
                new CreateCallRequest.StatusHook("http://hooks.test/status", "POST", null, null));
        assertThat(request.notifyHook()).isNull();
    }

    @Test
    void notifyUrlIsAUrlOrAnObjectWithUrlAndMethod() {
        String call = """
                {"from":"1","to":{"type":"phone","number":"15550100005"},"application_sid":"app-1","notifyUrl":%s}""";

        assertThat(parse(call.formatted("\"http://hooks.test/n\"")).request().notifyHook())
                .isEqualTo(new CreateCallRequest.StatusHook("http://hooks.test/n", "POST", null, null));
        assertThat(parse(call.formatted("{\"url\":\"https://hooks.test/n\",\"method\":\"put\"}")).request()
                .notifyHook()).isEqualTo(new CreateCallRequest.StatusHook("https://hooks.test/n", "PUT", null, null));
        assertThat(parse(call.formatted("\"ws:x\"")).errors()).singleElement().asString().contains("notifyUrl url");
        assertThat(parse(call.formatted("[1]")).errors()).singleElement().asString().contains("notifyUrl must be");
    }

    @Test
    void callHookReplacesApplicationSidAndHookObjectCarriesMethodAndCredentials() {
        CreateCallRequest.Parsed parsed = parse("""
                {"from":"15557770000","to":{"type":"sip","sipUri":"sip:bob@example.com"},
                 "call_hook":{"url":"http://app.test/answer"},"timeout":20,"timeLimit":300,"tag":{"k":"v"},
                 "call_status_hook":{"url":"https://hooks.test/s","method":"put","username":"u","password":"p"}}""");

        assertThat(parsed.errors()).isEmpty();
        assertThat(parsed.request().toAddress()).isEqualTo("sip:bob@example.com");
        assertThat(parsed.request().applicationSid()).isNull();
        assertThat(parsed.request().statusHook())
                .isEqualTo(new CreateCallRequest.StatusHook("https://hooks.test/s", "PUT", "u", "p"));
        assertThat(parsed.request().timeout()).isEqualTo(Duration.ofSeconds(20));
        assertThat(parsed.request().timeLimit()).isEqualTo(Duration.ofSeconds(300));
        assertThat(parsed.request().tag().get("k").stringValue()).isEqualTo("v");
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
            "{\"to\":{\"type\":\"phone\",\"number\":\"1\"},\"application_sid\":\"a\"} | from is required",
            "{\"from\":\"1\",\"application_sid\":\"a\"} | to is required",
            "{\"from\":\"1\",\"to\":\"15550100005\",\"application_sid\":\"a\"} | to is required",
            "{\"from\":\"1\",\"to\":{\"number\":\"1\"},\"application_sid\":\"a\"} | to.type is required",
            "{\"from\":\"1\",\"to\":{\"type\":\"phone\"},\"application_sid\":\"a\"} | to.number is required",
            "{\"from\":\"1\",\"to\":{\"type\":\"sip\"},\"application_sid\":\"a\"} | to.sipUri is required",
            "{\"from\":\"1\",\"to\":{\"type\":\"fax\"},\"application_sid\":\"a\"} | to.type must be one of",
            "{\"from\":\"1\",\"to\":{\"type\":\"phone\",\"number\":\"1\"}} | application_sid or call_hook",
            "{\"from\":\"1\",\"to\":{\"type\":\"user\",\"name\":\"b\"},\"call_hook\":\"h\",\"timeout\":0} | timeout must",
            "{\"from\":\"1\",\"to\":{\"type\":\"user\",\"name\":\"b\"},\"call_hook\":\"h\",\"timeLimit\":\"x\"} | timeLimit must",
            "{\"from\":\"1\",\"to\":{\"type\":\"user\",\"name\":\"b\"},\"call_hook\":\"h\",\"tag\":[1]} | tag must be an object",
            "{\"from\":\"1\",\"to\":{\"type\":\"user\",\"name\":\"b\"},\"call_hook\":\"h\",\"call_status_hook\":\"ftp://x\"} | call_status_hook url",
            "{\"from\":\"1\",\"to\":{\"type\":\"user\",\"name\":\"b\"},\"call_hook\":\"h\",\"call_status_hook\":{}} | call_status_hook url",
            "not json | body is not valid JSON",
            "[1] | body must be a JSON object"})
    void invalidRequestIsRefusedNamingTheField(String json, String expectedError) {
        CreateCallRequest.Parsed parsed = parse(json);

        assertThat(parsed.valid()).isFalse();
        assertThat(parsed.errors()).anySatisfy(error -> assertThat(error).contains(expectedError));
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        assertThat(parse("{}").errors()).hasSize(3);
    }

    private static CreateCallRequest.Parsed parse(String json) {
        return CreateCallRequest.parse(TestCalls.MAPPER, json);
    }
}
