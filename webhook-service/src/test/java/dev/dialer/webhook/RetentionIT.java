package dev.dialer.webhook;

import static dev.dialer.webhook.ItFixture.WAIT;
import static dev.dialer.webhook.ItFixture.attempts;
import static dev.dialer.webhook.ItFixture.command;
import static dev.dialer.webhook.ItFixture.newSecret;
import static dev.dialer.webhook.ItFixture.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.directory.WebhookDirectory;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;

/**
 * The delivery log, the stored events, replays' marks and dead letters are kept for their retention, then purged;
 * younger rows stay. The endpoint state of a deleted webhook is purged too, that of a webhook still there kept.
 */
class RetentionIT {

    @Test
    void triesEventsAndReplayMarksOlderThanTheirRetentionArePurgedAndYoungerOnesKept() {
        try (WebhookReceiver receiver = WebhookReceiver.start(); ItFixture fixture = new ItFixture("retention-it");
             ConfigurableApplicationContext service = start()) {
            String account = unique("acc");
            String id = unique("wh");
            fixture.publishWebhook(new WebhookConfig(id, account, receiver.url("hooks/" + id), "retention",
                    newSecret(), true, Instant.now()));
            await().atMost(WAIT).until(() -> service.getBean(WebhookDirectory.class).current(id) != null);
            CallEvent old = event(account, id);
            CallEvent young = event(account, id);
            fixture.publishEvents(old.requestId(), List.of(old));
            fixture.publishEvents(young.requestId(), List.of(young));
            DatabaseClient database = service.getBean(DatabaseClient.class);
            await().atMost(WAIT).until(() -> attempts(database, old.eventId()).equals(List.of("1:200:delivered"))
                    && attempts(database, young.eventId()).equals(List.of("1:200:delivered")));

            // As if the first event had been delivered 31 days ago (retentions: tries 30 days, events 7 days).
            age(database, "UPDATE webhook.delivery_attempts SET attempted_at = now() - interval '31 days' "
                    + "WHERE event_id = :eventId", old.eventId());
            age(database, "UPDATE webhook.events SET received_at = now() - interval '31 days' "
                    + "WHERE event_id = :eventId", old.eventId());
            // Replays' marks of them, one queued 8 days ago: a mark outlives its event (7 days) by a purge.
            String replayId = unique("replay");
            age(database, "INSERT INTO webhook.replayed_events (replay_id, event_id, queued_at) VALUES ('" + replayId
                    + "', :eventId, now() - interval '8 days')", old.eventId());
            age(database, "INSERT INTO webhook.replayed_events (replay_id, event_id) VALUES ('" + replayId
                    + "', :eventId)", young.eventId());

            await().atMost(WAIT).until(() -> attempts(database, old.eventId()).isEmpty()
                    && storedEvents(database, old.eventId()) == 0 && replayMarks(database, old.eventId()) == 0);
            assertThat(attempts(database, young.eventId())).containsExactly("1:200:delivered");
            assertThat(storedEvents(database, young.eventId())).isEqualTo(1);
            assertThat(replayMarks(database, young.eventId())).isEqualTo(1);
        }
    }

    @Test
    void deadLettersOlderThanTheirRetentionArePurgedThroughAnIndexOfTheirAge() {
        try (ConfigurableApplicationContext service = start()) {
            DatabaseClient database = service.getBean(DatabaseClient.class);
            String old = unique("ev");
            String young = unique("ev");
            // Retention: 30 days.
            age(database, "INSERT INTO webhook.dead_letters (event_id, event_type, target_kind, target_id, account_id, "
                    + "tries, reason, payload, dead_at) VALUES (:eventId, 'call.status', 'WEBHOOK', 'wh-old', 'acc', "
                    + "7, 'http_status', '\\x00', now() - interval '31 days')", old);
            age(database, "INSERT INTO webhook.dead_letters (event_id, event_type, target_kind, target_id, account_id, "
                    + "tries, reason, payload) VALUES (:eventId, 'call.status', 'WEBHOOK', 'wh-young', 'acc', 7, "
                    + "'http_status', '\\x00')", young);

            await().atMost(WAIT).until(() -> deadLetters(database, old) == 0);
            assertThat(deadLetters(database, young)).isEqualTo(1);

            // The purge names no target: only an index that starts with the age serves it, not a read of the table.
            TransactionalOperator transaction = TransactionalOperator.create(
                    service.getBean(ReactiveTransactionManager.class));
            String plan = database.sql("SET LOCAL enable_seqscan = off").then()
                    .then(database.sql("EXPLAIN DELETE FROM webhook.dead_letters WHERE dead_at < now()")
                            .map(row -> row.get(0, String.class)).all().collect(Collectors.joining("\n")))
                    .as(transaction::transactional)
                    .block(Duration.ofSeconds(10));
            assertThat(plan).contains("dead_letters_time");

            // A first try's dead letter asks whether it was written before: found by its event, not by reading every
            // dead letter of its target (a hook's target is its kind, the same for every account).
            String check = database.sql("SET LOCAL enable_seqscan = off").then()
                    .then(database.sql("EXPLAIN SELECT 1 FROM webhook.dead_letters WHERE target_id = 'notify' "
                                    + "AND event_id = 'e-1' AND target_kind = 'NOTIFY' AND tries = 1")
                            .map(row -> row.get(0, String.class)).all().collect(Collectors.joining("\n")))
                    .as(transaction::transactional)
                    .block(Duration.ofSeconds(10));
            assertThat(check).contains("dead_letters_event");
        }
    }

    @Test
    void theEndpointStateOfADeletedWebhookIsPurgedWhetherItsTombstoneWasReadOrNot() {
        try (WebhookReceiver receiver = WebhookReceiver.start(); ItFixture fixture = new ItFixture("retention-it");
             ConfigurableApplicationContext service = start()) {
            String account = unique("acc");
            String deleted = unique("wh");
            String kept = unique("wh");
            for (String id : List.of(deleted, kept)) {
                fixture.publishWebhook(new WebhookConfig(id, account, receiver.url("hooks/" + id), "retention",
                        newSecret(), true, Instant.now()));
            }
            WebhookDirectory directory = service.getBean(WebhookDirectory.class);
            await().atMost(WAIT).until(() -> directory.current(deleted) != null && directory.current(kept) != null);
            DatabaseClient database = service.getBean(DatabaseClient.class);
            // Both disabled by a 410: each has a row.
            receiver.answer("hooks/" + deleted, 410);
            receiver.answer("hooks/" + kept, 410);
            CallEvent gone = event(account, deleted);
            CallEvent alsoGone = event(account, kept);
            fixture.publishEvents(gone.requestId(), List.of(gone));
            fixture.publishEvents(alsoGone.requestId(), List.of(alsoGone));
            await().atMost(WAIT).until(() -> endpointState(database, deleted).equals("gone")
                    && endpointState(database, kept).equals("gone"));
            // A webhook whose tombstone this service never read: compacted away while no instance was running.
            String missed = unique("wh");
            database.sql("INSERT INTO webhook.endpoint_state (webhook_id, failures, first_failure_at) "
                            + "VALUES (:id, 3, now() - interval '1 day')")
                    .bind("id", missed)
                    .then().block(Duration.ofSeconds(10));

            fixture.publish(OutboundRecord.of(Topics.WEBHOOK_CONFIG, deleted, null));

            await().atMost(WAIT).until(() -> endpointState(database, deleted).isEmpty()
                    && endpointState(database, missed).isEmpty());
            assertThat(directory.current(kept)).isNotNull();
            assertThat(endpointState(database, kept)).isEqualTo("gone");
        }
    }

    /** "gone" or "failing" for a disabled webhook, "failures" for one only failing so far, empty without a row. */
    private static String endpointState(DatabaseClient database, String webhookId) {
        return database.sql("SELECT coalesce(disabled_reason, 'failures') AS state FROM webhook.endpoint_state "
                        + "WHERE webhook_id = :id")
                .bind("id", webhookId)
                .map(row -> row.get("state", String.class))
                .one()
                .defaultIfEmpty("")
                .block(Duration.ofSeconds(10));
    }

    private static long deadLetters(DatabaseClient database, String eventId) {
        return database.sql("SELECT count(*) AS n FROM webhook.dead_letters WHERE event_id = :eventId")
                .bind("eventId", eventId)
                .map(row -> row.get("n", Long.class))
                .one()
                .block(Duration.ofSeconds(10));
    }

    private static CallEvent event(String account, String webhookId) {
        String requestId = unique("req");
        return CallEvent.about(command(requestId, account, webhookId)).sequence(1).status(AttemptStatus.RINGING)
                .build();
    }

    private static void age(DatabaseClient database, String sql, String eventId) {
        database.sql(sql).bind("eventId", eventId).fetch().rowsUpdated().block(Duration.ofSeconds(10));
    }

    private static long storedEvents(DatabaseClient database, String eventId) {
        return database.sql("SELECT count(*) AS n FROM webhook.events WHERE event_id = :eventId")
                .bind("eventId", eventId)
                .map(row -> row.get("n", Long.class))
                .one()
                .block(Duration.ofSeconds(10));
    }

    private static long replayMarks(DatabaseClient database, String eventId) {
        return database.sql("SELECT count(*) AS n FROM webhook.replayed_events WHERE event_id = :eventId")
                .bind("eventId", eventId)
                .map(row -> row.get("n", Long.class))
                .one()
                .block(Duration.ofSeconds(10));
    }

    private static ConfigurableApplicationContext start() {
        Map<String, Object> properties = new HashMap<>(Infrastructure.shared().serviceProperties());
        properties.put("spring.config.name", "webhook-service");
        properties.put("spring.profiles.active", "it");
        properties.put("server.port", "0");
        properties.put("dialer.webhook.health.purge-interval", "1s");
        // As arguments, so they override the service's configuration file (builder properties would not).
        String[] arguments = properties.entrySet().stream()
                .map(property -> "--" + property.getKey() + "=" + property.getValue())
                .toArray(String[]::new);
        return new SpringApplicationBuilder(WebhookApplication.class).run(arguments);
    }
}
