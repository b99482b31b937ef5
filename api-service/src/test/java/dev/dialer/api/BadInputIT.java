package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * Bad input on every endpoint that reads it, against the running service on real Kafka and PostgreSQL: it is a 4xx
 * problem (or, where the input is only a label the endpoint does not rely on, the answer a good request gets), never a
 * 5xx. Runs as an account of its own, so its settings and DNC entries touch no other test.
 */
class BadInputIT extends RunningApiService {

    private static final String ACCOUNT_ID = "it-bad-input";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static String key;
    private static String webhookId;
    private static String subscriptionId;

    /** One request to each endpoint that reads a body, with the status a good request gets. */
    record BodyRequest(String method, String path, String body, int status) {

        @Override
        public String toString() {
            return method + " " + path;
        }
    }

    static Stream<BodyRequest> bodyEndpoints() {
        String send = """
                {"bridge":"918068281234","to":"919876543215","flow_id":"23"}""";
        return Stream.of(
                new BodyRequest("POST", "/api/v2/outgoing/send", send, 200),
                new BodyRequest("POST", "/api/v2/outgoing/preview", send, 200),
                new BodyRequest("POST", "/v1/Accounts/" + ACCOUNT_ID + "/Calls", """
                        {"application_sid":"app-1","from":"918068281234",\
                        "to":{"type":"phone","number":"919876543215"}}""", 201),
                new BodyRequest("POST", "/api/v2/webhooks", """
                        {"url":"https://crm.example.com/bad-input"}""", 201),
                new BodyRequest("PATCH", "/api/v2/webhooks/{webhook}", """
                        {"description":"bad input"}""", 200),
                new BodyRequest("POST", "/api/v2/subscriptions", """
                        {"webhook_id":"{webhook}","event_types":["call.final"]}""", 201),
                new BodyRequest("PATCH", "/api/v2/subscriptions/{subscription}", """
                        {"event_types":["call.status"]}""", 200),
                new BodyRequest("POST", "/api/v2/webhooks/{webhook}/replay", """
                        {"event_ids":["evt-bad-input"]}""", 202),
                new BodyRequest("PUT", "/api/v2/account/settings", """
                        {"default_region":"IN"}""", 200),
                new BodyRequest("PUT", "/api/v2/dnc/919876543299", """
                        {"reason":"bad input"}""", 200),
                new BodyRequest("POST", "/api/v2/dnc", """
                        ["919876543298"]""", 200));
    }

    static Stream<Arguments> bodyEndpointsWithUnreadableContentTypes() {
        return bodyEndpoints().flatMap(request -> Stream.of("json", "application/json; charset=utf-9")
                .map(contentType -> Arguments.of(request, contentType)));
    }

    @ParameterizedTest(name = "{0} with Content-Type: {1}")
    @MethodSource("bodyEndpointsWithUnreadableContentTypes")
    void readsABodyWhoseContentTypeCannotBeParsedAsJson(BodyRequest request, String contentType) throws Exception {
        HttpResponse<String> response = exchange(request.method(), request.path(), contentType, request.body());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(request.status());
    }

    /** A request holding a NUL character, and the problem it must get: its status and the field it names. */
    record NulRequest(String method, String path, String contentType, String body, int status, String field) {

        @Override
        public String toString() {
            return method + " " + path + (body == null ? "" : " " + body);
        }
    }

    static Stream<NulRequest> stringsWithANulCharacter() {
        String send = "/api/v2/outgoing/send";
        String calls = "/v1/Accounts/" + ACCOUNT_ID + "/Calls";
        return Stream.of(
                new NulRequest("POST", send, JSON_TYPE, """
                        {"bridge":"918068281234","to":"919876543215","flow_id":"1","foreign_id":"a\\u0000"}""",
                        400, "foreign_id"),
                new NulRequest("POST", send, JSON_TYPE, """
                        {"bridge":"918068281234","to":"919876543215","flow_id":"1","name":"spring\\u0000"}""",
                        400, "name"),
                new NulRequest("POST", send, JSON_TYPE, """
                        {"bridge":"918068281234","to":"919876543215","flow_id":"1\\u0000"}""", 400, "flow_id"),
                new NulRequest("POST", send, JSON_TYPE, """
                        {"bridge":"918068281234","to":"919876543215","flow_id":"1","variables[otp]":"12\\u000034"}""",
                        400, "variables[otp]"),
                new NulRequest("POST", send, JSON_TYPE, """
                        {"bridge":"918068281234","to":"919876543215","flow_id":"1","variables":{"o\\u0000tp":"1"}}""",
                        400, "variables[o\\u0000tp]"),
                new NulRequest("POST", send, JSON_TYPE, """
                        {"bridge":"918068281234","flow_id":"1",\
                        "to":[{"number":"919876543215","foreign_id":"crm\\u0000"},"919876543216"]}""",
                        400, "to[0].foreign_id"),
                new NulRequest("POST", send, FORM, "bridge=918068281234&to=919876543215&flow_id=1&name=a%00b",
                        400, "name"),
                new NulRequest("POST", "/api/v2/outgoing/preview", JSON_TYPE, """
                        {"bridge":"918068281234","to":"919876543215","flow_id":"1","foreign_id":"\\u0000"}""",
                        400, "foreign_id"),
                new NulRequest("POST", calls, JSON_TYPE, """
                        {"application_sid":"app-1","from":"918068281234",\
                        "to":{"type":"phone","number":"919876543215"},"tag":{"crm":"c\\u00009"}}""", 400, "tag.crm"),
                new NulRequest("POST", calls, JSON_TYPE, """
                        {"application_sid":"app\\u0000","from":"918068281234",\
                        "to":{"type":"phone","number":"919876543215"}}""", 400, "application_sid"),
                new NulRequest("POST", "/api/v2/webhooks", JSON_TYPE, """
                        {"url":"https://crm.example.com/nul","description":"crm\\u0000"}""", 400, "description"),
                new NulRequest("PATCH", "/api/v2/webhooks/{webhook}", JSON_TYPE, """
                        {"description":"\\u0000"}""", 400, "description"),
                new NulRequest("POST", "/api/v2/subscriptions", JSON_TYPE, """
                        {"webhook_id":"\\u0000","event_types":["call.final"]}""", 400, "webhook_id"),
                new NulRequest("POST", "/api/v2/webhooks/{webhook}/replay", JSON_TYPE, """
                        {"event_ids":["evt\\u0000"]}""", 400, "event_ids[0]"),
                new NulRequest("PUT", "/api/v2/account/settings", JSON_TYPE, """
                        {"campaign_windows":[{"campaign":"a\\u0000","start":"09:00","end":"18:00"}]}""",
                        400, "campaign_windows[0].campaign"),
                new NulRequest("PUT", "/api/v2/dnc/919876543297", JSON_TYPE, """
                        {"reason":"asked\\u0000"}""", 400, "reason"),
                new NulRequest("GET", "/api/v2/calls/%00", null, null, 404, null),
                new NulRequest("DELETE", "/api/v2/calls/a%00b", null, null, 404, null),
                new NulRequest("GET", "/api/v2/campaigns/%00", null, null, 404, null),
                new NulRequest("POST", "/api/v2/campaigns/%00/pause", null, null, 404, null),
                new NulRequest("GET", "/api/v2/webhooks/%00", null, null, 404, null),
                new NulRequest("GET", "/api/v2/subscriptions/%00", null, null, 404, null),
                new NulRequest("GET", "/api/v2/webhooks/%00/deliveries", null, null, 404, null),
                new NulRequest("GET", "/api/v2/dnc/%00", null, null, 404, null),
                new NulRequest("GET", "/api/v2/calls?foreign_id=%00", null, null, 400, "foreign_id"),
                new NulRequest("GET", "/api/v2/calls?campaign=a%00", null, null, 400, "campaign"),
                new NulRequest("GET", "/api/v2/subscriptions?webhook_id=%00", null, null, 400, "webhook_id"),
                new NulRequest("GET", "/api/v2/webhooks/{webhook}/deliveries?event_id=%00", null, null, 400,
                        "event_id"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stringsWithANulCharacter")
    void refusesAStringWithANulCharacterNamingItsField(NulRequest request) throws Exception {
        HttpResponse<String> response = exchange(request.method(), request.path(), request.contentType(),
                request.body());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(request.status());
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        if (request.field() != null) {
            assertThat(json(response).get("errors").findValuesAsString("field"))
                    .contains(JSON.readTree("\"" + request.field() + "\"").asString());
        }
    }

    @Test
    void refusesPercentEncodedBytesInTheUrlThatAreNotUtf8() throws Exception {
        // Caf%E9 is Latin-1: decoded as UTF-8, its last byte would be U+FFFD, a value nobody wrote.
        HttpResponse<String> filter = exchange("GET", "/api/v2/calls?foreign_id=Caf%E9", null, null);
        HttpResponse<String> delivery = exchange("GET", "/api/v2/webhooks/{webhook}/deliveries?event_id=%C3", null,
                null);
        HttpResponse<String> segment = exchange("POST", "/api/v2/campaigns/Caf%E9/pause", null, null);
        HttpResponse<String> utf8 = exchange("GET", "/api/v2/calls?foreign_id=Caf%C3%A9", null, null);

        assertThat(filter.statusCode()).as(filter.body()).isEqualTo(400);
        assertThat(json(filter).get("errors").get(0).get("field").asString()).isEqualTo("foreign_id");
        assertThat(delivery.statusCode()).as(delivery.body()).isEqualTo(400);
        assertThat(json(delivery).get("errors").get(0).get("field").asString()).isEqualTo("event_id");
        assertThat(segment.statusCode()).as(segment.body()).isEqualTo(404);
        assertThat(segment.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(utf8.statusCode()).as(utf8.body()).isEqualTo(200);
    }

    @Test
    void aValueLongerThanTheServersDefaultRequestLineIsA400NamingItNotABare414() throws Exception {
        // Reactor Netty's default request line is 4,096 characters, its headers 8 KB.
        HttpResponse<String> filter = exchange("GET", "/api/v2/calls?campaign=" + "c".repeat(5_000), null, null);
        HttpRequest keyed = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v2/outgoing/send"))
                .header("Authorization", "Bearer " + key()).header("Content-Type", JSON_TYPE)
                .header("Idempotency-Key", "k".repeat(9_000))
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"bridge\":\"918068281234\",\"to\":\"919876543215\",\"flow_id\":\"1\"}"))
                .build();
        HttpResponse<String> key = HTTP.send(keyed, HttpResponse.BodyHandlers.ofString());

        assertThat(filter.statusCode()).as(filter.body()).isEqualTo(400);
        assertThat(json(filter).get("errors").get(0).get("field").asString()).isEqualTo("campaign");
        assertThat(key.statusCode()).as(key.body()).isEqualTo(400);
        assertThat(json(key).get("errors").findValuesAsString("field")).containsExactly("Idempotency-Key");
    }

    /** Cursors made by hand: times outside what a row can hold, an id with a NUL character. */
    static Stream<String> cursorsNoRowCouldHave() {
        // A call's position may be before 1970 (a command's created_at), not before the year 1.
        Stream<String> calls = Stream.of(Long.MIN_VALUE + "|x", Long.MAX_VALUE + "|x", "-62135596800000001|x",
                        "253402300800000000|x", "1700000000000000|a\u0000b")
                .map(plain -> "/api/v2/calls?cursor=" + base64(plain));
        Stream<String> deliveries = Stream.of(Long.MIN_VALUE + ".0:x", "31556889864403199.0:x", "-1.0:x",
                        "253402300800.0:x", "1700000000.0:a\u0000b")
                .map(plain -> "/api/v2/webhooks/{webhook}/deliveries?cursor=" + base64(plain));
        return Stream.concat(calls, deliveries);
    }

    private static String base64(String plain) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @MethodSource("cursorsNoRowCouldHave")
    void refusesAHandMadeCursorNoRowCouldHave(String path) throws Exception {
        HttpResponse<String> response = exchange("GET", path, null, null);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        assertThat(json(response).get("errors").get(0).get("field").asString()).isEqualTo("cursor");
    }

    /**
     * A list asked with a parameter it does not read (a filter written in another case, or not one of its own), or
     * with a filter given twice, as clients write a list ({@code campaign=a&campaign=b}). Read as no filter at all,
     * the first would answer the whole list as if it were what was asked for; each filter takes one value, and the
     * second's values joined by a comma would filter on text nobody asked for, answered with an empty page.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "/api/v2/calls?foreignId=crm-1&limit=1|foreignId|is not a parameter",
            "/api/v2/calls?campaign=c&page=2|page|is not a parameter",
            "/api/v2/subscriptions?webhookId={webhook}|webhookId|is not a parameter",
            "/api/v2/webhooks?url=https://crm.example.com|url|is not a parameter",
            "/api/v2/webhooks/{webhook}/deliveries?eventId=evt_1|eventId|is not a parameter",
            "/api/v2/calls?foreign_id=crm-1&foreign_id=crm-2|foreign_id|more than once",
            "/api/v2/calls?foreign_id=|foreign_id|is empty",
            "/api/v2/calls?campaign=%20&limit=5|campaign|is empty",
            "/api/v2/calls?status=|status|is empty",
            "/api/v2/calls?campaign=a&limit=5&campaign=b|campaign|more than once",
            "/api/v2/subscriptions?webhook_id={webhook}&webhook_id={webhook}|webhook_id|more than once",
            "/api/v2/webhooks/{webhook}/deliveries?event_id=evt_1&event_id=evt_2|event_id|more than once"})
    void refusesAQueryParameterAListCannotUseNamingIt(String pathParameterAndWhy) throws Exception {
        String[] parts = pathParameterAndWhy.split("\\|");
        HttpResponse<String> response = exchange("GET", parts[0], null, null);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        JsonNode problem = json(response);
        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/validation");
        assertThat(problem.get("errors").get(0).get("field").asString()).isEqualTo(parts[1]);
        assertThat(problem.get("errors").get(0).get("message").asString()).contains(parts[2]);
    }

    HttpResponse<String> exchange(String method, String path, String contentType, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + resolve(path)))
                .timeout(Duration.ofSeconds(30))
                .header("Accept", "application/json")
                .header("Authorization", "Bearer " + key())
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(resolve(body)));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A URI that is none (no HTTP client library sends one, so it is written on a socket as a hand-made client would)
     * is a problem document too, not the bare 400 the server adapter gave it; the connection is closed after it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"GET /api/v2/calls?campaign=%ZZ", "GET /api/v2/calls?campaign=\"spring\"",
            "POST /api/v2/outgoing/send?x=100%"})
    void aUriThatIsNoneIsAProblemSayingWhereItBreaks(String requestLine) throws Exception {
        String raw;
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write((requestLine + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                    + key() + "\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            raw = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }

        assertThat(raw).startsWith("HTTP/1.1 400 ").containsIgnoringCase("content-type: application/problem+json");
        JsonNode problem = JSON.readTree(raw.substring(raw.indexOf("\r\n\r\n") + 4));
        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/malformed-request");
        assertThat(problem.get("status").asInt()).isEqualTo(400);
        assertThat(problem.get("detail").asString()).startsWith("The request's URI is malformed: ")
                .contains(" at character ");
    }

    /** Fills in the ids of the webhook and subscription the requests name, creating them the first time. */
    private String resolve(String text) throws Exception {
        String resolved = text.contains("{webhook}") ? text.replace("{webhook}", webhookId()) : text;
        return resolved.contains("{subscription}") ? resolved.replace("{subscription}", subscriptionId()) : resolved;
    }

    private String key() throws Exception {
        if (key == null) {
            key = TestAccounts.ensure(ACCOUNT_ID);
        }
        return key;
    }

    private String webhookId() throws Exception {
        if (webhookId == null) {
            HttpResponse<String> created = post("/api/v2/webhooks", JSON_TYPE, key(),
                    "{\"url\":\"https://crm.example.com/" + UUID.randomUUID() + "\"}");
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            webhookId = json(created).get("id").asString();
        }
        return webhookId;
    }

    private String subscriptionId() throws Exception {
        if (subscriptionId == null) {
            HttpResponse<String> created = post("/api/v2/subscriptions", JSON_TYPE, key(),
                    "{\"webhook_id\":\"" + webhookId() + "\",\"event_types\":[\"call.final\"]}");
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            subscriptionId = json(created).get("id").asString();
        }
        return subscriptionId;
    }
}
