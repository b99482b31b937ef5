package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * What one account may keep: 100 webhooks and 100 subscriptions by default, and here 20,000 numbers on its DNC list
 * ({@code dialer.api.limits}).
 */
class AccountLimitsIT extends RunningApiService {

    private static final int MOST = 100;

    @Autowired
    private MeterRegistry registry;

    @Test
    void anAccountKeepsAtMostItsWebhooksAndRequestsRacingForTheLastPlaceTakeItOnce() throws Exception {
        String key = TestAccounts.another();
        for (int i = 0; i < MOST - 1; i++) {
            assertThat(createWebhook(key).statusCode()).isEqualTo(201);
        }

        // Six threads of their own, released together: a common pool of one thread would send them one by one.
        ExecutorService threads = Executors.newFixedThreadPool(6);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<HttpResponse<String>>> racing = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                racing.add(threads.submit(() -> {
                    start.await();
                    return createWebhook(key);
                }));
            }
            start.countDown();
        } finally {
            threads.shutdown();
        }
        List<HttpResponse<String>> answers = new ArrayList<>();
        for (Future<HttpResponse<String>> answer : racing) {
            answers.add(answer.get(60, TimeUnit.SECONDS));
        }

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
    void aCreationThatCannotHaveTheAccountsLockSoonIsAnswered503WithRetryAfter() throws Exception {
        String account = "limits-" + UUID.randomUUID();
        String key = TestAccounts.ensure(account);
        try (Connection db = database()) {
            db.setAutoCommit(false);
            try (PreparedStatement hold = db.prepareStatement(
                    "SELECT id FROM api.accounts WHERE id = ? FOR NO KEY UPDATE")) {
                hold.setString(1, account);
                assertThat(hold.executeQuery().next()).isTrue();
            }
            HttpResponse<String> answer = createWebhook(key);

            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(503);
            assertThat(answer.headers().firstValue("Retry-After")).isPresent();
            db.rollback();
        }
        assertThat(createWebhook(key).statusCode()).as("with the lock free").isEqualTo(201);
        assertThat(json(get("/api/v2/webhooks", key)).get("data")).hasSize(1);
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

        double before = refusedCount("subscriptions");
        HttpResponse<String> refused = post("/api/v2/subscriptions", JSON_TYPE, key, body);
        isLimitReached(refused);
        assertThat(refusedCount("subscriptions")).isEqualTo(before + 1);
        assertThat(json(refused).get("detail").asString()).contains("subscriptions");
        assertThat(json(get("/api/v2/subscriptions", key)).get("data")).hasSize(MOST);
    }

    @Test
    void anAccountsDncListHoldsAtMostItsLimitAndAnImportPastItAddsNothing() throws Exception {
        String account = "limits-dnc-" + UUID.randomUUID();
        String key = TestAccounts.ensure(account);
        int room = 10;
        DncRows.insert(account, "earlier", IntStream.rangeClosed(1, DNC_PER_ACCOUNT - room)
                .mapToObj(i -> "+4930" + String.format("%08d", i)).toArray(String[]::new));
        double before = refusedCount("dnc_entries");

        HttpResponse<String> refused = post("/api/v2/dnc", JSON_TYPE, key, numbers(0, room + 1));

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
        JsonNode problem = json(refused);
        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/limit-reached");
        assertThat(problem.get("limit").asInt()).isEqualTo(DNC_PER_ACCOUNT);
        assertThat(problem.get("detail").asString()).contains("numbers on its DNC list", "adds " + (room + 1));
        assertThat(refusedCount("dnc_entries")).isEqualTo(before + 1);
        assertThat(dncRows(account)).as("nothing added").isEqualTo(DNC_PER_ACCOUNT - room);

        HttpResponse<String> filled = post("/api/v2/dnc", JSON_TYPE, key, numbers(0, room));
        assertThat(filled.statusCode()).as(filled.body()).isEqualTo(200);
        HttpResponse<String> again = post("/api/v2/dnc", JSON_TYPE, key, numbers(0, room));
        assertThat(again.statusCode()).as("numbers it holds already add none").isEqualTo(200);
        assertThat(post("/api/v2/dnc", JSON_TYPE, key, numbers(room, 1)).statusCode()).isEqualTo(409);
        assertThat(dncRows(account)).isEqualTo(DNC_PER_ACCOUNT);
    }

    /** A JSON array of {@code count} numbers from the {@code first}. */
    private static String numbers(int first, int count) {
        List<String> numbers = new ArrayList<>();
        for (int i = first; i < first + count; i++) {
            numbers.add("\"+91987651" + String.format("%04d", i) + "\"");
        }
        return "[" + String.join(",", numbers) + "]";
    }

    /** The account's entries, counted; the count the changes keep (decision 0155) says the same. */
    private static long dncRows(String account) throws Exception {
        long rows = DncRows.rows(account);
        assertThat(DncRows.counted(account)).as("the account's count of entries").isEqualTo(rows);
        return rows;
    }

    private double refusedCount(String kept) {
        return registry.counter("dialer.api.limits.refused", "kept", kept).count();
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
