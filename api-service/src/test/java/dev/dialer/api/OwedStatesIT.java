package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.dialer.api.kafka.OwedStateSweeps;
import dev.dialer.api.kafka.RefusingPublisher;
import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DncEntry;
import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.test.context.TestPropertySource;
import reactor.core.publisher.Flux;

/**
 * The states api-service owes to Kafka (decision 0129) outlive the request that left them: a campaign cancel whose
 * record Kafka refused is published by the sweeper although nobody repeats it, and a restatement whose process
 * stopped before it (a row left, nothing in memory) is made by the sweeper from the row alone. Sweeps here run every
 * 200 ms and leave a change two and a half seconds (its records, handed over, may land for two).
 */
@TestPropertySource(properties = {
        "dialer.api.kafka.ack-timeout=PT1S",
        "dialer.api.owed-states.sweep-every=PT0.2S",
        "dialer.api.owed-states.grace=PT2.5S",
        "dialer.api.owed-states.lease=PT5S",
        "dialer.api.owed-states.first-retry=PT0.5S",
        "dialer.api.owed-states.max-retry=PT2S"})
@Import(OwedStatesIT.RefusingBroker.class)
class OwedStatesIT extends RunningApiService {

    private static final Duration SWEPT = Duration.ofSeconds(30);

    /** The API's publisher, made able to refuse a topic's records. */
    @TestConfiguration(proxyBeanMethods = false)
    static class RefusingBroker {

        @Bean
        @Primary
        RefusingPublisher refusingPublisher(KafkaPublisher publisher, MeterRegistry registry) {
            return new RefusingPublisher(publisher, Duration.ofSeconds(1), Duration.ofSeconds(5), registry);
        }
    }

    @Autowired
    RefusingPublisher broker;

    @Autowired
    KafkaPublisher producer;

    @Autowired
    ApplicationContext context;

    @Test
    void aCampaignCancelKafkaRefusedIsPublishedByTheSweeperThoughNobodyRepeatsIt() throws Exception {
        String campaign = "owed-cancel-" + UUID.randomUUID();
        insertCall(campaign);
        String key = CallControl.campaignKey(ACCOUNT, campaign);

        // Not sweeping until what Kafka refused has been looked at: the owed row is due 2.5 s after the cancel.
        OwedStateSweeps.stopSweeping(context);
        try {
            broker.refuse(Topics.CALL_CONTROL);
            HttpResponse<String> cancel;
            try {
                cancel = post("/api/v2/campaigns/" + campaign + "/cancel", null, KEY, "");
            } finally {
                broker.admit(Topics.CALL_CONTROL);
            }
            assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(503);
            assertThat(json(cancel).get("detail").asString()).contains("canceled all the same");
            assertThat(owed("campaign", campaign)).as("the cancel is owed to Kafka").isEqualTo(1);
            try (TopicProbe topic = probe(Topics.CALL_CONTROL)) {
                assertThat(controls(topic, key)).as("Kafka refused the cancel: the dialer does not have it")
                        .isEmpty();
            }
        } finally {
            OwedStateSweeps.startSweeping(context);
        }

        String canceledBy = controlId(campaign);
        try (TopicProbe topic = probe(Topics.CALL_CONTROL)) {
            await().atMost(SWEPT).untilAsserted(() -> assertThat(controls(topic, key))
                    .as("the sweeper published the campaign's committed state: the cancel, under its own id")
                    .isNotEmpty()
                    .allSatisfy(control -> {
                        assertThat(control.action()).isEqualTo(CallControl.Action.CANCEL);
                        assertThat(control.controlId()).isEqualTo(canceledBy);
                    }));
        }
        await().atMost(SWEPT).untilAsserted(() -> assertThat(owed("campaign", campaign))
                .as("nothing is owed once Kafka stored it").isZero());
        assertThat(json(get("/api/v2/campaigns/" + campaign, KEY)).get("state").asString()).isEqualTo("canceled");
    }

    @Test
    void aWebhookDeleteWhoseProcessStoppedBeforeItsRestatementIsUndoneByTheSweeper() throws Exception {
        String webhookId = insertWebhook();
        String subscriptionId = insertSubscription(webhookId);
        // The delete's tombstones landed, then its process stopped: it had rolled back, nothing restated them.
        lateRecords(new OutboundRecord(Topics.WEBHOOK_CONFIG, SubscriptionConfig.key(subscriptionId), null, null),
                new OutboundRecord(Topics.WEBHOOK_CONFIG, webhookId, null, null));
        insertOwed("webhook", webhookId);

        awaitLastRecord(Topics.WEBHOOK_CONFIG, webhookId, value -> value != null
                && Contract.read(value, WebhookConfig.class).id().equals(webhookId));
        awaitLastRecord(Topics.WEBHOOK_CONFIG, SubscriptionConfig.key(subscriptionId), value -> value != null
                && Contract.read(value, SubscriptionConfig.class).webhookId().equals(webhookId));
        await().atMost(SWEPT).untilAsserted(() -> assertThat(owed("webhook", webhookId)).isZero());
    }

    @Test
    void aRowNamingAnotherAccountsWebhookOrSubscriptionPublishesNothingForThem() throws Exception {
        String webhookId = insertWebhook();
        String subscriptionId = insertSubscription(webhookId);
        // Another account's change named these ids, was refused, and its row was left (its process stopped).
        String other = "it-owed-other-" + UUID.randomUUID();
        insertOwed("webhook", other, webhookId);
        insertOwed("subscription", other, subscriptionId);
        // A webhook change whose path named the subscription's key: the topic's key of the subscription.
        insertOwed("webhook", other, SubscriptionConfig.key(subscriptionId));

        await().atMost(SWEPT).untilAsserted(() -> {
            assertThat(owed("webhook", webhookId)).isZero();
            assertThat(owed("subscription", subscriptionId)).isZero();
            assertThat(owed("webhook", SubscriptionConfig.key(subscriptionId))).isZero();
        });
        try (TopicProbe topic = probe(Topics.WEBHOOK_CONFIG)) {
            assertThat(topic.readToEnd()).as("no tombstone of the owner's webhook or subscription")
                    .noneMatch(record -> record.value() == null && (webhookId.equals(record.key())
                            || SubscriptionConfig.key(subscriptionId).equals(record.key())));
        }
    }

    @Test
    void aSubscriptionsAndTheSettingsRestatementsLostWithTheirProcessAreMadeByTheSweeper() throws Exception {
        String subscriptionId = insertSubscription(insertWebhook());
        String account = "it-owed-settings-" + UUID.randomUUID();
        TestAccounts.ensure(account);
        storeSettings(account, 3);
        lateRecords(new OutboundRecord(Topics.WEBHOOK_CONFIG, SubscriptionConfig.key(subscriptionId), null, null),
                OutboundRecord.of(Topics.ACCOUNT_CONFIG, account, Contract.toBytes(settings(account, 5))));
        insertOwed("subscription", subscriptionId);
        insertOwed("settings", account, account);

        awaitLastRecord(Topics.WEBHOOK_CONFIG, SubscriptionConfig.key(subscriptionId), value -> value != null
                && Contract.read(value, SubscriptionConfig.class).eventTypes().equals(List.of("call.final")));
        awaitLastRecord(Topics.ACCOUNT_CONFIG, account, value -> value != null
                && Integer.valueOf(3).equals(Contract.read(value, AccountSettings.class).perCalleeDailyCap()));
        await().atMost(SWEPT).untilAsserted(() -> {
            assertThat(owed("subscription", subscriptionId)).isZero();
            assertThat(owed("settings", account)).isZero();
        });
    }

    @Test
    void aWebhookAndASubscriptionCreatedWhileKafkaWasAwayAreTombstonedByTheSweeper() throws Exception {
        String account = "it-owed-create-" + UUID.randomUUID();
        String key = TestAccounts.ensure(account);
        String webhookId = insertWebhook(account);

        broker.cutOff(Topics.WEBHOOK_CONFIG);
        HttpResponse<String> webhook;
        HttpResponse<String> subscription;
        List<Owed> owed;
        try {
            webhook = post("/api/v2/webhooks", JSON_TYPE, key, "{\"url\":\"https://created.example.com/hooks\"}");
            subscription = post("/api/v2/subscriptions", JSON_TYPE, key,
                    "{\"webhook_id\":\"" + webhookId + "\",\"event_types\":[\"call.final\"]}");
            owed = owedOnceRolledBack(account, 4);
        } finally {
            broker.admit(Topics.WEBHOOK_CONFIG);
        }

        for (HttpResponse<String> created : List.of(webhook, subscription)) {
            assertThat(created.statusCode()).as(created.body()).isEqualTo(503);
            assertThat(json(created).get("detail").asString()).contains("did not take effect");
        }
        assertThat(owed).as("both creates owe their committed state, their restatements having failed: the change's "
                + "row and its rollback's each").extracting(Owed::kind)
                .containsExactlyInAnyOrder("webhook", "webhook", "subscription", "subscription");
        for (Owed row : owed) {
            String recordKey = row.kind().equals("webhook") ? row.objectId() : SubscriptionConfig.key(row.objectId());
            awaitLastRecord(Topics.WEBHOOK_CONFIG, recordKey, value -> value == null);
        }
        await().atMost(SWEPT).untilAsserted(() -> assertThat(owedOf(account)).isEmpty());
        assertThat(json(get("/api/v2/webhooks", key)).get("data")).as("only the webhook stored before").hasSize(1);
    }

    @Test
    void dncChangesMadeWhileKafkaWasAwayAreFollowedByEachNumbersCommittedStateByTheSweeper() throws Exception {
        String account = "it-owed-dnc-" + UUID.randomUUID();
        String key = TestAccounts.ensure(account);
        String held = "+919876501001";
        String put = "+919876501002";
        String imported = "+919876501003";
        DncRows.insert(account, "kept", held);

        broker.cutOff(Topics.DNC);
        List<HttpResponse<String>> changes;
        List<Owed> owed;
        try {
            changes = List.of(putDnc(put, key, "{\"reason\":\"put\"}"), delete("/api/v2/dnc/" + held, key),
                    post("/api/v2/dnc", JSON_TYPE, key, "[{\"number\":\"" + held + "\",\"reason\":\"imported\"},"
                            + "\"" + put + "\",\"" + imported + "\"]"));
            owed = owedOnceRolledBack(account, 6);
        } finally {
            broker.admit(Topics.DNC);
        }

        for (HttpResponse<String> change : changes) {
            assertThat(change.statusCode()).as(change.body()).isEqualTo(503);
            assertThat(json(change).get("detail").asString()).contains("did not take effect");
        }
        assertThat(owed).as("two rows per change (the change's and its rollback's), naming its numbers")
                .extracting(Owed::kind).containsOnly("dnc").hasSize(6);
        awaitLastRecord(Topics.DNC, account + ":" + held, value -> value != null
                && "kept".equals(Contract.read(value, DncEntry.class).reason()));
        awaitLastRecord(Topics.DNC, account + ":" + put, value -> value == null);
        awaitLastRecord(Topics.DNC, account + ":" + imported, value -> value == null);
        await().atMost(SWEPT).untilAsserted(() -> assertThat(owedOf(account)).isEmpty());
    }

    @Test
    void aChangeRolledBackAfterItsHandOffOwesItsStateAgainUntilItsRecordsCanNoLongerLand() throws Exception {
        String account = "it-owed-again-" + UUID.randomUUID();
        String key = TestAccounts.ensure(account);
        String webhookId = insertWebhook(account);
        Duration landing = producer.longestLanding();

        broker.cutOff(Topics.WEBHOOK_CONFIG);
        HttpResponse<String> patch;
        List<Owed> owed;
        try {
            patch = patch("/api/v2/webhooks/" + webhookId, key, "{\"url\":\"https://changed.example.com/hooks\"}");
            owed = owedOnceRolledBack(account, 2);
        } finally {
            broker.admit(Topics.WEBHOOK_CONFIG);
        }

        assertThat(patch.statusCode()).as(patch.body()).isEqualTo(503);
        assertThat(owed).as("the change's row, and the one its rollback wrote").extracting(Owed::objectId)
                .containsOnly(webhookId).hasSize(2);
        // Both times from the statement that wrote the row: no client's clock or timing in the figure.
        assertThat(owed.get(1).dueAfterWrittenMillis())
                .as("the rollback's row (written second) is due once the change's records can no longer land (%s), "
                        + "counted from the rollback", landing)
                .isCloseTo(landing.toMillis(), within(1L));
        awaitLastRecord(Topics.WEBHOOK_CONFIG, webhookId, value -> value != null
                && Contract.read(value, WebhookConfig.class).url().equals("https://hooks.example.com/" + webhookId));
        await().atMost(SWEPT).untilAsserted(() -> assertThat(owedOf(account)).isEmpty());
    }

    @Test
    void aChangeKafkaAcknowledgedOrThatPublishedNothingOwesNothing() throws Exception {
        String webhookId = insertWebhook();
        String campaign = "owed-pause-" + UUID.randomUUID();
        insertCall(campaign);

        HttpResponse<String> changed = patch("/api/v2/webhooks/" + webhookId, KEY, "{\"description\":\"changed\"}");
        HttpResponse<String> paused = post("/api/v2/campaigns/" + campaign + "/pause", null, KEY, "");
        HttpResponse<String> canceled = post("/api/v2/campaigns/" + campaign + "/cancel", null, KEY, "");
        HttpResponse<String> missing = patch("/api/v2/webhooks/wh-missing-" + webhookId, KEY, "{\"enabled\":false}");

        assertThat(changed.statusCode()).as(changed.body()).isEqualTo(200);
        assertThat(paused.statusCode()).as(paused.body()).isEqualTo(202);
        assertThat(canceled.statusCode()).as(canceled.body()).isEqualTo(202);
        assertThat(missing.statusCode()).as(missing.body()).isEqualTo(404);
        assertThat(owed("webhook", webhookId)).as("deleted with the change's commit").isZero();
        assertThat(owed("campaign", campaign)).as("deleted with the controls' commits").isZero();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(owed("webhook", "wh-missing-" + webhookId))
                .as("deleted after the rollback of a change that published nothing").isZero());
    }

    @Test
    void twoSweepersNeverTakeTheSameRowWhileItsLeaseRuns() throws Exception {
        OwedStateSweeps.stopSweeping(context);
        String object = "lease-" + UUID.randomUUID();
        long row = insertOwed("test-lease", ACCOUNT, object);
        try {
            // Long enough that the claim after the first two comes while it runs, on a busy machine.
            Duration lease = Duration.ofSeconds(5);
            List<Long> together = Flux.merge(OwedStateSweeps.claim(context, 1000, lease),
                    OwedStateSweeps.claim(context, 1000, lease)).collectList().block(Duration.ofSeconds(10));
            List<Long> after = OwedStateSweeps.claim(context, 1000, lease).collectList()
                    .block(Duration.ofSeconds(10));

            assertThat(together).as("two claims at once").containsOnlyOnce(row);
            assertThat(after).as("a claim while the lease runs").doesNotContain(row);
            assertThat(attempts(row)).isEqualTo(1);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(OwedStateSweeps.claim(context,
                    1000, lease).collectList().block(Duration.ofSeconds(10))).as("once the lease ran out")
                    .contains(row));
        } finally {
            try (Connection db = database(); PreparedStatement delete = db.prepareStatement(
                    "DELETE FROM api.owed_states WHERE id = ?")) {
                delete.setLong(1, row);
                delete.executeUpdate();
            }
            OwedStateSweeps.startSweeping(context);
        }
    }

    /** A row of {@code api.owed_states}: how long after it was written it is due. */
    private record Owed(String kind, String objectId, long dueAfterWrittenMillis) {
    }

    /**
     * The account's rows once there are {@code rows}: a change rolled back after its hand-off writes a second row
     * as its restatement begins, after the answer.
     */
    private static List<Owed> owedOnceRolledBack(String account, int rows) {
        return await().atMost(Duration.ofSeconds(10)).until(() -> owedOf(account), owed -> owed.size() == rows);
    }

    /** The account's rows of {@code api.owed_states}, in the order they were written. */
    private static List<Owed> owedOf(String account) throws Exception {
        try (Connection db = database(); PreparedStatement query = db.prepareStatement(
                """
                SELECT kind, object_id, (extract(epoch FROM due_at - owed_since) * 1000)::bigint
                FROM api.owed_states WHERE account_id = ? ORDER BY id""")) {
            query.setString(1, account);
            try (ResultSet rows = query.executeQuery()) {
                List<Owed> owed = new ArrayList<>();
                while (rows.next()) {
                    owed.add(new Owed(rows.getString(1), rows.getString(2), rows.getLong(3)));
                }
                return owed;
            }
        }
    }

    private HttpResponse<String> putDnc(String number, String key, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/api/v2/dnc/" + number))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", JSON_TYPE)
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private void lateRecords(OutboundRecord... records) {
        producer.publishAll(List.of(records)).block(Duration.ofSeconds(30));
    }

    /** Waits until the last record under {@code key} is the committed state. */
    private static void awaitLastRecord(String topicName, String key, Predicate<byte[]> committed) {
        try (TopicProbe topic = probe(topicName)) {
            await().atMost(SWEPT).untilAsserted(() -> {
                List<ConsumerRecord<String, byte[]>> ofKey = topic.readToEnd().stream()
                        .filter(record -> key.equals(record.key())).toList();
                assertThat(ofKey).as("records under %s", key).isNotEmpty();
                assertThat(committed.test(ofKey.get(ofKey.size() - 1).value()))
                        .as("the last of %s records under %s is the committed state", ofKey.size(), key).isTrue();
            });
        }
    }

    private static List<CallControl> controls(TopicProbe topic, String key) {
        return topic.readToEnd().stream()
                .filter(record -> key.equals(record.key()) && record.value() != null)
                .map(record -> Contract.read(record.value(), CallControl.class))
                .toList();
    }

    private static long insertOwed(String kind, String objectId) throws Exception {
        return insertOwed(kind, ACCOUNT, objectId);
    }

    /** The row a change leaves when its process stops before its restatement: due at once. */
    private static long insertOwed(String kind, String accountId, String objectId) throws Exception {
        try (Connection db = database(); PreparedStatement insert = db.prepareStatement("""
                INSERT INTO api.owed_states (kind, account_id, object_id, due_at) VALUES (?, ?, ?, now())
                RETURNING id""")) {
            insert.setString(1, kind);
            insert.setString(2, accountId);
            insert.setString(3, objectId);
            try (ResultSet id = insert.executeQuery()) {
                assertThat(id.next()).isTrue();
                return id.getLong(1);
            }
        }
    }

    private static int owed(String kind, String objectId) throws Exception {
        try (Connection db = database(); PreparedStatement query = db.prepareStatement(
                "SELECT count(*) FROM api.owed_states WHERE kind = ? AND object_id = ?")) {
            query.setString(1, kind);
            query.setString(2, objectId);
            try (ResultSet count = query.executeQuery()) {
                assertThat(count.next()).isTrue();
                return count.getInt(1);
            }
        }
    }

    private static int attempts(long row) throws Exception {
        try (Connection db = database(); PreparedStatement query = db.prepareStatement(
                "SELECT attempts FROM api.owed_states WHERE id = ?")) {
            query.setLong(1, row);
            try (ResultSet attempts = query.executeQuery()) {
                assertThat(attempts.next()).isTrue();
                return attempts.getInt(1);
            }
        }
    }

    private static String controlId(String campaign) throws Exception {
        try (Connection db = database(); PreparedStatement query = db.prepareStatement(
                "SELECT control_id FROM api.campaign_states WHERE account_id = ? AND campaign = ?")) {
            query.setString(1, ACCOUNT);
            query.setString(2, campaign);
            try (ResultSet state = query.executeQuery()) {
                assertThat(state.next()).isTrue();
                return state.getString(1);
            }
        }
    }

    private static AccountSettings settings(String account, int cap) {
        return new AccountSettings(AccountSettings.VERSION, account, "IN", null, List.of(), null, List.of(), cap,
                Instant.now().truncatedTo(ChronoUnit.MICROS));
    }

    private static void storeSettings(String account, int cap) throws Exception {
        try (Connection db = database(); PreparedStatement upsert = db.prepareStatement("""
                INSERT INTO api.account_settings (account_id, settings, updated_at) VALUES (?, ?, now())
                ON CONFLICT (account_id) DO UPDATE SET settings = EXCLUDED.settings""")) {
            upsert.setString(1, account);
            upsert.setString(2, Contract.toJson(settings(account, cap)));
            upsert.executeUpdate();
        }
    }

    /** A queued call of the campaign, as the read model holds it: the campaign is the account's. */
    private static void insertCall(String campaign) throws Exception {
        try (Connection db = database(); PreparedStatement insert = db.prepareStatement("""
                INSERT INTO api.calls (id, account_id, campaign, caller_id, callee, status, created_at, updated_at)
                VALUES (?, ?, ?, '+918068281234', '+919876543215', 'queued', now(), now())""")) {
            insert.setString(1, UUID.randomUUID().toString());
            insert.setString(2, ACCOUNT);
            insert.setString(3, campaign);
            insert.executeUpdate();
        }
    }

    private static String insertWebhook() throws Exception {
        return insertWebhook(ACCOUNT);
    }

    private static String insertWebhook(String account) throws Exception {
        String webhookId = "wh-owed-" + UUID.randomUUID();
        try (Connection db = database(); PreparedStatement insert = db.prepareStatement(
                "INSERT INTO api.webhooks (id, account_id, url, secret) VALUES (?, ?, ?, 'whsec_dGVzdA==')")) {
            insert.setString(1, webhookId);
            insert.setString(2, account);
            insert.setString(3, "https://hooks.example.com/" + webhookId);
            insert.executeUpdate();
        }
        return webhookId;
    }

    /** A subscription of the webhook to {@code call.final}. */
    private static String insertSubscription(String webhookId) throws Exception {
        String id = UUID.randomUUID().toString();
        try (Connection db = database(); PreparedStatement insert = db.prepareStatement("""
                INSERT INTO api.subscriptions (id, account_id, webhook_id, event_types, enabled, created_at,
                    updated_at)
                VALUES (?, ?, ?, ARRAY['call.final'], true, now(), now())""")) {
            insert.setString(1, id);
            insert.setString(2, ACCOUNT);
            insert.setString(3, webhookId);
            insert.executeUpdate();
        }
        return id;
    }
}
