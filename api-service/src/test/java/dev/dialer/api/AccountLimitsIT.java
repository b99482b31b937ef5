package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** What one account may keep: 100 webhooks and 100 subscriptions by default ({@code dialer.api.limits}). */
class AccountLimitsIT extends RunningApiService {

    private static final int MOST = 100;

    @Test
    void anAccountKeepsAtMostItsWebhooksAndRequestsRacingForTheLastPlaceTakeItOnce() throws Exception {
        String key = TestAccounts.another();
        for (int i = 0; i < MOST - 1; i++) {
            assertThat(createWebhook(key).statusCode()).isEqualTo(201);
        }

        List<CompletableFuture<HttpResponse<String>>> racing = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            racing.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return createWebhook(key);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        List<HttpResponse<String>> answers = racing.stream().map(CompletableFuture::join).toList();

        assertThat(answers).filteredOn(answer -> answer.statusCode() == 201).hasSize(1);
        List<HttpResponse<String>> refused = answers.stream().filter(answer -> answer.statusCode() != 201).toList();
        assertThat(refused).hasSize(5).allSatisfy(this::isLimitReached);
        JsonNode listed = json(get("/api/v2/webhooks", key)).get("data");
        assertThat(listed).hasSize(MOST);

        String first = listed.get(0).get("id").asString();
        assertThat(delete("/api/v2/webhooks/" + first, key).statusCode()).isEqualTo(204);
        assertThat(createWebhook(key).statusCode()).as("a place freed is taken again").isEqualTo(201);
        isLimitReached(createWebhook(key));
    }

    @Test
    void anAccountKeepsAtMostItsSubscriptions() throws Exception {
        String key = TestAccounts.another();
        HttpResponse<String> webhook = createWebhook(key);
        assertThat(webhook.statusCode()).as(webhook.body()).isEqualTo(201);
        String body = "{\"webhook_id\":\"" + json(webhook).get("id").asString()
                + "\",\"event_types\":[\"call.final\"]}";
        for (int i = 0; i < MOST; i++) {
            HttpResponse<String> created = post("/api/v2/subscriptions", JSON_TYPE, key, body);
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        }

        HttpResponse<String> refused = post("/api/v2/subscriptions", JSON_TYPE, key, body);
        isLimitReached(refused);
        assertThat(json(refused).get("detail").asString()).contains("subscriptions");
        assertThat(json(get("/api/v2/subscriptions", key)).get("data")).hasSize(MOST);
    }

    private HttpResponse<String> createWebhook(String key) throws Exception {
        return post("/api/v2/webhooks", JSON_TYPE, key,
                "{\"url\":\"https://limits.example.com/" + UUID.randomUUID() + "\"}");
    }

    private void isLimitReached(HttpResponse<String> answer) {
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(409);
        assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        JsonNode problem = json(answer);
        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/limit-reached");
        assertThat(problem.get("limit").asInt()).isEqualTo(MOST);
    }
}
