package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.DeliveryAttempt;
import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.WebhookApplication;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.test.StepVerifier;

/**
 * The durable disable in PostgreSQL shared by several instances of the service, each with its own memory of it: two
 * {@link EndpointHealth}s on one database stand for two instances.
 */
@SpringBootTest(classes = WebhookApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        // The service's poller claims once at start, then not for an hour: once that claim has ended, the rows a
        // disable queues stay for the test to read rather than being tried (and removed) by it.
        properties = {"spring.config.name=webhook-service", "dialer.webhook.retry.poll-interval=1h"})
@ActiveProfiles("it")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class EndpointHealthIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String URL = "https://example.com/hook";
    private static final String MOVED = "https://hooks.example.org/dialer";

    @Autowired
    DatabaseClient database;
    @Autowired
    ReactiveTransactionManager transactions;
    @Autowired
    MeterRegistry registry;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
    }

    @BeforeEach
    void afterTheServicesOwnClaim() {
        ServicesOwnClaim.awaitEnded(registry);
    }

    @Test
    void aDisableWrittenByOneInstanceSurvivesAFailureAndASuccessCountedByAnother() {
        String id = "wh-" + UUID.randomUUID();
        WebhookConfig configured = new WebhookConfig(id, "acc-1", "https://example.com/hook", "test",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true, Instant.now().minusSeconds(60));
        EndpointHealth disabling = loaded();
        EndpointHealth other = loaded();
        StepVerifier.create(other.failed(id, URL, disabling(id))).expectNext(false).expectComplete().verify(WAIT);

        StepVerifier.create(disabling.disable(id, EndpointHealth.GONE, disabling(id))).expectNext(true).expectComplete().verify(WAIT);
        StepVerifier.create(other.failed(id, URL, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
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
        StepVerifier.create(health.failed(id, URL, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(health.failed(id, URL, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(health.succeeded(id)).expectComplete().verify(WAIT);
        StepVerifier.create(health.failed(id, URL, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(health.failed(id, URL, disabling(id))).expectNext(false).expectComplete().verify(WAIT);

        StepVerifier.create(health.failed(id, URL, disabling(id))).expectNext(true).expectComplete().verify(WAIT);
        StepVerifier.create(health.failed(id, URL, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(loaded(3).disable(id, EndpointHealth.GONE, disabling(id))).expectNext(false).expectComplete()
                .verify(WAIT);
    }

    @Test
    void aFailureAtTheUrlTheWebhookMovedToStartsTheCountAgain() {
        String id = "wh-" + UUID.randomUUID();
        EndpointHealth health = loaded(3);
        StepVerifier.create(health.failed(id, URL, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(health.failed(id, URL, disabling(id))).expectNext(false).expectComplete().verify(WAIT);

        // Two failures at the old URL and one at the new are not three in a row at one URL.
        StepVerifier.create(health.failed(id, MOVED, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(health.failed(id, MOVED, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(health.failed(id, MOVED, disabling(id))).expectNext(true).expectComplete().verify(WAIT);
    }

    @Test
    void aCountFromBeforeUrlsWereNotedGoesOnAtTheNextFailuresUrl() {
        String id = "wh-" + UUID.randomUUID();
        database.sql("INSERT INTO webhook.endpoint_state (webhook_id, failures, first_failure_at) "
                        + "VALUES (:id, 2, now())")
                .bind("id", id)
                .then().block(WAIT);

        StepVerifier.create(loaded(3).failed(id, URL, disabling(id))).expectNext(true).expectComplete().verify(WAIT);
    }

    @Test
    void aSuccessOnOneInstanceStartsTheCountAgainForFailuresCountedByAnother() {
        String id = "wh-" + UUID.randomUUID();
        EndpointHealth failing = loaded(3);
        EndpointHealth succeeding = loaded(3);
        StepVerifier.create(failing.failed(id, URL, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(failing.failed(id, URL, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(succeeding.succeeded(id)).expectComplete().verify(WAIT);

        StepVerifier.create(failing.failed(id, URL, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(failing.failed(id, URL, disabling(id))).expectNext(false).expectComplete().verify(WAIT);
        StepVerifier.create(failing.failed(id, URL, disabling(id))).expectNext(true).expectComplete().verify(WAIT);
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
        assertThat(restarted.disabledCount(directory::get, directory.values())).isEqualTo(1);
        assertThat(disabling.disabledCount(directory::get, directory.values())).isEqualTo(1);
    }

    @Test
    void theDisabledGaugeCountsAWebhookAnotherInstanceDisabled() {
        String failing = "wh-" + UUID.randomUUID();
        String byTheAccount = "wh-" + UUID.randomUUID();
        EndpointHealth other = loaded();
        EndpointHealth disabling = loaded();
        StepVerifier.create(disabling.disable(failing, EndpointHealth.FAILING, disabling(failing))).expectNext(true)
                .expectComplete().verify(WAIT);
        Instant before = Instant.now().minusSeconds(60);
        // As api-service republishes the webhook once it has heard of the disable; and one its account disabled.
        Map<String, WebhookConfig> directory = Map.of(
                failing, new WebhookConfig(failing, "acc-1", "https://example.com/hook", "test",
                        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", false, Instant.now(), null, null,
                        EndpointHealth.FAILING, before),
                byTheAccount, new WebhookConfig(byTheAccount, "acc-1", "https://example.com/hook", "test",
                        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", false, Instant.now(), null, null, "customer",
                        before));

        assertThat(other.disabledCount(directory::get, directory.values()))
                .as("an instance that never tried the webhook since").isEqualTo(1);
        assertThat(disabling.disabledCount(directory::get, directory.values())).isEqualTo(1);
    }

    @Test
    void anEditAfterTheDisableLeavesItAndOnlyEnablingTheWebhookAgainLiftsIt() {
        String id = "wh-" + UUID.randomUUID();
        EndpointHealth health = loaded();
        StepVerifier.create(health.disable(id, EndpointHealth.FAILING, disabling(id))).expectNext(true)
                .expectComplete().verify(WAIT);
        Instant before = Instant.now().minusSeconds(60);
        Instant after = Instant.now().plusSeconds(60);
        // The customer edits the description after the disable, before api-service has heard of it: the record is
        // newer than the disable and says enabled, as the webhook has been since it was created.
        WebhookConfig edited = new WebhookConfig(id, "acc-1", "https://example.com/hook", "renamed",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true, after, null, null, null, before);

        StepVerifier.create(health.disabled(edited)).expectNext(true).expectComplete().verify(WAIT);
        assertThat(stored(id)).containsExactly(id);

        WebhookConfig enabledAgain = new WebhookConfig(id, "acc-1", "https://example.com/hook", "renamed",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true, after, null, null, null, after);
        StepVerifier.create(health.disabled(enabledAgain)).expectNext(false).expectComplete().verify(WAIT);
        assertThat(stored(id)).isEmpty();
        // A record written before enabled_at was carried: its last change stands in, as before.
        StepVerifier.create(health.disable(id, EndpointHealth.FAILING, disabling(id))).expectNext(true)
                .expectComplete().verify(WAIT);
        StepVerifier.create(health.disabled(config(id, true, after.plusSeconds(60)))).expectNext(false)
                .expectComplete().verify(WAIT);
    }

    @Test
    void theStateOfAWebhookGoneFromTheDirectoryIsDeletedOnceTwoPurgesInARowFoundItGone() {
        String failing = "wh-" + UUID.randomUUID();
        String disabled = "wh-" + UUID.randomUUID();
        String kept = "wh-" + UUID.randomUUID();
        EndpointHealth purging = loaded();
        StepVerifier.create(purging.failed(failing, URL, disabling(failing))).expectNext(false).expectComplete()
                .verify(WAIT);
        for (String id : List.of(disabled, kept)) {
            StepVerifier.create(purging.disable(id, EndpointHealth.GONE, disabling(id))).expectNext(true)
                    .expectComplete().verify(WAIT);
        }
        announced(disabled);
        EndpointHealth other = loaded();
        // Every other row is another test's, or of a webhook some directory has: only these two are gone.
        Predicate<String> known = id -> !id.equals(failing) && !id.equals(disabled);

        StepVerifier.create(purging.forgetDeleted(known)).expectNext(0L).expectComplete().verify(WAIT);
        assertThat(stored(failing, disabled, kept)).containsExactlyInAnyOrder(failing, disabled, kept);
        StepVerifier.create(purging.forgetDeleted(known)).expectNext(2L).expectComplete().verify(WAIT);
        assertThat(stored(failing, disabled, kept)).containsExactly(kept);

        // Another instance's memory, loaded before the rows went, forgets them at its own second purge.
        WebhookConfig back = config(disabled, true, Instant.now().minusSeconds(60));
        StepVerifier.create(other.disabled(back)).expectNext(true).expectComplete().verify(WAIT);
        StepVerifier.create(other.forgetDeleted(known)).expectNext(0L).expectComplete().verify(WAIT);
        StepVerifier.create(other.forgetDeleted(known)).expectNext(0L).expectComplete().verify(WAIT);
        StepVerifier.create(other.disabled(back)).expectNext(false).expectComplete().verify(WAIT);
    }

    @Test
    void aWebhookBackInTheDirectoryBeforeTheSecondPurgeKeepsItsState() {
        String id = "wh-" + UUID.randomUUID();
        EndpointHealth health = loaded();
        StepVerifier.create(health.disable(id, EndpointHealth.GONE, disabling(id))).expectNext(true)
                .expectComplete().verify(WAIT);
        announced(id);

        // Its delete undone (api-service published its config again after the tombstone), then deleted for good.
        StepVerifier.create(health.forgetDeleted(other -> !other.equals(id))).expectNext(0L).expectComplete()
                .verify(WAIT);
        StepVerifier.create(health.forgetDeleted(other -> true)).expectNext(0L).expectComplete().verify(WAIT);
        StepVerifier.create(health.forgetDeleted(other -> !other.equals(id))).expectNext(0L).expectComplete()
                .verify(WAIT);

        assertThat(stored(id)).containsExactly(id);
        StepVerifier.create(health.forgetDeleted(other -> !other.equals(id))).expectNext(1L).expectComplete()
                .verify(WAIT);
        assertThat(stored(id)).isEmpty();
    }

    @Test
    void aDeletedWebhooksDisableStaysUntilItsAnnouncementIsPublishedAndGoesAtThePurgeAfter() {
        String id = "wh-" + UUID.randomUUID();
        EndpointHealth health = loaded();
        Predicate<String> known = other -> !other.equals(id);

        // The service's own announcer publishes every stored announcement every 10 s: uncommitted, this one is not
        // there for it to publish until both purges have found it owed.
        List<String> owed = health.disable(id, EndpointHealth.GONE, disabling(id))
                .then(health.forgetDeleted(known))
                .then(health.forgetDeleted(known))
                .thenMany(database.sql("SELECT webhook_id FROM webhook.endpoint_state "
                                + "WHERE webhook_id = :id AND announcement IS NOT NULL")
                        .bind("id", id)
                        .map(row -> row.get("webhook_id", String.class))
                        .all())
                .collectList()
                .as(TransactionalOperator.create(transactions)::transactional)
                .block(WAIT);
        assertThat(owed).containsExactly(id);

        // Published on the real broker (and cleared) by that announcer, the disable goes at the next purge.
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> database.sql(
                        "SELECT announcement IS NULL AS published FROM webhook.endpoint_state WHERE webhook_id = :id")
                .bind("id", id)
                .map(row -> row.get("published", Boolean.class))
                .one()
                .block(WAIT));
        StepVerifier.create(health.forgetDeleted(known)).expectNext(1L).expectComplete().verify(WAIT);
        assertThat(stored(id)).isEmpty();
    }

    /** As {@link DisableAnnouncements} leaves a row once the broker has its announcement. */
    private void announced(String webhookId) {
        database.sql("UPDATE webhook.endpoint_state SET announcement = NULL WHERE webhook_id = :id")
                .bind("id", webhookId)
                .then().block(WAIT);
    }

    /** Which of these webhooks have a row. */
    private List<String> stored(String... webhookIds) {
        return database.sql("SELECT webhook_id FROM webhook.endpoint_state WHERE webhook_id = ANY(:ids)")
                .bind("ids", webhookIds)
                .map(row -> row.get("webhook_id", String.class))
                .all().collectList().block(WAIT);
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
