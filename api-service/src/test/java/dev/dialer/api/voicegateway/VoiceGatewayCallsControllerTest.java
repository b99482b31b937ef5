package dev.dialer.api.voicegateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.account.Account;
import dev.dialer.api.kafka.AcknowledgedPublisher;
import dev.dialer.api.problem.ProblemAdvice;
import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CarrierOptions;
import dev.dialer.common.contract.CommandReader;
import dev.dialer.common.contract.Hook;
import dev.dialer.common.hook.PlainHttpPolicy;
import dev.dialer.common.kafka.OutboundRecord;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Voice Gateway create-call over HTTP without Kafka: the command it would produce is captured and read with the
 * dispatcher's own reader (schema included). VoiceGatewayCallsIT covers the real broker.
 */
class VoiceGatewayCallsControllerTest {

    private static final Account ACCOUNT = new Account("acct-test", "Test", "IN");
    private static final String PATH = "/v1/Accounts/" + ACCOUNT.id() + "/Calls";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final CapturingPublisher publisher = new CapturingPublisher();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final WebTestClient client = WebTestClient
            .bindToController(new VoiceGatewayCallsController(publisher,
                    accountId -> Mono.just(AccountSettings.defaults(accountId)),
                    (accountId, calls, createdAt) -> Mono.empty(),
                    // No request here carries an Idempotency-Key: IdempotencyIT covers the store.
                    null, PlainHttpPolicy.defaults(), registry))
            .controllerAdvice(new ProblemAdvice())
            .webFilter((exchange, chain) -> {
                exchange.getAttributes().put(Account.ATTRIBUTE, ACCOUNT);
                return chain.filter(exchange);
            })
            .build();

    @Test
    void aSipTargetIsQueuedWithItsUriAsTheDestinationAndTravelsWholeToTheCarrier() {
        JsonNode created = created(VoiceGatewayDocs.SIP_CALL);

        CallCommand command = onlyCommand();
        assertThat(created.get("sid").asString()).isEqualTo(command.requestId());
        assertThat(created.get("callId").asString()).isEqualTo(command.requestId());
        assertThat(command.to()).isEqualTo("sip:support@pbx.example.com");
        assertThat(command.callerId()).isEqualTo("+918068281234");
        assertThat(command.carrierOptions()).containsEntry("to", Map.of("type", "sip",
                "sipUri", "sip:support@pbx.example.com", "auth", Map.of("username", "dialer", "password", "s3cret")));
    }

    @Test
    void aUserTargetIsQueuedAsUserColonName() {
        created(VoiceGatewayDocs.USER_CALL);

        CallCommand command = onlyCommand();
        assertThat(command.to()).isEqualTo("user:alice");
        assertThat(command.carrierOptions()).containsEntry("to", Map.of("type", "user", "name", "alice"));
        // Counted as the `outgoing/send` dialect's sends are: one recipient accepted, one command Kafka acknowledged.
        assertThat(registry.get("dialer.api.recipients.accepted").counter().count()).isEqualTo(1);
        assertThat(registry.get("dialer.api.commands.produced").counter().count()).isEqualTo(1);
    }

    @Test
    void aSipSchemeWrittenInCapitalsIsQueuedInLowerCase() {
        created("""
                {"application_sid":"a","from":"918068281234","to":{"type":"sip","sipUri":"SIPS:bob@10.0.0.7:5061"}}""");

        assertThat(onlyCommand().to()).isEqualTo("sips:bob@10.0.0.7:5061");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sip:alice@pbx.example.com;transport=tcp", "sips:bob@example.com:5061"})
    void aPlainSipUriWithAPortOrParametersIsQueuedAsWritten(String uri) {
        created("{\"application_sid\":\"a\",\"from\":\"918068281234\",\"to\":{\"type\":\"sip\",\"sipUri\":\""
                + uri + "\",\"auth\":{\"username\":\"dialer\",\"password\":\"s3cr\\\"t\\\\\"}}}");

        assertThat(onlyCommand().to()).isEqualTo(uri);
    }

    @Test
    void aPhoneTargetIsQueuedAsBeforeWithoutTheTargetInTheCarrierOptions() {
        created("""
                {"application_sid":"a","from":"918068281234",
                 "to":{"type":"phone","number":"919876543215","trunk":"carrier-a"}}""");

        CallCommand command = onlyCommand();
        assertThat(command.to()).isEqualTo("+919876543215");
        assertThat(command.carrierOptions()).containsEntry("trunk", "carrier-a").doesNotContainKey("to");
    }

    @Test
    void aPhoneTargetWithMoreThanItsNumberAndTrunkTravelsWholeToTheCarrier() {
        created("""
                {"application_sid":"a","from":"918068281234",
                 "to":{"type":"phone","number":"919876543215","trunk":"carrier-a",
                       "confirmHook":"https://crm.example.com/confirm"}}""");

        CallCommand command = onlyCommand();
        assertThat(command.to()).isEqualTo("+919876543215");
        assertThat(command.carrierOptions()).containsEntry("trunk", "carrier-a").containsEntry("to", Map.of(
                "type", "phone", "number", "919876543215", "trunk", "carrier-a",
                "confirmHook", "https://crm.example.com/confirm"));
    }

    @Test
    void aHeaderValueLongerThanAnInviteCarriesIsA400NamingIt() {
        String longest = "<sip:+15551234567@sbc.example.com>;x=" + "a".repeat(CarrierOptions.MAX_SIP_HEADER_VALUE - 37);
        assertThat(longest).hasSize(CarrierOptions.MAX_SIP_HEADER_VALUE);
        String body = "{\"application_sid\":\"a\",\"from\":\"918068281234\","
                + "\"to\":{\"type\":\"phone\",\"number\":\"919876543215\"},\"headers\":{\"X-Crm\":\"%s\"}}";

        JsonNode problem = refused(body.formatted(longest + "a"));
        assertThat(problem.get("errors")).hasSize(1);
        assertThat(problem.get("errors").get(0).get("field").asString()).isEqualTo("headers.X-Crm");
        assertThat(problem.get("errors").get(0).get("message").asString()).contains("at most 2048 characters");
        assertThat(publisher.records).isEmpty();

        created(body.formatted(longest));
        assertThat(onlyCommand().carrierOptions()).containsEntry("headers", Map.of("X-Crm", longest));
    }

    @ParameterizedTest(name = "{0} is refused naming {1}")
    @CsvSource(delimiter = '|', value = {
            "{\"type\":\"sip\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":42}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"tel:+4930123456\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"sip:\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"sip:alice@\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"sip:al ice@pbx.example.com\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"sip:alice@pbx.example.com\\t\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"sip:a@b\",\"auth\":\"dialer:s3cret\"}|to.auth",
            "{\"type\":\"sip\",\"sipUri\":\"sip:a@b\",\"auth\":{\"username\":\"dialer\"}}|to.auth",
            "{\"type\":\"sip\",\"sipUri\":\"sip:alice@pbx.example.com>\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"sip:<alice@pbx.example.com\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"sip:\\\"alice\\\"@pbx.example.com\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"sip:alice@pbx.example.com,sip:bob@pbx.example.com\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"sip:alice@pbx.example.com\\r\\nX-Evil: 1\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"sip:alice@pbx.example.com\\u0001\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"sip:alic\\u00e9@pbx.example.com\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"sip:alice@pbx.example.com?Subject=x\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"sip:alice:secret@pbx.example.com\"}|to.sipUri",
            "{\"type\":\"sip\",\"sipUri\":\"sip:a@b\",\"auth\":{\"username\":\"dia\\r\\nler\",\"password\":\"p\"}}|to.auth.username",
            "{\"type\":\"sip\",\"sipUri\":\"sip:a@b\",\"auth\":{\"username\":\"dia\\\"ler\",\"password\":\"p\"}}|to.auth.username",
            "{\"type\":\"sip\",\"sipUri\":\"sip:a@b\",\"auth\":{\"username\":\"dia\\\\ler\",\"password\":\"p\"}}|to.auth.username",
            "{\"type\":\"sip\",\"sipUri\":\"sip:a@b\",\"auth\":{\"username\":\"d\",\"password\":\"p\\nX: 1\"}}|to.auth.password",
            "{\"type\":\"user\"}|to.name",
            "{\"type\":\"user\",\"name\":\"\"}|to.name",
            "{\"type\":\"user\",\"name\":\"al ice\"}|to.name",
            "{\"type\":\"user\",\"name\":\"al\\u00e9\"}|to.name",
            "{\"type\":\"teams\",\"number\":\"x\"}|to.type",
            "{\"number\":\"919876543215\"}|to.type"})
    void eachBadTargetFieldIsA400NamingIt(String to, String field) {
        JsonNode problem = refused("{\"application_sid\":\"a\",\"from\":\"918068281234\",\"to\":" + to + "}");

        assertThat(problem.get("errors")).hasSize(1);
        assertThat(problem.get("errors").get(0).get("field").asString()).isEqualTo(field);
        assertThat(publisher.records).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "\"notifyUrl\":\"https://crm.example.com/cb?id={id}\"|notifyUrl",
            "\"notifyUrl\":\"https://crm.example.com/cb?a=1|b\"|notifyUrl",
            "\"actionHook\":{\"url\":\"https://crm.example.com/caf\u00e9\"}|actionHook.url",
            "\"actionHook\":{\"url\":\"ftp://crm.example.com/x\",\"method\":\"POST\"}|actionHook.url",
            "\"notifyUrl\":\"https:///no-host\"|notifyUrl",
            // Plain http to a host not allow-listed: webhook-service would refuse every try of it.
            "\"notifyUrl\":\"http://crm.example.com/cb\"|notifyUrl",
            "\"actionHook\":{\"url\":\"HTTP://crm.example.com/x\"}|actionHook.url"})
    void aHookUrlWebhookServiceCouldNotDeliverToIsA400NamingIt(String hookAndField) {
        String[] parts = hookAndField.split("\\|(?=[a-zA-Z.]+$)");
        JsonNode problem = refused("{\"application_sid\":\"a\",\"from\":\"918068281234\",\"to\":{\"type\":\"phone\","
                + "\"number\":\"919876543215\"}," + parts[0] + "}");

        assertThat(problem.get("errors")).singleElement()
                .satisfies(error -> assertThat(error.get("field").asString()).isEqualTo(parts[1]));
        assertThat(publisher.records).isEmpty();
    }

    @Test
    void aSipUriOrUserNameOverItsBoundIsA400NamingIt() {
        String longUri = "sip:" + "a".repeat(1021) + "@b";
        String longName = "a".repeat(129);

        assertThat(refused("{\"application_sid\":\"a\",\"from\":\"918068281234\",\"to\":{\"type\":\"sip\",\"sipUri\":\""
                + longUri + "\"}}").get("errors").get(0).get("message").asString()).contains("1024");
        assertThat(refused("{\"application_sid\":\"a\",\"from\":\"918068281234\",\"to\":{\"type\":\"user\",\"name\":\""
                + longName + "\"}}").get("errors").get(0).get("field").asString()).isEqualTo("to.name");
    }

    @Test
    void theApiDocumentsAdvancedRequestIsQueuedWithItsTagHeadersAmdAndTrunk() {
        created("""
                {"application_sid":"app-1","from":"918068281234","fromHost":"cognigy.cloud",
                 "callerName":"Vacation Agent",
                 "to":{"type":"phone","number":"919876543215","trunk":"carrier-a"},
                 "amd":{"actionHook":"https://webhook.site/x"},"timeout":20,
                 "tag":{"env":"app","internalId":"ABDC1234","Customer":{"firstName":"Sara"}},
                 "headers":{"User-to-User":"UUID: 42","P-Preferred-Identity":"<sip:+123456@sip.example.com>"},
                 "notifyUrl":"https://webhook.site/x"}""");

        Map<String, Object> options = onlyCommand().carrierOptions();
        assertThat(options).containsEntry("trunk", "carrier-a")
                .containsEntry("amd", Map.of("actionHook", "https://webhook.site/x"))
                .containsEntry("headers", Map.of("User-to-User", "UUID: 42",
                        "P-Preferred-Identity", "<sip:+123456@sip.example.com>"));
        assertThat(options.get("tag")).isEqualTo(Map.of("env", "app", "internalId", "ABDC1234",
                "Customer", Map.of("firstName", "Sara")));
        assertThat(onlyCommand().amdHook()).isEqualTo(new Hook("https://webhook.site/x", null));
    }

    @ParameterizedTest(name = "{0} is refused naming {1}")
    @CsvSource(delimiter = '|', value = {
            "\"tag\":\"crm-1\"|tag",
            "\"tag\":[\"crm-1\"]|tag",
            "\"tag\":42|tag",
            "\"tag\":{\"crm\":\"1\",\"request_id\":\"mine\"}|tag.request_id",
            "\"tag\":{\"attempt\":2}|tag.attempt",
            "\"tag\":{\"flow_id\":\"x\"}|tag.flow_id",
            "\"tag\":{\"dial\":1}|tag.dial",
            "\"tag\":{\"seal\":\"a-seal\"}|tag.seal",
            "\"amd\":true|amd",
            "\"amd\":\"on\"|amd",
            "\"amd\":[]|amd",
            "\"amd\":{\"actionHook\":\"wss://crm.example.com/amd\"}|amd.actionHook",
            "\"amd\":{\"actionHook\":42}|amd.actionHook",
            "\"amd\":{\"actionHook\":{\"url\":\"crm.example.com/amd\"}}|amd.actionHook.url",
            "\"amd\":{\"actionHook\":{\"url\":\"https://h.example/amd\",\"method\":\"PUT\"}}|amd.actionHook.method",
            "\"amd\":{\"actionHook\":{\"url\":\"https://h.example/amd\",\"method\":5}}|amd.actionHook.method",
            "\"notifyUrl\":{\"url\":\"https://h.example/s\",\"method\":[\"GET\"]}|notifyUrl.method",
            "\"notifyUrl\":{\"url\":\"https://h.example/s\",\"username\":\"u\"}|notifyUrl.username",
            "\"actionHook\":{\"url\":\"https://h.example/d\",\"password\":\"p\"}|actionHook.password",
            "\"headers\":\"User-to-User: 1\"|headers",
            "\"headers\":[\"X-A\"]|headers",
            "\"headers\":{\"X-Crm\":42}|headers.X-Crm",
            "\"headers\":{\"X-Crm\":null}|headers.X-Crm",
            "\"headers\":{\"X-Crm\":{\"id\":1}}|headers.X-Crm",
            "\"headers\":{\"X-Crm\":\"1\\r\\nX-Evil: 2\"}|headers.X-Crm",
            "\"headers\":{\"X-Crm\":\"1\\nX-Evil: 2\"}|headers.X-Crm",
            "\"headers\":{\"X Crm\":\"1\"}|headers.X Crm",
            "\"headers\":{\"X-Crm:\":\"1\"}|headers.X-Crm:",
            "\"headers\":{\"\":\"1\"}|headers.",
            "\"headers\":{\"Call-ID\":\"1\"}|headers.Call-ID",
            "\"headers\":{\"via\":\"1\"}|headers.via",
            "\"headers\":{\"f\":\"1\"}|headers.f",
            "\"headers\":{\"Require\":\"100rel\"}|headers.Require",
            "\"headers\":{\"k\":\"100rel\"}|headers.k",
            "\"headers\":{\"Content-Encoding\":\"gzip\"}|headers.Content-Encoding",
            "\"headers\":{\"X-Dialer-Request-Id\":\"1\"}|headers.X-Dialer-Request-Id",
            "\"headers\":{\"x-dialer-campaign\":\"1\"}|headers.x-dialer-campaign",
            "\"to\":{\"type\":\"phone\",\"number\":\"919876543215\",\"trunk\":42}|to.trunk",
            "\"to\":{\"type\":\"phone\",\"number\":\"919876543215\",\"trunk\":\" \"}|to.trunk",
            "\"to\":{\"type\":\"phone\",\"number\":\"919876543215\",\"trunk\":{\"name\":\"a\"}}|to.trunk",
            "\"to\":{\"type\":\"user\",\"name\":\"alice\",\"trunk\":true}|to.trunk"})
    void aCarrierOptionTheDispatcherWouldNotPassOnIsA400NamingIt(String field, String named) {
        String to = field.startsWith("\"to\"") ? "" : "\"to\":{\"type\":\"phone\",\"number\":\"919876543215\"},";
        JsonNode problem = refused("{\"application_sid\":\"a\",\"from\":\"918068281234\"," + to + field + "}");

        assertThat(problem.get("errors")).hasSize(1);
        assertThat(problem.get("errors").get(0).get("field").asString()).isEqualTo(named);
        assertThat(publisher.records).isEmpty();
    }

    @ParameterizedTest(name = "{0} is refused naming {1}")
    @CsvSource(delimiter = '|', value = {
            "\"callerName\":42|callerName|must be a string",
            "\"callerName\":{\"name\":\"Acme\"}|callerName|must be a string",
            "\"callerName\":\"Acme \\\"Support\\\"\"|callerName|control characters",
            "\"callerName\":\"Acme\\\\Support\"|callerName|control characters",
            "\"callerName\":\"Acme\\r\\nX-Evil: 1\"|callerName|control characters",
            "\"callerName\":\"Acme\\u0007\"|callerName|control characters",
            "\"fromHost\":42|fromHost|must be a string",
            "\"fromHost\":\"\"|fromHost|host name",
            "\"fromHost\":\" \"|fromHost|host name",
            "\"fromHost\":\"sip.example.com:5060\"|fromHost|host name",
            "\"fromHost\":\"user@sip.example.com\"|fromHost|host name",
            "\"fromHost\":\"sip.example.com;transport=tcp\"|fromHost|host name",
            "\"fromHost\":\"-sip.example.com\"|fromHost|host name",
            "\"fromHost\":\"sip_trunk.example.com\"|fromHost|host name",
            "\"fromHost\":\"2001:db8::1\"|fromHost|host name"})
    void aCallerNameOrFromHostTheSipTrunkWouldChangeIsA400NamingIt(String field, String named, String message) {
        refusedNaming(field, named, message);
    }

    @ParameterizedTest(name = "{0} is refused naming {1}")
    @CsvSource(delimiter = '|', value = {
            "\"dtmfHook\":\"not a url\"|dtmfHook|ASCII without spaces",
            "\"dtmfHook\":\"ftp://hooks.example.com/d\"|dtmfHook|http(s):// or ws(s)://",
            "\"confirmHook\":42|confirmHook|must be a URL or {url, method}",
            "\"referHook\":{\"method\":\"POST\"}|referHook.url|is required",
            "\"referHook\":{\"url\":\"https://hooks.example.com/r\",\"method\":\"PUT\"}|referHook.method|GET or POST",
            "\"confirmHook\":{\"url\":\"https://h.example.com/c\",\"username\":7}|confirmHook.username|string",
            "\"dtmfCapture\":5|dtmfCapture|array of DTMF sequences",
            "\"dtmfCapture\":[\"*2\",\"12x\"]|dtmfCapture[1]|DTMF digits",
            "\"dtmfCapture\":[7]|dtmfCapture[0]|DTMF digits",
            "\"speech_synthesis_voice\":7|speech_synthesis_voice|non-empty string",
            "\"speech_synthesis_language\":\" \"|speech_synthesis_language|non-empty string",
            "\"listen\":\"wss://audio.example.com\"|listen|nested listen action",
            "\"transcribe\":[]|transcribe|nested transcribe action"})
    void anAdvancedFieldTheCarrierWouldRefuseIsA400NamingIt(String field, String named, String message) {
        refusedNaming(field, named, message);
    }

    /** A phone call with {@code field} added is a 400 with one error, naming {@code named}, and nothing is sent. */
    private void refusedNaming(String field, String named, String message) {
        JsonNode problem = refused("{\"application_sid\":\"a\",\"from\":\"918068281234\","
                + "\"to\":{\"type\":\"phone\",\"number\":\"919876543215\"}," + field + "}");

        assertThat(problem.get("errors")).singleElement().satisfies(error -> {
            assertThat(error.get("field").asString()).isEqualTo(named);
            assertThat(error.get("message").asString()).contains(message);
        });
        assertThat(publisher.records).isEmpty();
    }

    @Test
    void theSeedsAdvancedFieldsAsTheyDocumentThemTravelToTheCarrier() {
        created("""
                {"application_sid":"a","from":"918068281234","to":{"type":"phone","number":"919876543215"},
                 "confirmHook":"https://hooks.example.com/confirm","dtmfHook":{"url":"wss://ws.example.com/dtmf",
                 "method":""},"referHook":{"url":"http://hooks.example.com/refer","method":"get","username":"u",
                 "password":"p"},"dtmfCapture":["*2","1#","A"],"speech_synthesis_vendor":"microsoft",
                 "speech_synthesis_voice":"de-DE-SeraphinaMultilingualNeural","speech_synthesis_language":"en-US",
                 "listen":{"url":"wss://audio.example.com"},"transcribe":{"transcriptionHook":"/t"}}""");

        assertThat(onlyCommand().carrierOptions())
                .containsEntry("confirmHook", "https://hooks.example.com/confirm")
                .containsEntry("dtmfCapture", List.of("*2", "1#", "A"))
                .containsEntry("speech_synthesis_vendor", "microsoft")
                .containsKeys("dtmfHook", "referHook", "listen", "transcribe", "speech_synthesis_voice",
                        "speech_synthesis_language");
    }

    @Test
    void anApplicationSidIsAsLongAsTheContractsFlowIdCountsIt() {
        String emoji = "\uD83D\uDE00"; // one character, two UTF-16 units
        String body = """
                {"application_sid":"%s","from":"918068281234","to":{"type":"phone","number":"919876543215"}}""";

        created(body.formatted(emoji.repeat(128)));
        assertThat(onlyCommand().flowId()).isEqualTo(emoji.repeat(128));
        assertThat(refused(body.formatted(emoji.repeat(129))).get("errors")).singleElement()
                .satisfies(error -> assertThat(error.get("field").asString()).isEqualTo("application_sid"));
    }

    @Test
    void aCallerNameOverTheDisplayNamesLengthIsA400NamingIt() {
        String body = """
                {"application_sid":"a","from":"918068281234","to":{"type":"phone","number":"919876543215"},
                 "callerName":"%s"}""";

        assertThat(refused(body.formatted("A".repeat(129))).get("errors")).singleElement().satisfies(error -> {
            assertThat(error.get("field").asString()).isEqualTo("callerName");
            assertThat(error.get("message").asString()).isEqualTo("must be at most 128 characters");
        });
        created(body.formatted("A".repeat(128)));
        assertThat(onlyCommand().carrierOptions()).containsEntry("callerName", "A".repeat(128));
    }

    @ParameterizedTest
    @ValueSource(strings = {"cognigy.cloud", "SIP.Example.COM", "sip.example.com.", "localhost", "203.0.113.7",
            "[2001:db8::1]"})
    void aFromHostThatIsAHostNameOrAddressTravelsAsGiven(String host) {
        created("""
                {"application_sid":"a","from":"918068281234","to":{"type":"phone","number":"919876543215"},
                 "callerName":"Acme Support (24/7) \u00e9t\u00e9","fromHost":"%s"}""".formatted(host));

        assertThat(onlyCommand().carrierOptions()).containsEntry("fromHost", host)
                .containsEntry("callerName", "Acme Support (24/7) \u00e9t\u00e9");
    }

    @Test
    void jambonzsCallStatusHookIsTheStatusHookAndIsNotPassedToTheCarrier() {
        created("""
                {"application_sid":"a","from":"918068281234","to":{"type":"phone","number":"919876543215"},
                 "call_status_hook":{"url":"https://crm.example.com/status","method":""}}""");

        CallCommand command = onlyCommand();
        assertThat(command.notifyUrl().url()).isEqualTo("https://crm.example.com/status");
        assertThat(command.notifyUrl().method()).as("left empty: the default").isEqualTo("POST");
        assertThat(command.carrierOptions()).doesNotContainKey("call_status_hook");
    }

    @Test
    void aStatusHookGivenUnderBothNamesIsA400NamingTheSecond() {
        JsonNode problem = refused("""
                {"application_sid":"a","from":"918068281234","to":{"type":"phone","number":"919876543215"},
                 "notifyUrl":"https://crm.example.com/a","call_status_hook":"https://crm.example.com/b"}""");

        assertThat(problem.get("errors")).singleElement()
                .satisfies(error -> assertThat(error.get("field").asString()).isEqualTo("call_status_hook"));
    }

    @Test
    void secondsWrittenWithAZeroFractionAreTheWholeNumberTheyAre() {
        created("""
                {"application_sid":"a","from":"918068281234","to":{"type":"phone","number":"919876543215"},
                 "timeout":20.0,"timeLimit":3600.00}""");

        assertThat(onlyCommand().carrierOptions()).containsEntry("timeout", 20).containsEntry("timeLimit", 3600);
    }

    @ParameterizedTest(name = "{0} is refused naming {1}: {2}")
    @CsvSource(delimiter = '|', value = {
            "\"from\":918068281234|from|must be a string",
            "\"application_sid\":42|application_sid|must be a string",
            "\"timeout\":20.5|timeout|whole number",
            "\"timeLimit\":\"60\"|timeLimit|whole number"})
    void aValueOfTheWrongKindIsA400SayingWhatItMustBe(String field, String named, String message) {
        String body = "{\"application_sid\":\"a\",\"from\":\"918068281234\","
                + "\"to\":{\"type\":\"phone\",\"number\":\"919876543215\"}," + field + "}";
        JsonNode problem = refused(body.replace("\"application_sid\":\"a\",", field.contains("application_sid")
                ? "" : "\"application_sid\":\"a\",").replace("\"from\":\"918068281234\",",
                field.contains("from") ? "" : "\"from\":\"918068281234\","));

        assertThat(problem.get("errors")).singleElement().satisfies(error -> {
            assertThat(error.get("field").asString()).isEqualTo(named);
            assertThat(error.get("message").asString()).contains(message);
        });
    }

    @Test
    void aMemberGivenTwiceIsA400NamingItRatherThanKeepingTheLast() {
        assertRefusedAsGivenTwice("from", """
                {"application_sid":"a","from":"918068281234","from":"918068280000",
                 "to":{"type":"phone","number":"919876543215"}}""");
        assertRefusedAsGivenTwice("to.number", """
                {"application_sid":"a","from":"918068281234",
                 "to":{"type":"phone","number":"919876543215","number":"919876543216"}}""");
        assertRefusedAsGivenTwice("tag.crm", """
                {"application_sid":"a","from":"918068281234","to":{"type":"phone","number":"919876543215"},
                 "tag":{"crm":"1","crm":"2"}}""");
        assertThat(publisher.records).isEmpty();
    }

    private void assertRefusedAsGivenTwice(String field, String body) {
        JsonNode problem = refused(body);

        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/validation");
        assertThat(problem.get("errors")).singleElement().satisfies(error -> {
            assertThat(error.get("field").asString()).isEqualTo(field);
            assertThat(error.get("message").asString()).isEqualTo("is given more than once");
        });
    }

    @Test
    void aNumberLongerThanTheJsonReaderTakesIsA400NamingItsField() {
        JsonNode problem = refused("""
                {"application_sid":"a","from":"918068281234","to":{"type":"phone","number":"919876543215"},
                 "timeout":%s}""".formatted("9".repeat(1500)));

        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/validation");
        assertThat(problem.get("errors")).singleElement().satisfies(error -> {
            assertThat(error.get("field").asString()).isEqualTo("timeout");
            assertThat(error.get("message").asString()).isEqualTo("is too large");
        });
        assertThat(refused("""
                {"application_sid":"a","from":"918068281234","to":{"type":"phone","number":"919876543215"},
                 "tag":{"n":%s}}""".formatted("9".repeat(1500))).get("errors").get(0).get("field").asString())
                .isEqualTo("tag.n");
    }

    @Test
    void aBodyNestedDeeperThanItsLimitIsA400NamingWhereNotA500WhenItsCommandIsWritten() {
        // The command wraps the body one level deeper, and Jackson writes no deeper than it reads.
        created("""
                {"application_sid":"a","from":"918068281234","to":{"type":"phone","number":"919876543215"},
                 "tag":%s}""".formatted(nested(VoiceGatewayCallsController.MAX_DEPTH - 1)));
        assertThat(onlyCommand().carrierOptions()).containsKey("tag");

        JsonNode problem = refused("""
                {"application_sid":"a","from":"918068281234","to":{"type":"phone","number":"919876543215"},
                 "tag":%s}""".formatted(nested(VoiceGatewayCallsController.MAX_DEPTH)));
        assertThat(problem.get("errors")).singleElement().satisfies(error -> {
            assertThat(error.get("field").asString()).startsWith("tag.a.a");
            assertThat(error.get("message").asString())
                    .isEqualTo("is nested more than " + VoiceGatewayCallsController.MAX_DEPTH + " levels deep, "
                            + "counting the body");
        });
        assertThat(publisher.records).hasSize(1);
    }

    /** {@code levels} objects, each the member {@code a} of the one around it. */
    private static String nested(int levels) {
        return "{\"a\":".repeat(levels - 1) + "{}" + "}".repeat(levels - 1);
    }

    @Test
    void absentOrNullCarrierOptionsAreNoProblem() {
        created("""
                {"application_sid":"a","from":"918068281234","to":{"type":"phone","number":"919876543215",
                 "trunk":null},"tag":null,"amd":null,"headers":{}}""");

        assertThat(onlyCommand().carrierOptions()).doesNotContainKey("trunk");
    }

    /** Clients whose models write every field send null for those not set: each is an option not given. */
    @Test
    void nullOptionsAreNotPassedOnToTakeTheDefaultsPlace() {
        created("""
                {"application_sid":"a","from":"918068281234","to":{"type":"phone","number":"919876543215"},
                 "timeLimit":null,"headers":null,"callerName":null,"tag":null,"amd":null,"fromHost":null}""");

        assertThat(onlyCommand().carrierOptions()).containsOnlyKeys("timeout");
    }

    private JsonNode created(String body) {
        byte[] answer = client.post().uri(PATH).contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange()
                .expectStatus().isCreated()
                .expectBody().returnResult().getResponseBody();
        return JSON.readTree(answer);
    }

    private JsonNode refused(String body) {
        byte[] answer = client.post().uri(PATH).contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange()
                .expectStatus().isBadRequest()
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody().returnResult().getResponseBody();
        return JSON.readTree(answer);
    }

    private CallCommand onlyCommand() {
        assertThat(publisher.records).hasSize(1);
        return new CommandReader().read(publisher.records.get(0).value());
    }

    private static final class CapturingPublisher extends AcknowledgedPublisher {

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
