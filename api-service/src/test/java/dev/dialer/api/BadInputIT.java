package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

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
