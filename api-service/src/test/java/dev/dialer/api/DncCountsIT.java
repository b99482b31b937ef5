package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.infra.Infrastructure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The count of each account's DNC entries that the limit check reads (decision 0155): moved by every change by what
 * it inserted and deleted, exact under concurrent changes, and filled by migration V34 from the lists there were.
 */
class DncCountsIT extends RunningApiService {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void theCountFollowsPutsImportsAndDeletesByWhatTheyInsertedAndDeleted() throws Exception {
        String account = "dnc-counts-" + UUID.randomUUID();
        String key = TestAccounts.ensure(account);
        assertCount(account, 0);

        assertThat(put(key, "9876520001").statusCode()).isEqualTo(200);
        assertCount(account, 1);
        assertThat(put(key, "+919876520001").statusCode()).as("a number held already").isEqualTo(200);
        assertCount(account, 1);
        assertThat(put(key, "9876520002").statusCode()).isEqualTo(200);
        assertCount(account, 2);

        // Two numbers held, one given twice in two spellings, two new: the list gains the two.
        HttpResponse<String> imported = post("/api/v2/dnc", JSON_TYPE, key, """
                ["9876520001", "+919876520002", "9876520003", {"number":"+919876520003","reason":"again"},
                 "9876520004"]""");
        assertThat(imported.statusCode()).as(imported.body()).isEqualTo(200);
        assertCount(account, 4);
        assertThat(post("/api/v2/dnc", "text/csv", key, "9876520003\n9876520004\n").statusCode())
                .as("an import of numbers held only").isEqualTo(200);
        assertCount(account, 4);

        assertThat(delete("/api/v2/dnc/9876520002", key).statusCode()).isEqualTo(204);
        assertCount(account, 3);
        assertThat(delete("/api/v2/dnc/9876520002", key).statusCode()).as("a number deleted already").isEqualTo(404);
        assertThat(delete("/api/v2/dnc/9876520009", key).statusCode()).as("a number never held").isEqualTo(404);
        assertCount(account, 3);
        assertThat(put(key, "9876520002").statusCode()).as("a number deleted, added again").isEqualTo(200);
        assertCount(account, 4);
    }

    @Test
    void aPutTakesTheListsLastPlaceAndTheNextNewNumberIsRefusedUntilOneIsDeleted() throws Exception {
        String account = "dnc-counts-" + UUID.randomUUID();
        String key = TestAccounts.ensure(account);
        DncRows.insert(account, "earlier", IntStream.rangeClosed(1, DNC_PER_ACCOUNT - 1)
                .mapToObj(i -> "+4930" + String.format("%08d", i)).toArray(String[]::new));
        assertCount(account, DNC_PER_ACCOUNT - 1);

        assertThat(put(key, "9876530001").statusCode()).as("the last place").isEqualTo(200);
        assertCount(account, DNC_PER_ACCOUNT);

        HttpResponse<String> refused = put(key, "9876530002");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
        assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        JsonNode problem = json(refused);
        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/limit-reached");
        assertThat(problem.get("limit").asInt()).isEqualTo(DNC_PER_ACCOUNT);
        assertThat(problem.get("detail").asString()).isEqualTo("This account already has " + DNC_PER_ACCOUNT
                + " numbers on its DNC list, the most it may keep; delete one first.");
        assertThat(put(key, "9876530001").statusCode()).as("a number held already, the list full").isEqualTo(200);
        assertCount(account, DNC_PER_ACCOUNT);

        assertThat(delete("/api/v2/dnc/9876530001", key).statusCode()).isEqualTo(204);
        assertCount(account, DNC_PER_ACCOUNT - 1);
        assertThat(put(key, "9876530002").statusCode()).as("the place freed").isEqualTo(200);
        assertCount(account, DNC_PER_ACCOUNT);
    }

    @Test
    void changesOfOneAccountThatWaitedForItsCountAddUpOnceItIsFree() throws Exception {
        String account = "dnc-counts-" + UUID.randomUUID();
        String key = TestAccounts.ensure(account);
        assertThat(put(key, "9876540000").statusCode()).isEqualTo(200);
        try (Connection db = database()) {
            db.setAutoCommit(false);
            // The account's count held as a change holds it between its last statement and its commit.
            try (PreparedStatement hold = db.prepareStatement(
                    "SELECT entries FROM api.dnc_counts WHERE account_id = ? FOR UPDATE")) {
                hold.setString(1, account);
                assertThat(hold.executeQuery().next()).isTrue();
            }
            List<Callable<HttpResponse<String>>> changes = List.of(
                    () -> put(key, "9876540001"),
                    () -> post("/api/v2/dnc", JSON_TYPE, key, "[\"9876540002\", \"9876540003\"]"),
                    () -> delete("/api/v2/dnc/9876540000", key));
            ExecutorService threads = Executors.newFixedThreadPool(changes.size());
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            try {
                for (Callable<HttpResponse<String>> change : changes) {
                    answers.add(threads.submit(change));
                }
                // Released once one is seen waiting for it, well within its lock timeout (2 s): waiting for all
                // three, the first could time out on a slow machine before the last arrives.
                awaitLockWaits("api.dnc_counts", 1);
                db.rollback();
            } finally {
                threads.shutdown();
            }

            assertThat(answers.get(0).get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(answers.get(1).get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(answers.get(2).get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(204);
        }
        assertCount(account, 3);
    }

    @Test
    void changesOfOneAccountRacingOnThreadsOfTheirOwnOverSharedNumbersKeepItsCountExact() throws Exception {
        String account = "dnc-counts-" + UUID.randomUUID();
        String key = TestAccounts.ensure(account);
        int threadCount = 6;
        ExecutorService threads = Executors.newFixedThreadPool(threadCount);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Map<Integer, Integer>>> racing = new ArrayList<>();
        try {
            for (int t = 0; t < threadCount; t++) {
                Random random = new Random(t);
                racing.add(threads.submit(() -> {
                    start.await();
                    Map<Integer, Integer> statuses = new HashMap<>();
                    for (int i = 0; i < 12; i++) {
                        HttpResponse<String> answer = switch (i % 3) {
                            case 0 -> post("/api/v2/dnc", JSON_TYPE, key, "[" + String.join(",", IntStream
                                    .range(0, 15).mapToObj(n -> "\"" + shared(random) + "\"").toList()) + "]");
                            case 1 -> put(key, shared(random));
                            default -> delete("/api/v2/dnc/" + shared(random), key);
                        };
                        statuses.merge(answer.statusCode(), 1, Integer::sum);
                    }
                    return statuses;
                }));
            }
            start.countDown();
        } finally {
            threads.shutdown();
        }
        Map<Integer, Integer> statuses = new HashMap<>();
        for (Future<Map<Integer, Integer>> answers : racing) {
            answers.get(120, TimeUnit.SECONDS).forEach((status, count) -> statuses.merge(status, count, Integer::sum));
        }

        // A change answered 503 (a lock waited for too long) took no effect: the count must agree all the same.
        assertThat(statuses.keySet()).as("%s", statuses).isSubsetOf(200, 204, 404, 503);
        assertThat(statuses.getOrDefault(200, 0)).as("%s", statuses).isPositive();
        assertThat(DncRows.rows(account)).isPositive();
        assertThat(DncRows.counted(account)).as("%s", statuses).isEqualTo(DncRows.rows(account));
    }

    @Test
    void theMigrationCountsEachAccountsListAsItIs() throws Exception {
        String database = "dnc_counts_" + UUID.randomUUID().toString().replace("-", "");
        Infrastructure.Endpoints infra = Infrastructure.shared();
        String url = infra.jdbcUrl().replaceFirst("/[^/?]+(\\?|$)", "/" + database + "$1");
        try (Connection admin = database(); Statement create = admin.createStatement()) {
            create.execute("CREATE DATABASE " + database);
        }
        try {
            migrate(url, "33");
            try (Connection db = DriverManager.getConnection(url, infra.username(), infra.password());
                 Statement fill = db.createStatement()) {
                fill.execute("""
                        INSERT INTO api.accounts (id, name, default_region)
                        VALUES ('many', 'many', 'IN'), ('one', 'one', 'IN'), ('none', 'none', 'IN');
                        INSERT INTO api.dnc (account_id, number)
                        SELECT 'many', '+4930' || lpad(i::text, 8, '0') FROM generate_series(1, 1500) AS i;
                        INSERT INTO api.dnc (account_id, number) VALUES ('one', '+919876550001')""");
            }

            migrate(url, "34");

            try (Connection db = DriverManager.getConnection(url, infra.username(), infra.password());
                 Statement read = db.createStatement();
                 ResultSet rows = read.executeQuery(
                         "SELECT account_id, entries FROM api.dnc_counts ORDER BY account_id")) {
                Map<String, Long> counts = new HashMap<>();
                while (rows.next()) {
                    counts.put(rows.getString(1), rows.getLong(2));
                }
                assertThat(counts).as("an account without entries has no row").isEqualTo(Map.of("many", 1500L,
                        "one", 1L));
            }
        } finally {
            try (Connection admin = database(); Statement drop = admin.createStatement()) {
                drop.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            }
        }
    }

    /** Migrates the api schema of the database at {@code url} up to {@code version}, as api-service does. */
    private static void migrate(String url, String version) {
        Infrastructure.Endpoints infra = Infrastructure.shared();
        Flyway.configure()
                // Flyway's own lock held in a transaction would be waited for by V25's CREATE INDEX CONCURRENTLY.
                .configuration(Map.of("flyway.postgresql.transactional.lock", "false"))
                .dataSource(url, infra.username(), infra.password())
                .locations("classpath:db/migration/api")
                .schemas("api")
                .defaultSchema("api")
                .target(version)
                .load()
                .migrate();
    }

    /** One of the 40 numbers the racing changes share. */
    private static String shared(Random random) {
        return "98765600" + String.format("%02d", random.nextInt(40));
    }

    private static void assertCount(String account, long entries) throws Exception {
        assertThat(DncRows.rows(account)).as("the account's entries").isEqualTo(entries);
        assertThat(DncRows.counted(account)).as("the account's count of entries").isEqualTo(entries);
    }

    private HttpResponse<String> put(String key, String number) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v2/dnc/" + number))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", JSON_TYPE)
                .PUT(HttpRequest.BodyPublishers.ofString("{\"reason\":\"counted\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
