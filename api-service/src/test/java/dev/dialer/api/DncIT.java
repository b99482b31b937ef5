package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DncEntry;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The DNC list: stored per account and published on dialer.dnc, an entry on put and a tombstone on delete. */
class DncIT extends RunningApiService {

    private static final String OWNER = "it-dnc";
    private static final String OTHER = "it-dnc-other";
    private static TopicProbe dnc;
    private final HttpClient http = HttpClient.newHttpClient();
    private String ownerKey;
    private String otherKey;

    @BeforeEach
    void accountsAndProbe() throws Exception {
        ownerKey = TestAccounts.ensure(OWNER);
        otherKey = TestAccounts.ensure(OTHER);
        if (dnc == null) {
            dnc = probe(Topics.DNC);
        }
    }

    @AfterAll
    static void close() {
        if (dnc != null) {
            dnc.close();
        }
    }

    @Test
    void aPutWaitingForAnotherChangeOfItsNumberIsAnswered503InsteadOfHoldingAConnection() throws Exception {
        assertThat(put("/api/v2/dnc/9876500077", ownerKey, "{}").statusCode()).isEqualTo(200);
        // Another change of the entry, waiting for Kafka while it holds the entry's row.
        try (Connection other = database()) {
            other.setAutoCommit(false);
            try (PreparedStatement lock = other.prepareStatement(
                    "SELECT 1 FROM api.dnc WHERE account_id = ? AND number = '+919876500077' FOR UPDATE")) {
                lock.setString(1, OWNER);
                lock.execute();
            }
            CompletableFuture<HttpResponse<String>> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return put("/api/v2/dnc/9876500077", ownerKey, "{\"reason\":\"again\"}");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });

            HttpResponse<String> answered = waiting.get(15, TimeUnit.SECONDS);

            assertThat(answered.statusCode()).as(answered.body()).isEqualTo(503);
            other.rollback();
        }
        assertThat(put("/api/v2/dnc/9876500077", ownerKey, "{\"reason\":\"again\"}").statusCode())
                .as("once the row is free").isEqualTo(200);
    }

    @Test
    void putPublishesTheEntryAndDeletePublishesATombstoneUnderTheSameKey() throws Exception {
        HttpResponse<String> put = put("/api/v2/dnc/9876500001", ownerKey, "{\"reason\":\"asked by phone\"}");

        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        assertThat(json(put).get("number").asString()).isEqualTo("+919876500001");
        String key = OWNER + ":+919876500001";
        ConsumerRecord<String, byte[]> entry = last(key);
        DncEntry published = Contract.read(entry.value(), DncEntry.class);
        assertThat(published.accountId()).isEqualTo(OWNER);
        assertThat(published.reason()).isEqualTo("asked by phone");
        assertThat(json(get("/api/v2/dnc/+919876500001", ownerKey)).get("reason").asString())
                .isEqualTo("asked by phone");

        // Put again: the list, its answer and its record on the topic agree on the new reason and time.
        HttpResponse<String> again = put("/api/v2/dnc/9876500001", ownerKey, "{\"reason\":\"asked again\"}");
        assertThat(again.statusCode()).isEqualTo(200);
        JsonNode stored = json(get("/api/v2/dnc/+919876500001", ownerKey));
        assertThat(stored.get("reason").asString()).isEqualTo("asked again");
        assertThat(Instant.parse(stored.get("added_at").asString()))
                .isEqualTo(Instant.parse(json(again).get("added_at").asString()))
                .isEqualTo(Contract.read(last(key).value(), DncEntry.class).addedAt());

        HttpResponse<String> deleted = delete("/api/v2/dnc/919876500001", ownerKey);

        assertThat(deleted.statusCode()).isEqualTo(204);
        assertThat(last(key).value()).isNull();
        assertThat(get("/api/v2/dnc/9876500001", ownerKey).statusCode()).isEqualTo(404);
        assertThat(delete("/api/v2/dnc/9876500001", ownerKey).statusCode()).isEqualTo(404);
    }

    @Test
    void anotherAccountsEntryIsNotFoundAndCannotBeDeleted() throws Exception {
        assertThat(put("/api/v2/dnc/9876500002", ownerKey, "").statusCode()).isEqualTo(200);

        assertThat(get("/api/v2/dnc/9876500002", otherKey).statusCode()).isEqualTo(404);
        assertThat(delete("/api/v2/dnc/9876500002", otherKey).statusCode()).isEqualTo(404);
        assertThat(get("/api/v2/dnc/9876500002", ownerKey).statusCode()).isEqualTo(200);
        assertThat(last(OWNER + ":+919876500002").value()).isNotNull();
    }

    @Test
    void deleteTakesOffTheTopicAnEntryTheListDoesNotHoldAndStillAnswers404() throws Exception {
        // What a PUT answered 503 can leave behind: Kafka stored the entry after the time-out, the row rolled back.
        String key = OWNER + ":+919876500003";
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Infrastructure.shared().kafkaBootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.DNC, key, Contract.toBytes(new DncEntry(DncEntry.VERSION, OWNER,
                    "+919876500003", "stranded", Instant.now())))).get();
        }
        assertThat(last(key).value()).isNotNull();
        assertThat(get("/api/v2/dnc/9876500003", ownerKey).statusCode()).isEqualTo(404);

        HttpResponse<String> deleted = delete("/api/v2/dnc/9876500003", ownerKey);

        assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(404);
        assertThat(last(key).value()).isNull();
    }

    @Test
    void aDeleteWaitsForAPutOfTheSameNumberStillUncommittedAndTakesItsRowOff() throws Exception {
        // The put's row is not committed yet when the delete runs: the delete must not publish its tombstone and
        // commit meanwhile, or the put's record could follow it on the topic while the list keeps the number.
        try (Connection db = database()) {
            db.setAutoCommit(false);
            DncRows.insert(db, OWNER, null, "+919876500004");
            CompletableFuture<HttpResponse<String>> deleted = CompletableFuture.supplyAsync(() -> {
                try {
                    return delete("/api/v2/dnc/9876500004", ownerKey);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            // Committed once the delete is seen waiting for the put's row, well within the delete's lock timeout.
            awaitLockWaits("INSERT INTO api.dnc", 1);
            assertThat(deleted).as("the delete waits for the put's transaction").isNotDone();

            db.commit();

            assertThat(deleted.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(204);
        }
        assertThat(get("/api/v2/dnc/9876500004", ownerKey).statusCode()).isEqualTo(404);
        assertThat(last(OWNER + ":+919876500004").value()).isNull();
    }

    @Test
    void refusesANumberThatCannotBeValidNamingIt() throws Exception {
        HttpResponse<String> put = put("/api/v2/dnc/12", ownerKey, "");

        assertThat(put.statusCode()).isEqualTo(400);
        assertThat(json(put).get("errors").get(0).get("field").asString()).isEqualTo("number");
    }

    @Test
    void importsAJsonArrayReportingInvalidRowsAndPublishesEachValidOne() throws Exception {
        HttpResponse<String> imported = post("/api/v2/dnc", JSON_TYPE, ownerKey, """
                ["9876500010", {"number":"+919876500011","reason":"complaint"}, "12", {"reason":"no number"},
                 {"number":"9876500012","Reason":"misspelt"}]""");

        assertThat(imported.statusCode()).as(imported.body()).isEqualTo(200);
        JsonNode answer = json(imported);
        assertThat(answer.get("added").asInt()).isEqualTo(2);
        assertThat(answer.get("rejected").asInt()).isEqualTo(3);
        assertThat(answer.get("errors").findValuesAsString("field"))
                .containsExactly("rows[2]", "rows[3].number", "rows[4].Reason");
        assertThat(Contract.read(last(OWNER + ":+919876500011").value(), DncEntry.class).reason())
                .isEqualTo("complaint");
        assertThat(last(OWNER + ":+919876500010").value()).isNotNull();
    }

    @Test
    void importsCsvLinesWithAHeader() throws Exception {
        HttpResponse<String> imported = post("/api/v2/dnc", "text/csv", ownerKey,
                "number,reason\n9876500020,opt-out\n\n+919876500021\n");

        assertThat(imported.statusCode()).as(imported.body()).isEqualTo(200);
        assertThat(json(imported).get("added").asInt()).isEqualTo(2);
        assertThat(json(get("/api/v2/dnc/9876500020", ownerKey)).get("reason").asString()).isEqualTo("opt-out");
    }

    @Test
    void refusesAnImportWithoutAnyValidRow() throws Exception {
        HttpResponse<String> imported = post("/api/v2/dnc", JSON_TYPE, ownerKey, "[\"12\"]");

        assertThat(imported.statusCode()).isEqualTo(400);
        assertThat(json(imported).get("errors").get(1).get("field").asString()).isEqualTo("rows[0]");
    }

    @Test
    void refusesBodiesAboveTheirLimitsWith413() throws Exception {
        HttpResponse<String> entry = put("/api/v2/dnc/9876500030", ownerKey,
                "{\"reason\":\"" + "x".repeat(5000) + "\"}");
        HttpResponse<String> imported = post("/api/v2/dnc", "text/csv", ownerKey, "9876500031\n".repeat(100_000));

        assertThat(entry.statusCode()).as(entry.body()).isEqualTo(413);
        assertThat(json(entry).get("detail").asString()).isEqualTo("The body is larger than 4096 bytes.");
        assertThat(imported.statusCode()).as(imported.body()).isEqualTo(413);
        assertThat(json(imported).get("detail").asString()).isEqualTo("The body is larger than 1048576 bytes.");
    }

    private static ConsumerRecord<String, byte[]> last(String key) {
        List<ConsumerRecord<String, byte[]>> seen = dnc.readToEnd();
        return seen.stream().filter(record -> key.equals(record.key())).reduce((first, second) -> second)
                .orElseThrow(() -> new AssertionError("nothing on dialer.dnc under " + key));
    }

    private HttpResponse<String> put(String path, String key, String body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", JSON_TYPE)
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
