package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.DeliveryAttempt;
import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.WebhookApplication;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import reactor.test.StepVerifier;

/**
 * The durable disable in PostgreSQL shared by several instances of the service, each with its own memory of it: two
 * {@link EndpointHealth}s on one database stand for two instances.
 */
@SpringBootTest(classes = WebhookApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        // The service's poller claims once at start, then not for an hour: the rows a disable queues stay for the test
        // to read rather than being tried (and removed) by it.
        properties = {"spring.config.name=webhook-service", "dialer.webhook.retry.poll-interval=1h"})
@ActiveProfiles("it")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class EndpointHealthIT {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @Autowired
    DatabaseClient database;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
    }

    @Test
    void aDisableWrittenByOneInstanceSurvivesAFailureAndASuccessCountedByAnother() {
        String id = "wh-" + UUID.randomUUID();
        WebhookConfig configured = new WebhookConfig(id, "acc-1", "https://example.com/hook", "test",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true, Instant.now().minusSeconds(60));
        EndpointHealth disabling = loaded();
        EndpointHealth other = loaded();
        StepVerifier.create(other.failed(id, disabling(id))).expectNext(false).expectComplete().verify(WAIT);

        StepVerifier.create(disabling.disable(id, EndpointHealth.GONE, disabling(id))).expectNext(true).expectComplete().verify(WAIT);
        StepVerifier.create(other.failed(id, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(other.succeeded(id)).expectComplete().verify(WAIT);

        StepVerifier.create(loaded().disabled(configured)).expectNext(true).expectComplete().verify(WAIT);
        StepVerifier.create(other.disabled(configured)).expectNext(true).expectComplete().verify(WAIT);
    }

    @Test
    void aDisableIsAnnouncedOnceWhenTwoInstancesDisableTheSameWebhook() {
        String id = "wh-" + UUID.randomUUID();
        EndpointHealth first = loaded();
        EndpointHealth second = loaded();

        StepVerifier.create(first.disable(id, EndpointHealth.GONE, disabling(id))).expectNext(true).expectComplete().verify(WAIT);
        StepVerifier.create(second.disable(id, EndpointHealth.GONE, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
    }

    @Test
    void consecutiveFailuresDisableTheWebhookOnceAndASuccessStartsTheCountAgain() {
        String id = "wh-" + UUID.randomUUID();
        EndpointHealth health = loaded(3);
        StepVerifier.create(health.failed(id, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(health.failed(id, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(health.succeeded(id)).expectComplete().verify(WAIT);
        StepVerifier.create(health.failed(id, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(health.failed(id, disabling(id))).expectNext(false).expectComplete().verify(WAIT);

        StepVerifier.create(health.failed(id, disabling(id))).expectNext(true).expectComplete().verify(WAIT);
        StepVerifier.create(health.failed(id, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(loaded(3).disable(id, EndpointHealth.GONE, disabling(id))).expectNext(false).expectComplete()
                .verify(WAIT);
    }

    @Test
    void aSuccessOnOneInstanceStartsTheCountAgainForFailuresCountedByAnother() {
        String id = "wh-" + UUID.randomUUID();
        EndpointHealth failing = loaded(3);
        EndpointHealth succeeding = loaded(3);
        StepVerifier.create(failing.failed(id, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(failing.failed(id, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(succeeding.succeeded(id)).expectComplete().verify(WAIT);

        StepVerifier.create(failing.failed(id, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(failing.failed(id, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(failing.failed(id, disabling(id))).expectNext(true).expectComplete().verify(WAIT);
    }

    @Test
    void aDisableIsWrittenWithItsNoticeToTheAccountsOtherSubscribersAndOnlyOnce() {
        String account = "acc-" + UUID.randomUUID();
        String id = "wh-" + UUID.randomUUID();
        DisabledNotice.Subscribers subscribers = (accountId, type) -> accountId.equals(account)
                && type.equals(SubscriptionConfig.WEBHOOK_DISABLED) ? Set.of(id, "wh-watcher", "wh-other") : Set.of();
        // Made before the disable is written, as an instance that has not heard of it: its statement runs again.
        EndpointHealth unaware = loaded(100, subscribers);
        EndpointHealth first = loaded(100, subscribers);

        StepVerifier.create(first.disable(id, EndpointHealth.GONE, disabling(id, account))).expectNext(true)
                .expectComplete().verify(WAIT);
        StepVerifier.create(unaware.disable(id, EndpointHealth.GONE, disabling(id, account))).expectNext(false)
                .expectComplete().verify(WAIT);

        List<String> queued = database.sql("""
                        SELECT r.target_kind || ':' || r.target_id || ':' || r.method || ':' || r.tries || ':'
                                   || (e.event_id IS NOT NULL) AS row
                          FROM webhook.retries r LEFT JOIN webhook.events e ON e.event_id = r.event_id
                         WHERE r.account_id = :account AND r.event_type = :type""")
                .bind("account", account)
                .bind("type", SubscriptionConfig.WEBHOOK_DISABLED)
                .map(row -> row.get("row", String.class))
                .all().collectList().block(WAIT);
        assertThat(queued).containsExactlyInAnyOrder("SUBSCRIPTION:wh-watcher:POST:0:true",
                "SUBSCRIPTION:wh-other:POST:0:true");
        String notice = database.sql("SELECT convert_from(payload, 'UTF8') AS json FROM webhook.events "
                        + "WHERE account_id = :account AND event_type = :type")
                .bind("account", account)
                .bind("type", SubscriptionConfig.WEBHOOK_DISABLED)
                .map(row -> row.get("json", String.class))
                .one().block(WAIT);
        assertThat(notice).contains("\"webhook_id\":\"" + id + "\"").contains("\"reason\":\"gone\"");
    }

    @Test
    void theDisabledGaugeCountsOnlyWebhooksTheDirectoryHasAndHasNotSeenEnabledAgain() {
        String kept = "wh-" + UUID.randomUUID();
        String deleted = "wh-" + UUID.randomUUID();
        String reenabled = "wh-" + UUID.randomUUID();
        EndpointHealth disabling = loaded();
        for (String id : List.of(kept, deleted, reenabled)) {
            StepVerifier.create(disabling.disable(id, EndpointHealth.GONE, disabling(id))).expectNext(true)
                    .expectComplete().verify(WAIT);
        }
        Instant before = Instant.now().minusSeconds(60);
        Instant after = Instant.now().plusSeconds(60);
        Map<String, WebhookConfig> directory = Map.of(
                kept, config(kept, true, before),
                reenabled, config(reenabled, true, after));

        // As a restarted instance sees them: every disable is loaded, the deleted webhook's too.
        EndpointHealth restarted = loaded();
        assertThat(restarted.disabledCount(directory::get)).isEqualTo(1);
        assertThat(disabling.disabledCount(directory::get)).isEqualTo(1);
    }

    private static WebhookConfig config(String id, boolean enabled, Instant updatedAt) {
        return new WebhookConfig(id, "acc-1", "https://example.com/hook", "test",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", enabled, updatedAt);
    }

    /** The try that disables the webhook, as announced. */
    private static DeliveryAttempt disabling(String webhookId) {
        return disabling(webhookId, "acc-1");
    }

    private static DeliveryAttempt disabling(String webhookId, String accountId) {
        return new DeliveryAttempt(DeliveryAttempt.VERSION, UUID.randomUUID().toString(), "evt-1", "call.status",
                webhookId, "webhook", "req-1", accountId, 1, DeliveryAttempt.Outcome.DEAD, 410, null, null, 5, null,
                true, false, Instant.now());
    }

    private EndpointHealth loaded() {
        return loaded(100);
    }

    /** Disables after {@code failures} failed tries, however short the time they span. */
    private EndpointHealth loaded(int failures) {
        return loaded(failures, (accountId, type) -> Set.of());
    }

    private EndpointHealth loaded(int failures, DisabledNotice.Subscribers subscribers) {
        EndpointHealth health = new EndpointHealth(database, new HealthProperties(failures, Duration.ZERO,
                Duration.ofDays(30), Duration.ofDays(7), Duration.ofDays(30), Duration.ofMinutes(15)),
                new DisabledNotice(subscribers), Clock.systemUTC());
        health.load().block(WAIT);
        return health;
    }
}
