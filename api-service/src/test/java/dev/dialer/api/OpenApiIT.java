package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dialer.common.contract.CarrierOptions;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The OpenAPI document as the running service serves it. Writes it to {@code target/openapi.json}, which CI lints
 * with Redocly ({@code .ci/run}); when the linter is installed ({@code .ci/tools}) this test runs it too.
 */
class OpenApiIT extends RunningApiService {

    static final Path EXPORTED = Path.of("target", "openapi.json");
    private static final Path REDOCLY = Path.of("..", ".ci", "tools", "node_modules", ".bin", "redocly");

    @Test
    void servesAnOpenApi31DocumentOfEveryPublicEndpointAndExportsIt() throws Exception {
        HttpResponse<String> docs = get("/v3/api-docs", null);

        assertThat(docs.statusCode()).isEqualTo(200);
        JsonNode document = json(docs);
        assertThat(document.get("openapi").asString()).startsWith("3.1");
        assertThat(document.get("paths").propertyNames()).contains(
                "/api/v2/outgoing/send", "/v1/Accounts/{accountSid}/Calls", "/api/v2/webhooks",
                "/api/v2/webhooks/{id}", "/api/v2/webhooks/{id}/rotate-secret", "/api/v2/webhooks/{id}/deliveries",
                "/api/v2/webhooks/{id}/replay", "/api/v2/subscriptions", "/api/v2/subscriptions/{id}",
                "/api/v2/account/hook-secret");
        assertThat(document.at("/paths/~1api~1v2~1account~1hook-secret/get/responses/200/content/application~1json"
                + "/schema/$ref").asString()).isEqualTo("#/components/schemas/HookSecret");
        assertThat(document.at("/components/securitySchemes/bearer/scheme").asString()).isEqualTo("bearer");
        assertThat(document.at("/paths/~1api~1v2~1outgoing~1send/post/requestBody/content/application~1json/examples")
                .propertyNames()).contains("audio-file-id", "ivr-journey", "ivr-with-variables",
                "audio-file-location");
        assertThat(document.at("/paths/~1api~1v2~1webhooks~1{id}/get/responses/404/$ref").asString())
                .isEqualTo("#/components/responses/NotFound");
        assertThat(document.at("/components/schemas/Subscription/properties/event_types/items/enum")
                .valueStream().map(JsonNode::asString).toList()).contains("call.cancel_rejected");
        assertThat(document.at("/paths/~1api~1v2~1calls~1{id}/delete/description").asString())
                .contains("call.cancel_rejected", "too_late");
        assertThat(document.at("/paths/~1api~1v2~1outgoing~1send/post/responses/413/description").asString())
                .contains("dialer.api.send.max-body-size", "262144", "dialer.api.send.max-recipients", "1000");
        assertThat(document.at("/paths/~1api~1v2~1outgoing~1send/post/responses/413/content/application~1problem+json"
                + "/examples").propertyNames()).containsExactly("payload-too-large", "too-many-recipients");
        assertThat(document.at("/paths/~1api~1v2~1webhooks/post/responses/413/content/application~1problem+json"
                + "/examples/payload-too-large/value").toString()).contains("The body is larger than 16384 bytes.");
        assertThat(document.at("/paths/~1v1~1Accounts~1{accountSid}~1Calls/post/responses/413/content"
                + "/application~1problem+json/examples/payload-too-large/value").toString())
                .contains("The body is larger than 65536 bytes.");
        assertThat(document.at("/components/responses").propertyNames()).doesNotContain("ContentTooLarge");
        assertThat(document.at("/paths/~1api~1v2~1calls/get/responses/429/$ref").asString())
                .isEqualTo("#/components/responses/TooManyRequests");
        assertThat(document.at("/components/responses/TooManyRequests/headers").propertyNames())
                .contains("Retry-After");
        assertThat(document.at("/paths/~1api~1v2~1calls/get/responses/503/$ref").asString())
                .as("the API key's lookup needs the database").isEqualTo("#/components/responses/Unavailable");
        assertThat(document.at("/components/schemas/VoiceGatewayTargetAuth/properties/password/writeOnly").asBoolean())
                .isTrue();
        Files.createDirectories(EXPORTED.getParent());
        Files.writeString(EXPORTED, docs.body(), StandardCharsets.UTF_8);
    }

    /**
     * What the generator cannot see for itself: the read model's snake_case names, bodies read by hand and their
     * limits, query parameters read as text.
     */
    @Test
    void documentsTheNamesBodiesAndParametersTheEndpointsReallyUse() throws Exception {
        JsonNode document = json(get("/v3/api-docs", null));

        assertThat(document.at("/components/schemas/Call/properties").propertyNames())
                .contains("final_status", "cancel_rejected_at").doesNotContain("finalStatus");
        assertThat(document.at("/components/schemas/Page/properties").propertyNames())
                .contains("next_cursor").doesNotContain("nextCursor");
        assertThat(document.at("/components/schemas/Attempt/properties").propertyNames()).contains("sip_status");
        // What a call's view may hold null is documented so: a client generated from the document reads it.
        JsonNode callView = document.at("/components/schemas/Call/properties");
        for (String nullable : List.of("final_status", "campaign", "foreign_id", "next_attempt_at", "finished_at",
                "cancel_rejected_at", "attempts")) {
            assertThat(callView.at("/" + nullable + "/type").toString()).as(nullable).contains("\"null\"");
        }
        assertThat(callView.at("/error/oneOf").toString())
                .isEqualTo("[{\"$ref\":\"#/components/schemas/Error\"},{\"type\":\"null\"}]");
        assertThat(callView.at("/error/$ref").isMissingNode()).isTrue();
        for (String nullable : List.of("provider_status", "provider_call_id", "sip_status", "sip_reason",
                "answered_by", "duration_seconds", "started_at", "ended_at")) {
            assertThat(document.at("/components/schemas/Attempt/properties/" + nullable + "/type").toString())
                    .as(nullable).contains("\"null\"");
        }
        assertThat(document.at("/components/schemas/Page/properties/next_cursor/type").toString()).contains("null");
        // The one case where a refused request keeps its key is in the document a client is generated from.
        for (String send : List.of("~1api~1v2~1outgoing~1send", "~1v1~1Accounts~1{accountSid}~1Calls")) {
            assertThat(document.at("/paths/" + send + "/post/parameters").findValuesAsString("description"))
                    .as(send).anyMatch(description -> description.contains("earlier_try_in_doubt"));
        }
        // Answers written as maps have their shapes named all the same.
        for (String[] answer : List.of(new String[] {"~1api~1v2~1calls~1{id}/delete/responses/202",
                        "CallCancelAccepted", "call_id"},
                new String[] {"~1api~1v2~1campaigns~1{name}~1{action}/post/responses/202", "CampaignControlAccepted",
                        "campaign"},
                new String[] {"~1api~1v2~1dnc~1{number}/get/responses/200", "DncEntry", "added_at"},
                new String[] {"~1api~1v2~1dnc/post/responses/200", "DncImportResult", "errors"})) {
            assertThat(document.at("/paths/" + answer[0] + "/content/application~1json/schema/$ref").asString())
                    .as(answer[0]).isEqualTo("#/components/schemas/" + answer[1]);
            assertThat(document.at("/components/schemas/" + answer[1] + "/properties").propertyNames())
                    .as(answer[1]).contains(answer[2]);
        }
        assertThat(document.at("/components/schemas/DncImportResult/properties/errors/items/$ref").asString())
                .isEqualTo("#/components/schemas/FieldProblem");
        assertThat(document.at("/components/schemas/Campaign/properties").propertyNames())
                .contains("by_status", "by_final_status");
        // Bodies whose other fields are a 400 say so.
        for (String body : List.of("WebhookCreate", "WebhookChange", "SubscriptionCreate", "SubscriptionChange",
                "AccountSettingsRequest")) {
            assertThat(document.at("/components/schemas/" + body + "/additionalProperties").toString()).as(body)
                    .isEqualTo("false");
        }
        assertThat(document.at("/paths/~1api~1v2~1account~1settings/put/requestBody/content").propertyNames())
                .containsExactly(JSON_TYPE);
        assertThat(document.at("/paths/~1api~1v2~1dnc~1{number}/put/requestBody/content").propertyNames())
                .containsExactly(JSON_TYPE);
        assertThat(document.at("/paths/~1api~1v2~1dnc/post/requestBody/content").propertyNames())
                .containsExactlyInAnyOrder(JSON_TYPE, "text/csv");
        assertThat(document.at("/paths/~1api~1v2~1outgoing~1preview/post/requestBody/content").propertyNames())
                .containsExactlyInAnyOrder(JSON_TYPE, FORM);
        for (String send : List.of("send", "preview")) {
            // A form's variables are written as the endpoint reads them, variables[Name]=…, not as bare names.
            JsonNode form = document.at("/paths/~1api~1v2~1outgoing~1" + send + "/post/requestBody/content/"
                    + FORM.replace("/", "~1"));
            assertThat(form.at("/encoding/variables/style").asString()).as(send).isEqualTo("deepObject");
            assertThat(form.at("/encoding/variables/explode").asBoolean()).as(send).isTrue();
            assertThat(form.at("/examples/form/value/variables/Name").asString()).as(send).isEqualTo("YourName");
            assertThat(document.at("/paths/~1api~1v2~1outgoing~1" + send + "/post/responses/415/content"
                    + "/application~1problem+json/examples/unsupported-media-type/value/detail").asString())
                    .startsWith("The body is labelled multipart/form-data,");
        }
        // DNC never blocks a sip or user target (decision 0072), whatever the cap does with it.
        assertThat(document.at("/paths/~1v1~1Accounts~1{accountSid}~1Calls/post/description").asString())
                .contains("never blocks a sip or user target").doesNotContain("DNC and the per-callee cap");
        assertThat(document.at("/paths/~1api~1v2~1account~1settings/get/responses/200/content/application~1json"
                + "/schema/$ref").asString()).isEqualTo("#/components/schemas/AccountSettings");
        for (String[] bodyLimit : List.of(new String[] {"~1api~1v2~1account~1settings/put", "131072"},
                new String[] {"~1api~1v2~1dnc~1{number}/put", "4096"},
                new String[] {"~1api~1v2~1dnc/post", "1048576"})) {
            assertThat(document.at("/paths/" + bodyLimit[0] + "/responses/413/content/application~1problem+json"
                    + "/examples/payload-too-large/value/detail").asString())
                    .isEqualTo("The body is larger than " + bodyLimit[1] + " bytes.");
        }
        // The Voice Gateway body's bounds, as CreateCall enforces them (decision 0130).
        JsonNode call = document.at("/components/schemas/VoiceGatewayCall/properties");
        for (String seconds : List.of("timeout", "timeLimit")) {
            assertThat(call.at("/" + seconds + "/minimum").asInt()).as(seconds).isEqualTo(1);
            assertThat(call.at("/" + seconds + "/maximum").asInt()).as(seconds).isEqualTo(86_400);
        }
        assertThat(call.at("/application_sid/maxLength").asInt()).isEqualTo(128);
        assertThat(call.at("/callerName/maxLength").asInt()).isEqualTo(128);
        assertThat(call.at("/fromHost/description").asString()).contains("host name or an IP address");
        // Every field of the Voice Gateway's create-call documents (the current one and v1) is one the endpoint takes,
        // and a property of its body, in the form the endpoint checks.
        assertThat(call.propertyNames()).contains("application_sid", "from", "fromHost", "callerName", "to",
                "timeout", "timeLimit", "tag", "headers", "speech_synthesis_vendor", "speech_synthesis_voice",
                "speech_synthesis_language", "amd", "notifyUrl", "actionHook", "confirmHook", "dtmfCapture",
                "dtmfHook", "listen", "referHook", "transcribe");
        assertThat(document.at("/components/schemas/VoiceGatewayTarget/properties").propertyNames())
                .contains("type", "number", "trunk");
        for (String hook : List.of("confirmHook", "dtmfHook", "referHook")) {
            assertThat(call.at("/" + hook + "/oneOf").toString()).as(hook)
                    .contains("#/components/schemas/VoiceGatewayCarrierHook");
        }
        assertThat(call.at("/dtmfCapture/type").toString()).contains("\"array\"");
        assertThat(call.at("/dtmfCapture/items/pattern").asString()).isEqualTo("^[0-9*#A-Da-d]+$");
        for (String speech : List.of("speech_synthesis_vendor", "speech_synthesis_voice",
                "speech_synthesis_language")) {
            assertThat(call.at("/" + speech + "/minLength").asInt()).as(speech).isEqualTo(1);
        }
        for (String action : List.of("listen", "transcribe")) {
            assertThat(call.at("/" + action + "/type").toString()).as(action).contains("\"object\"");
        }
        // The header names the endpoint refuses, as CarrierOptions lists them: the dialer's own by their prefix.
        String headers = call.at("/headers/description").asString();
        for (String reserved : CarrierOptions.RESERVED_SIP_HEADERS) {
            assertThat(headers).as(reserved).contains(reserved.startsWith(CarrierOptions.DIALER_SIP_HEADERS)
                    ? "`" + CarrierOptions.DIALER_SIP_HEADERS + "*`" : "`" + reserved + "`");
        }
        // The hook secret signs the Voice Gateway call's hooks: a send has none.
        assertThat(document.at("/paths/~1api~1v2~1account~1hook-secret/get/description").asString())
                .contains("`notifyUrl`", "`actionHook`", "`amd.actionHook`")
                .doesNotContain("notify_url", "action_hook");
        JsonNode calls = document.at("/paths/~1api~1v2~1calls/get");
        JsonNode limit = parameter(calls, "limit").get("schema");
        assertThat(limit.get("type").asString()).isEqualTo("integer");
        assertThat(limit.get("minimum").asInt()).isEqualTo(1);
        assertThat(limit.get("maximum").asInt()).isEqualTo(500);
        assertThat(limit.get("default").asInt()).isEqualTo(50);
        JsonNode refused = json(get("/api/v2/calls?status=unknown", KEY)).get("errors").get(0);
        assertThat(refused.get("field").asString()).isEqualTo("status");
        List<String> accepted = List.of(refused.get("message").asString().replace("must be one of ", "").split(", "));
        assertThat(parameter(calls, "status").at("/schema/enum").valueStream().map(JsonNode::asString).toList())
                .containsExactlyInAnyOrderElementsOf(accepted);
    }

    /**
     * Every query parameter the document names for a GET is one its endpoint takes: a list refuses the parameters it
     * does not read, and must not refuse one it documents.
     */
    @Test
    void acceptsEveryQueryParameterTheDocumentNames() throws Exception {
        JsonNode document = json(get("/v3/api-docs", null));
        HttpResponse<String> created = post("/api/v2/webhooks", JSON_TYPE, KEY,
                "{\"url\":\"https://docs.example.com/hooks\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String webhook = json(created).get("id").asString();

        List<String> asked = new ArrayList<>();
        for (String path : document.get("paths").propertyNames()) {
            JsonNode operation = document.get("paths").get(path).get("get");
            if (operation == null || operation.get("parameters") == null) {
                continue;
            }
            List<String> query = operation.get("parameters").valueStream()
                    .filter(parameter -> "query".equals(parameter.get("in").asString()))
                    .map(parameter -> parameter.get("name").asString() + "=" + exampleOf(parameter))
                    .toList();
            if (query.isEmpty()) {
                continue;
            }
            String uri = path.replaceAll("\\{[^}]+}", webhook) + "?" + String.join("&", query);
            HttpResponse<String> response = get(uri, KEY);
            assertThat(response.body()).as(uri).doesNotContain("is not a parameter");
            asked.add(uri);
        }
        assertThat(asked).as("the lists with query parameters").hasSizeGreaterThanOrEqualTo(3);
    }

    /** A value of the parameter's schema: its first allowed value, else its minimum, else some text. */
    private static String exampleOf(JsonNode parameter) {
        JsonNode schema = parameter.get("schema");
        if (schema != null && schema.has("enum")) {
            return schema.get("enum").get(0).asString();
        }
        return schema != null && schema.has("minimum") ? schema.get("minimum").asString() : "x";
    }

    @Test
    void servesSwaggerUi() throws Exception {
        HttpResponse<String> ui = get("/swagger-ui/index.html", null);

        assertThat(ui.statusCode()).isEqualTo(200);
        assertThat(ui.body()).contains("swagger-ui");
    }

    @Test
    void theDocumentIsLintCleanWhenTheLinterIsInstalled() throws Exception {
        assumeTrue(Files.isExecutable(REDOCLY), "Redocly is installed by .ci/run into .ci/tools");
        Path document = Files.createTempFile("openapi", ".json");
        Files.writeString(document, get("/v3/api-docs", null).body(), StandardCharsets.UTF_8);
        Path log = Files.createTempFile("openapi-lint", ".log");
        ProcessBuilder builder = new ProcessBuilder(List.of(REDOCLY.toString(), "lint", "--config",
                Path.of("..", "redocly.yaml").toString(), document.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("REDOCLY_TELEMETRY", "off");
        builder.environment().put("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true");
        Process lint = builder.start();
        // Its output goes to a file, so that a linter that hangs is given up after the wait, not read for ever.
        boolean ended = lint.waitFor(120, TimeUnit.SECONDS);
        if (!ended) {
            lint.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        Files.deleteIfExists(log);
        Files.deleteIfExists(document);
        assertThat(ended).as(output).isTrue();
        assertThat(lint.exitValue()).as(output).isZero();
        assertThat(output).as(output).contains("Your API description is valid")
                .doesNotContainPattern("You have \\d+ warning");
    }

    private static JsonNode parameter(JsonNode operation, String name) {
        return operation.get("parameters").valueStream().filter(parameter -> name.equals(parameter.get("name")
                .asString())).findFirst().orElseThrow(() -> new AssertionError("no parameter " + name));
    }
}
