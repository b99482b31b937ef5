package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.KafkaProperties;
import dev.dialer.webhook.WebhookApplication;
import dev.dialer.webhook.directory.Directories;
import dev.dialer.webhook.directory.WebhookDirectory;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * What a claim of due retries takes, against the real table: accounts and their endpoints in turn, the fewest tries in
 * flight first, none past an endpoint's or account's limit, and no call's later event before its earlier one while
 * that one's ordering wait lasts. The service's own poller claims once at start and then not for an hour, so that the
 * test's claims are the only ones. The table is shared with the other test classes, whose rows stay: each claim passes
 * over their accounts as it passes over a held account's, so it ranks only the test's own rows, and each test deletes
 * its own rows when it ends.
 */
@SpringBootTest(classes = WebhookApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.config.name=webhook-service", "dialer.webhook.retry.poll-interval=1h"})
@ActiveProfiles("it")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class RetryClaimIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Duration LEASE = Duration.ofSeconds(80);
    private static final int PER_ENDPOINT = 16;
    private static final int PER_ACCOUNT = 64;
    /** Long before now: the rows of a test are due, and in the order their due times give. */
    private static final Instant BACKLOG_DUE = Instant.parse("2001-01-01T00:00:00Z");
    private static final byte[] PAYLOAD = "{\"event_type\":\"call.status\"}".getBytes(StandardCharsets.UTF_8);
    /** The shipped ordering wait: the events below are handled minutes apart from the claims, on the clock. */
    private static final Duration ORDERING_WAIT = Duration.ofMinutes(10);

    @Autowired
    RetryStore store;
    @Autowired
    MeterRegistry registry;
    @Autowired
    DatabaseClient database;
    @Autowired
    KafkaProperties kafka;
    @Autowired
    TargetResolver resolver;
    @Autowired
    WebhookDeliverer deliverer;
    @Autowired
    EventStore events;
    @Autowired
    DeliveryMetrics metrics;
    @Autowired
    KafkaPublisher publisher;

    /** The accounts of this test's rows. */
    private final List<String> accounts = new ArrayList<>();

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
    }

    /** The test's rows are written once the service's poller has made its claim at start: it would try them. */
    @BeforeEach
    void afterTheServicesOwnClaim() {
        ServicesOwnClaim.awaitEnded(registry);
    }

    /** Due for ever, they would be tried by the next test class's poller. */
    @AfterEach
    void deleteThisTestsRows() {
        database.sql("DELETE FROM webhook.retries WHERE account_id = ANY(:accounts)")
                .bind("accounts", accounts.toArray(String[]::new))
                .then().block(WAIT);
    }

    /**
     * Rows stored while endpoints were keyed by their URL's spelling are keyed as {@link EndpointIsolation#endpoint}
     * keys them now once the V10 migration ran (run here again, on rows written after it ran at start).
     */
    @Test
    void rowsKeyedByTheirUrlsSpellingOfAnEndpointAreKeyedAsTheServiceKeysThemAfterTheMigration() throws IOException {
        String account = account("acc-spelling");
        Instant later = Instant.now().plus(Duration.ofDays(1));
        List<String> respelled = List.of("https://Hooks.Example.COM:443/a", "http://h.example:80/b",
                "https://h.example./c", "https://h.example.:443/d", "https://[2001:db8::1]:443/e",
                "http://h.example.:80/f");
        List<String> unchanged = List.of("https://h.example:8443/g", "http://h.example:8080/h", "https://h.example/i",
                "http://[2001:db8::1]/j", "https://h.example:80/k", "http://h.example:443/l");
        for (String url : Stream.concat(respelled.stream(), unchanged.stream()).toList()) {
            insert(account, "NOTIFY", "notify", url, keyedAsBefore(url), 1, later);
        }
        insert(account, "NOTIFY", "notify", "not a url", "invalid", 1, later);
        insert(account, "WEBHOOK", unique("wh-spelling"), null, null, 1, later);
        assertThat(respelled).allSatisfy(url -> assertThat(keyedAsBefore(url))
                .isNotEqualTo(EndpointIsolation.endpoint(url)));

        try (InputStream script = getClass().getResourceAsStream(
                "/db/migration/webhook/V10__retries_endpoint_canonical.sql")) {
            database.sql(new String(script.readAllBytes(), StandardCharsets.UTF_8)).then().block(WAIT);
        }

        Map<String, String> keys = database.sql("""
                        SELECT COALESCE(url, 'none'), COALESCE(endpoint, 'none') FROM webhook.retries
                         WHERE account_id = :account""")
                .bind("account", account)
                .map(row -> Map.entry(row.get(0, String.class), row.get(1, String.class)))
                .all()
                .collectMap(Map.Entry::getKey, Map.Entry::getValue)
                .block(WAIT);
        assertThat(keys).hasSize(respelled.size() + unchanged.size() + 2);
        Stream.concat(respelled.stream(), unchanged.stream()).forEach(url -> assertThat(keys.get(url + "1"))
                .as(url).isEqualTo(EndpointIsolation.endpoint(url + "1")));
        assertThat(keys).containsEntry("not a url1", "invalid").containsEntry("none", "none");
    }

    /** An endpoint as it was keyed before: the scheme's port as written, a host's trailing dot kept. */
    private static String keyedAsBefore(String url) {
        URI uri = URI.create(url);
        return uri.getScheme().toLowerCase(Locale.ROOT) + "://" + uri.getHost().toLowerCase(Locale.ROOT) + ":"
                + uri.getPort();
    }

    @Test
    void anotherAccountsDueRowIsClaimedInTheFirstClaimBehindOneAccountsBacklogToASlowEndpoint() {
        String slow = account("acc-slow");
        String other = account("acc-other");
        webhookRows(slow, unique("wh-slow"), 200, BACKLOG_DUE);
        webhookRows(other, unique("wh-other"), 1, BACKLOG_DUE.plus(Duration.ofDays(1)));

        Map<String, Long> claimed = byAccount(claim(20, RetriesInFlight.Room.empty(PER_ENDPOINT, PER_ACCOUNT)));

        assertThat(claimed).containsEntry(other, 1L).containsEntry(slow, (long) PER_ENDPOINT);
    }

    @Test
    void aFreedSlotGoesToTheAccountWithTheFewestTriesInFlightAndNoRowPastItsLimits() {
        String slow = account("acc-slow");
        String other = account("acc-other");
        String slowWebhook = unique("wh-slow");
        webhookRows(slow, slowWebhook, 200, BACKLOG_DUE);
        webhookRows(other, unique("wh-other"), 1, BACKLOG_DUE.plus(Duration.ofDays(1)));

        // One of the slow endpoint's tries has just ended: its next row and the other account's first are both due.
        assertThat(byAccount(claim(1, inFlight(slow, slowWebhook, PER_ENDPOINT - 1, PER_ENDPOINT - 1))))
                .containsOnlyKeys(other);
        assertThat(claim(10, inFlight(slow, slowWebhook, PER_ENDPOINT, PER_ENDPOINT))).isEmpty();
        assertThat(claim(10, inFlight(slow, slowWebhook, 0, PER_ACCOUNT))).isEmpty();
        assertThat(byAccount(claim(10, inFlight(slow, slowWebhook, 0, PER_ACCOUNT - 2))))
                .containsExactly(Map.entry(slow, 2L));
    }

    @Test
    void everyAccountHasItsFirstTurnBeforeAnyHasASecondAndAnAccountsEndpointsTakeTurnsWithin() {
        String many = account("acc-many");
        String one = account("acc-one");
        // A host per call, every row of them due before the other account's.
        for (int call = 0; call < 3; call++) {
            hookRows(many, "https://call-" + call + ".app.test:-1", 10, BACKLOG_DUE.plusSeconds(call));
        }
        webhookRows(one, unique("wh-one"), 10, BACKLOG_DUE.plus(Duration.ofDays(1)));

        List<DeliveryTask> claimed = claim(8, RetriesInFlight.Room.empty(PER_ENDPOINT, PER_ACCOUNT));

        assertThat(byAccount(claimed)).containsEntry(many, 4L).containsEntry(one, 4L);
        assertThat(claimed.stream().filter(task -> task.accountId().equals(many))
                .map(task -> EndpointIsolation.endpoint(task.target().url())).distinct())
                .containsExactlyInAnyOrder("https://call-0.app.test:-1", "https://call-1.app.test:-1",
                        "https://call-2.app.test:-1");
    }

    @Test
    void aHeldAccountsRowsAreNotClaimedWhateverTheirEndpoints() {
        String held = account("acc-held");
        String other = account("acc-other");
        hookRows(held, "https://call-1.app.test:-1", 5, BACKLOG_DUE);
        webhookRows(held, unique("wh-held"), 5, BACKLOG_DUE);
        webhookRows(other, unique("wh-other"), 1, BACKLOG_DUE.plus(Duration.ofDays(1)));

        List<DeliveryTask> claimed = claim(20, new HeldTargets.Held(new String[] {held}, new String[0],
                new String[0], new String[0]), RetriesInFlight.Room.empty(PER_ENDPOINT, PER_ACCOUNT));

        assertThat(byAccount(claimed)).containsOnlyKeys(other);
    }

    /**
     * The rows the poller gives up as past the schedule's span: those of held accounts, webhooks and hook endpoints
     * (another account's rows to the same endpoint, a held account's hook to another endpoint, a webhook not held left
     * out) stored before the cutoff, due or not, none leased; the oldest first, up to the limit; leased as claimed.
     */
    @Test
    void rowsOfHeldTargetsStoredBeforeTheCutoffAreClaimedOldestFirstWhetherDueOrNot() {
        Instant cutoff = Instant.now().minus(Duration.ofHours(1));
        Instant notDue = Instant.now().plus(Duration.ofDays(1));
        String heldAccount = account("acc-held-whole");
        String webhooks = account("acc-webhooks");
        String hooks = account("acc-hooks");
        String sameEndpoint = account("acc-same-endpoint");
        String heldWebhook = unique("wh-held");
        String otherWebhook = unique("wh-not-held");
        String anyWebhook = unique("wh-any");
        webhookRows(heldAccount, anyWebhook, 1, BACKLOG_DUE);
        webhookRows(webhooks, heldWebhook, 3, BACKLOG_DUE);
        webhookRows(webhooks, otherWebhook, 1, BACKLOG_DUE);
        hookRows(hooks, "https://dead.app.test:-1", 1, notDue);
        hookRows(hooks, "https://alive.app.test:-1", 1, BACKLOG_DUE);
        hookRows(sameEndpoint, "https://dead.app.test:-1", 1, BACKLOG_DUE);
        // Stored two hours ago, the held webhook's later rows a minute apart before that; its last row only now.
        storedAgo(List.of(heldAccount, webhooks, hooks, sameEndpoint), Duration.ofHours(2));
        database.sql("""
                        UPDATE webhook.retries SET created_at = created_at - (next_attempt_at - :due)
                         WHERE target_id = :webhook""").bind("due", BACKLOG_DUE).bind("webhook", heldWebhook)
                .then().block(WAIT);
        database.sql("""
                        UPDATE webhook.retries SET created_at = now()
                         WHERE target_id = :webhook AND next_attempt_at = (SELECT max(next_attempt_at)
                                                                             FROM webhook.retries
                                                                            WHERE target_id = :webhook)""")
                .bind("webhook", heldWebhook).then().block(WAIT);
        HeldTargets.Held held = new HeldTargets.Held(new String[] {heldAccount}, new String[] {heldWebhook},
                new String[] {hooks}, new String[] {"https://dead.app.test:-1"});

        List<DeliveryTask> first = store.claimHeldStoredBefore(cutoff, 1, LEASE, held).collectList().block(WAIT);
        List<DeliveryTask> rest = store.claimHeldStoredBefore(cutoff, 10, LEASE, held).collectList().block(WAIT);
        List<DeliveryTask> again = store.claimHeldStoredBefore(cutoff, 10, LEASE, held).collectList().block(WAIT);

        assertThat(first).singleElement().satisfies(task -> {
            assertThat(task.target().id()).as("the oldest").isEqualTo(heldWebhook);
            assertThat(task.lease()).isAfter(Instant.now());
        });
        assertThat(rest).extracting(task -> task.accountId() + " " + task.target().id())
                .containsExactlyInAnyOrder(webhooks + " " + heldWebhook, heldAccount + " " + anyWebhook,
                        hooks + " notify");
        assertThat(rest).filteredOn(task -> task.accountId().equals(hooks)).singleElement()
                .satisfies(task -> assertThat(task.target().url()).startsWith("https://dead.app.test/"));
        assertThat(again).as("leased rows, and the rest, are not claimed").isEmpty();
    }

    /** Makes the accounts' rows as if stored {@code ago}. */
    private void storedAgo(List<String> accounts, Duration ago) {
        database.sql("UPDATE webhook.retries SET created_at = now() - make_interval(secs => :seconds) "
                        + "WHERE account_id = ANY(:accounts)")
                .bind("seconds", (double) ago.toSeconds())
                .bind("accounts", accounts.toArray(String[]::new))
                .then().block(WAIT);
    }

    /**
     * A call's first event names a webhook whose record is late, so its delivery is stored for a try after the ordering
     * wait; the record arrives and the call's next event is held behind it. Handled a minute apart, long enough ago
     * that the first is due now and the next has been stored for longer than the ordering wait: the next is not
     * claimed with the first (ranked ahead of it, and tried alongside), nor while the first's try is in flight,
     * nor after that try failed; it goes once the first is delivered.
     */
    @Test
    void aCallsEventHeldBehindOneStoredForItsWebhookNotKnownYetIsNotClaimedBeforeThatOneIsDone() {
        String account = account("acc-order");
        String webhookId = unique("wh-late");
        CallCommand command = new CallCommand(CallCommand.VERSION, unique("req"), account, "+14155550100",
                "+919876543210", "23", null, "it", 0, 0, 1, webhookId, null, Map.of(), null, null, null, null, null,
                Instant.now());
        CallEvent first = CallEvent.about(command).sequence(1).status(AttemptStatus.INITIATED).build();
        CallEvent next = CallEvent.about(command).sequence(2).status(AttemptStatus.RINGING).build();
        Instant firstHandled = Instant.now().minus(ORDERING_WAIT).minus(Duration.ofMinutes(2));
        Sinks.Many<InboundRecord> topic = Sinks.many().unicast().onBackpressureBuffer();
        WebhookDirectory late = Directories.of(topic::asFlux, Mono::empty, new SimpleMeterRegistry());
        Disposable following = late.follow().subscribe();
        try {
            handle(late, firstHandled, first);
            topic.tryEmitNext(new InboundRecord(Topics.WEBHOOK_CONFIG, 0, 0, webhookId, Contract.toBytes(
                    new WebhookConfig(webhookId, account, "https://example.invalid/hook", "test",
                            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true, Instant.now())), Map.of(), () -> { }));
            await().atMost(WAIT).until(() -> late.current(webhookId) != null);
            handle(late, firstHandled.plus(Duration.ofMinutes(1)), next);
        } finally {
            following.dispose();
        }
        assertThat(database.sql("SELECT next_attempt_at <= now() AS due FROM webhook.retries WHERE event_id = :eventId")
                .bind("eventId", next.eventId())
                .map(row -> row.get("due", Boolean.class))
                .one().block(WAIT)).as("the next held back, due since it was stored").isTrue();
        RetriesInFlight.Room room = RetriesInFlight.Room.empty(PER_ENDPOINT, PER_ACCOUNT);

        List<DeliveryTask> claimed = claim(10, room);

        assertThat(claimed).extracting(DeliveryTask::eventId).containsExactly(first.eventId());
        assertThat(claim(10, room)).as("the first's try in flight").isEmpty();
        store.save(claimed.get(0), 1, Instant.now().plusSeconds(60), null).block(WAIT);
        assertThat(claim(10, room)).as("the first's try failed, due again in a minute").isEmpty();
        database.sql("UPDATE webhook.retries SET next_attempt_at = now() WHERE event_id = :eventId")
                .bind("eventId", first.eventId())
                .then().block(WAIT);
        List<DeliveryTask> again = claim(10, room);
        assertThat(again).as("the first due again").extracting(DeliveryTask::eventId)
                .containsExactly(first.eventId());
        store.remove(again.get(0)).block(WAIT);
        assertThat(claim(10, room)).as("the first delivered").extracting(DeliveryTask::eventId)
                .containsExactly(next.eventId());
    }

    /** The call event handled as it is at {@code at} by a consumer that looks webhooks up in {@code directory}. */
    private void handle(WebhookDirectory directory, Instant at, CallEvent event) {
        CallEventConsumer consumer = new CallEventConsumer(kafka.settings(), directory, resolver, deliverer, store,
                events, Duration.ZERO, ORDERING_WAIT, metrics, new BadRecords(BadRecords.Source.EVENTS, publisher,
                metrics), Clock.fixed(at, ZoneOffset.UTC));
        consumer.handle(new InboundRecord(Topics.CALL_EVENTS, 0, event.sequenceNumber(), event.requestId(),
                Contract.toBytes(event), Map.of(), () -> { })).block(WAIT);
    }

    private List<DeliveryTask> claim(int limit, RetriesInFlight.Room room) {
        return claim(limit, HeldTargets.Held.none(), room);
    }

    /** A claim that passes over every other account's rows, as well as those {@code held}. */
    private List<DeliveryTask> claim(int limit, HeldTargets.Held held, RetriesInFlight.Room room) {
        List<String> others = database.sql("SELECT DISTINCT account_id FROM webhook.retries "
                        + "WHERE account_id <> ALL(:accounts)")
                .bind("accounts", accounts.toArray(String[]::new))
                .map(row -> row.get("account_id", String.class))
                .all().collectList().block(WAIT);
        HeldTargets.Held heldAndOthers = new HeldTargets.Held(
                Stream.concat(Stream.of(held.accountIds()), others.stream()).toArray(String[]::new),
                held.webhookIds(), held.hookAccounts(), held.hookEndpoints());
        return store.claim(limit, LEASE, heldAndOthers, room).collectList().block(WAIT);
    }

    /** A new account of this test's. */
    private String account(String prefix) {
        String account = unique(prefix);
        accounts.add(account);
        return account;
    }

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    /** What the poller has in flight: {@code endpointTries} to the account's webhook, {@code accountTries} in all. */
    private static RetriesInFlight.Room inFlight(String account, String webhookId, int endpointTries,
                                                 int accountTries) {
        return new RetriesInFlight.Room(PER_ENDPOINT, PER_ACCOUNT, new String[] {account},
                new String[] {RetriesInFlight.WEBHOOK + webhookId}, new Integer[] {endpointTries},
                new String[] {account}, new Integer[] {accountTries});
    }

    private static Map<String, Long> byAccount(List<DeliveryTask> claimed) {
        return claimed.stream().collect(Collectors.groupingBy(DeliveryTask::accountId, Collectors.counting()));
    }

    /** {@code rows} retries to the account's webhook, the first due at {@code firstDue}, then a minute apart. */
    private void webhookRows(String account, String webhookId, int rows, Instant firstDue) {
        insert(account, "WEBHOOK", webhookId, null, null, rows, firstDue);
    }

    /** {@code rows} retries of the account's notify hook to {@code endpoint}, each URL its own, a minute apart. */
    private void hookRows(String account, String endpoint, int rows, Instant firstDue) {
        insert(account, "NOTIFY", "notify", endpoint.substring(0, endpoint.lastIndexOf(':')) + "/status?call=",
                endpoint, rows, firstDue);
    }

    private void insert(String account, String kind, String targetId, String urlPrefix, String endpoint, int rows,
                        Instant firstDue) {
        Function<String, String> orNull = value -> value == null ? "NULL" : "'" + value + "'";
        database.sql("""
                        INSERT INTO webhook.retries (event_id, event_type, target_kind, target_id, url, endpoint,
                            method, account_id, payload, tries, next_attempt_at)
                        SELECT :account || '-' || :targetId || '-' || g, 'call.status', :kind, :targetId,
                               %s || g, %s, 'POST', :account, :payload, 1,
                               CAST(:firstDue AS timestamptz) + (g - 1) * interval '1 minute'
                          FROM generate_series(1, :rows) g""".formatted(orNull.apply(urlPrefix),
                        orNull.apply(endpoint)))
                .bind("account", account)
                .bind("targetId", targetId)
                .bind("kind", kind)
                .bind("payload", PAYLOAD)
                .bind("firstDue", firstDue)
                .bind("rows", rows)
                .then().block(WAIT);
    }
}
