package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.WebhookApplication;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
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

/**
 * What a claim of due retries takes, against the real table: accounts and their endpoints in turn, the fewest tries in
 * flight first, and none past an endpoint's or account's limit. The service's own poller claims once at start and then
 * not for an hour, so that the test's claims are the only ones. The table is shared with the other test classes, whose
 * rows stay: each claim passes over their accounts as it passes over a held account's, so it ranks only the test's
 * own rows, and each test deletes its own rows when it ends.
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

    @Autowired
    RetryStore store;
    @Autowired
    MeterRegistry registry;
    @Autowired
    DatabaseClient database;

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
