package dev.dialer.webhook;

import static dev.dialer.webhook.ItFixture.WAIT;
import static dev.dialer.webhook.ItFixture.assertSignedWith;
import static dev.dialer.webhook.ItFixture.attempts;
import static dev.dialer.webhook.ItFixture.command;
import static dev.dialer.webhook.ItFixture.newSecret;
import static dev.dialer.webhook.ItFixture.retryRows;
import static dev.dialer.webhook.ItFixture.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.directory.WebhookDirectory;
import io.micrometer.core.instrument.MeterRegistry;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactoryOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.r2dbc.core.DatabaseClient;

/** A retry stored by one run of the service is made by the next run: the retry state lives in PostgreSQL. */
class RestartIT {

    @Test
    void aRetryScheduledBeforeARestartHappensAfterIt() {
        try (WebhookReceiver receiver = WebhookReceiver.start(); ItFixture fixture = new ItFixture("restart-it")) {
            String account = unique("acc");
            String id = unique("wh");
            String secret = newSecret();
            receiver.answer("hooks/" + id, 503);
            String requestId = unique("req");
            CallEvent event = CallEvent.about(command(requestId, account, id)).sequence(1)
                    .status(AttemptStatus.RINGING).build();

            try (ConfigurableApplicationContext first = start()) {
                firstTryStoredForRetry(fixture, first, new WebhookConfig(id, account, receiver.url("hooks/" + id),
                        "restart", secret, true, Instant.now()), requestId, event);
            }
            // Stopped long before the retry is due (an hour of schedule time): nobody has retried yet.
            assertThat(receiver.at("hooks/" + id)).hasSize(1);

            try (ConfigurableApplicationContext second = start()) {
                DatabaseClient database = second.getBean(DatabaseClient.class);
                // The retry comes due while the restarted service runs.
                database.sql("UPDATE webhook.retries SET next_attempt_at = now() WHERE event_id = :id")
                        .bind("id", event.eventId()).fetch().rowsUpdated().block(Duration.ofSeconds(10));
                // Try 2 can only come from the stored retry (tries made: 1). The record itself may be handled again
                // too when the first run stopped before acknowledging it: at least once, with the same webhook-id.
                await().atMost(WAIT).until(() -> attempts(database, event.eventId()).contains("2:200:delivered"));
                assertThat(attempts(database, event.eventId())).startsWith("1:503:retrying");
                assertThat(receiver.at("hooks/" + id)).hasSizeGreaterThanOrEqualTo(2)
                        .extracting(request -> request.header("webhook-id")).containsOnly(event.eventId());
                assertThat(receiver.at("hooks/" + id)).allSatisfy(request -> assertSignedWith(secret, request));
                await().atMost(WAIT).until(() -> pendingTries(database, event.eventId()) == -1);
            }
        }
    }

    @Test
    void aRetryAlreadyDueWhenTheServiceStartsIsMadeOnceTheWebhooksAreKnown() {
        try (WebhookReceiver receiver = WebhookReceiver.start(); ItFixture fixture = new ItFixture("restart-due-it")) {
            String account = unique("acc");
            String id = unique("wh");
            receiver.answer("hooks/" + id, 503);
            String requestId = unique("req");
            CallEvent event = CallEvent.about(command(requestId, account, id)).sequence(1)
                    .status(AttemptStatus.RINGING).build();

            try (ConfigurableApplicationContext first = start()) {
                firstTryStoredForRetry(fixture, first, new WebhookConfig(id, account, receiver.url("hooks/" + id),
                        "restart", newSecret(), true, Instant.now()), requestId, event);
            }
            // As if the service had been down past the retry's due time: the next run polls it at once. Made due
            // only once the first run has stopped: made due before, its own poller could claim it and stop with
            // the try under way, its lease (81 s) holding the retry back from the next run.
            DatabaseClient outside = outsideTheService();
            outside.sql("UPDATE webhook.retries SET next_attempt_at = now() - interval '1 minute' WHERE event_id = :id")
                    .bind("id", event.eventId()).fetch().rowsUpdated().block(Duration.ofSeconds(10));

            try (ConfigurableApplicationContext second = start()) {
                DatabaseClient database = second.getBean(DatabaseClient.class);
                // A delivered try removes its retry, then logs itself: wait for the log, then look for the retry.
                await().atMost(WAIT).until(() -> attempts(database, event.eventId()).contains("2:200:delivered"));
                assertThat(attempts(database, event.eventId())).startsWith("1:503:retrying");
                assertThat(pendingTries(database, event.eventId())).isEqualTo(-1);
            }
        }
    }

    @Test
    void anEventHandledASecondTimeWhileItsRetryWaitsIsNotStoredOrSentAgain() {
        try (WebhookReceiver receiver = WebhookReceiver.start(); ItFixture fixture = new ItFixture("repeat-it")) {
            String account = unique("acc");
            String id = unique("wh");
            receiver.answer("hooks/" + id, 503);
            String requestId = unique("req");
            CallEvent event = CallEvent.about(command(requestId, account, id)).sequence(1)
                    .status(AttemptStatus.RINGING).build();

            try (ConfigurableApplicationContext service = start()) {
                firstTryStoredForRetry(fixture, service, new WebhookConfig(id, account, receiver.url("hooks/" + id),
                        "repeat", newSecret(), true, Instant.now()), requestId, event);
                DatabaseClient database = service.getBean(DatabaseClient.class);

                // The same event again, as a record read a second time or published twice by the outbox.
                fixture.publishEvents(requestId, List.of(event));
                MeterRegistry registry = service.getBean(MeterRegistry.class);
                await().atMost(WAIT).until(() -> registry.counter("dialer.webhook.deliveries.repeated").count() == 1);
                assertThat(retryRows(database, event.eventId())).isEqualTo(1);
                assertThat(pendingTries(database, event.eventId())).isEqualTo(1);
                assertThat(receiver.at("hooks/" + id)).hasSize(1);
            }
        }
    }

    /**
     * Publishes the webhook (once the service has created the topics) and, once the service knows it, the event; waits
     * until the event's failed first try is stored for a retry.
     */
    private static void firstTryStoredForRetry(ItFixture fixture, ConfigurableApplicationContext service,
                                               WebhookConfig webhook, String requestId, CallEvent event) {
        fixture.publishWebhook(webhook);
        await().atMost(WAIT).until(() -> service.getBean(WebhookDirectory.class).current(webhook.id()) != null);
        fixture.publishEvents(requestId, List.of(event));
        DatabaseClient database = service.getBean(DatabaseClient.class);
        await().atMost(WAIT).until(() -> pendingTries(database, event.eventId()) == 1);
        // The try's delivery log row is written after its retry row, and is best-effort (a stop in between loses it,
        // and the record handled again finds the retry stored and makes no try to log): waited for too.
        await().atMost(WAIT).until(() -> attempts(database, event.eventId()).contains("1:503:retrying"));
    }

    /** A client of the services' database that no service's lifecycle closes. */
    private static DatabaseClient outsideTheService() {
        Map<String, String> infrastructure = Infrastructure.shared().serviceProperties();
        return DatabaseClient.create(ConnectionFactories.get(ConnectionFactoryOptions
                .parse(infrastructure.get("spring.r2dbc.url")).mutate()
                .option(ConnectionFactoryOptions.USER, infrastructure.get("spring.r2dbc.username"))
                .option(ConnectionFactoryOptions.PASSWORD, infrastructure.get("spring.r2dbc.password"))
                .build()));
    }

    private static ConfigurableApplicationContext start() {
        Map<String, Object> properties = new HashMap<>(Infrastructure.shared().serviceProperties());
        properties.put("spring.config.name", "webhook-service");
        properties.put("spring.profiles.active", "it");
        properties.put("server.port", "0");
        // The retry waits an hour of schedule time (6 min): a test makes it due when it needs it, so that a slow stop
        // or start is never overtaken by it.
        properties.put("dialer.webhook.retry.schedule", "0s,1h");
        properties.put("dialer.webhook.retry.jitter", "0");
        // As arguments, so they override the service's configuration file (builder properties would not).
        String[] arguments = properties.entrySet().stream()
                .map(property -> "--" + property.getKey() + "=" + property.getValue())
                .toArray(String[]::new);
        return new SpringApplicationBuilder(WebhookApplication.class).run(arguments);
    }

    /** The tries made of the event's stored retry, or -1 when it has none. */
    private static int pendingTries(DatabaseClient database, String eventId) {
        return database.sql("SELECT tries FROM webhook.retries WHERE event_id = :id")
                .bind("id", eventId)
                .map(row -> row.get("tries", Integer.class))
                .one()
                .defaultIfEmpty(-1)
                .block(Duration.ofSeconds(10));
    }
}
