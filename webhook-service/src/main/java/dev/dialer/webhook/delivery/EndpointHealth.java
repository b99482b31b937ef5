package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DeliveryAttempt;
import dev.dialer.common.contract.WebhookConfig;
import io.r2dbc.spi.Readable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Whether a webhook's endpoint may be called, durable in {@code webhook.endpoint_state}: a 410 Gone disables it at
 * once; {@code disable-after-failures} consecutive failed tries (of any events, at one URL) disable it once the first
 * of them is at least {@code disable-after} old; a success resets the count, and so does a failure at another URL.
 * api-service owns the configuration topic, so the disable lives here, and a configuration of the webhook enabled
 * after the disable ({@code enabled_at}: the customer re-enabling it) lifts it. The table is mirrored in memory
 * (loaded at start-up); every change is written first and mirrored once written, so memory never holds what the
 * table lacks.
 *
 * <p>Several instances share the table, each with its own memory. Only a re-enable removes a disable: counting a
 * failure or a success leaves a row whose {@code disabled_at} is set alone, and the instance then reads the row
 * again. Failures are counted in the table, so the count covers the tries of every instance, and a success on any
 * instance resets it (see {@link #succeeded}).
 *
 * <p>A disable is written together with its announcement, the try that disabled the webhook, which
 * {@link DisableAnnouncements} publishes to api-service until the broker has it, and with its
 * {@link DisabledNotice} to the account's other webhooks.
 *
 * <p>The state of a webhook that was deleted is removed by {@link #forgetDeleted}, not when its tombstone is read:
 * see there why.
 *
 * <p>Each statement a delivery makes here (a failure counted, a success, a disable, its lift, a row read again) fails
 * after {@link RetryStore#STATEMENT_TIMEOUT}, as PostgreSQL being away does and as the delivery's other statements do,
 * rather than wait for good on a connection that hangs.
 */
final class EndpointHealth {

    private static final Logger log = LoggerFactory.getLogger(EndpointHealth.class);

    /** Why a webhook was disabled: the {@code disabled_reason} api-service shows. */
    static final String GONE = "gone";
    static final String FAILING = "failing";

    /**
     * The disable, and only if it is written, its {@link DisabledNotice}: the event kept and queued for each
     * subscriber, in the same statement, so that no failure can leave a disable whose notice was never written (a
     * later handling finds the webhook disabled already and would not write it).
     */
    private static final String DISABLE = """
            WITH disabled AS (
                INSERT INTO webhook.endpoint_state AS s (webhook_id, failures, disabled_at, disabled_reason,
                    announcement)
                VALUES (:id, 0, :disabledAt, :reason, :announcement)
                ON CONFLICT (webhook_id) DO UPDATE SET disabled_at = EXCLUDED.disabled_at,
                    disabled_reason = EXCLUDED.disabled_reason, announcement = EXCLUDED.announcement
                WHERE s.disabled_at IS NULL
                RETURNING *),
            kept AS (
                INSERT INTO webhook.events (event_id, account_id, event_type, occurred_at, payload)
                SELECT :noticeId, :accountId, :noticeType, :noticeAt, :notice FROM disabled
                ON CONFLICT (event_id) DO NOTHING),
            queued AS (
                INSERT INTO webhook.retries (event_id, event_type, target_kind, target_id, method, account_id, payload,
                    tries, next_attempt_at)
                SELECT :noticeId, :noticeType, :kind, subscriber, 'POST', :accountId, :notice, 0, :noticeAt
                  FROM disabled, unnest(CAST(:subscribers AS text[])) AS subscriber
                ON CONFLICT DO NOTHING)
            SELECT * FROM disabled""";
    /** A failure at another URL than the count's starts it again (see failed); a count without one goes on. */
    private static final String FAILED = """
            INSERT INTO webhook.endpoint_state AS s (webhook_id, failures, first_failure_at, url)
            VALUES (:id, 1, :failedAt, :url)
            ON CONFLICT (webhook_id) DO UPDATE SET
                failures = CASE WHEN s.url IS NULL OR s.url = EXCLUDED.url THEN s.failures + 1 ELSE 1 END,
                first_failure_at = CASE WHEN s.url IS NULL OR s.url = EXCLUDED.url
                    THEN COALESCE(s.first_failure_at, EXCLUDED.first_failure_at) ELSE EXCLUDED.first_failure_at END,
                url = EXCLUDED.url
            WHERE s.disabled_at IS NULL
            RETURNING *""";
    private static final String RESET = """
            DELETE FROM webhook.endpoint_state WHERE webhook_id = :id AND disabled_at IS NULL""";
    /** How often a success resets the count of a webhook this instance knows no failure of (see succeeded). */
    static final Duration UNKNOWN_RESET_SPACING = Duration.ofSeconds(10);
    private static final int MAX_RESETS_NOTED = 100_000;
    private static final String LIFT = """
            DELETE FROM webhook.endpoint_state WHERE webhook_id = :id AND disabled_at < :configuredAt""";
    /** A deleted webhook's row goes only once its announcement, if any, is published (see forgetDeleted). */
    private static final String FORGET = """
            DELETE FROM webhook.endpoint_state
             WHERE webhook_id = ANY(CAST(:ids AS text[])) AND announcement IS NULL
            RETURNING webhook_id""";
    /** Rows deleted by one statement at most: bounds its array and the time it holds their locks. */
    private static final int FORGET_BATCH = 1_000;

    private record State(int failures, Instant firstFailureAt, Instant disabledAt, String reason) {
        boolean disabled() {
            return disabledAt != null;
        }
    }

    private final DatabaseClient database;
    private final HealthProperties properties;
    private final DisabledNotice notices;
    private final Clock clock;
    private final Map<String, State> states = new ConcurrentHashMap<>();
    /** When this instance last reset a webhook it knew no failure of, by webhook id. */
    private final Map<String, Instant> resetsOfUnknown = new ConcurrentHashMap<>();
    /** The webhooks the last {@link #forgetDeleted} found gone, whose state the next one deletes if still gone. */
    private volatile Set<String> goneBefore = Set.of();

    EndpointHealth(DatabaseClient database, HealthProperties properties, DisabledNotice notices, Clock clock) {
        this.database = database;
        this.properties = properties;
        this.notices = notices;
        this.clock = clock;
    }

    /** Reads the table into memory; run once before deliveries start. */
    Mono<Void> load() {
        return database.sql("SELECT * FROM webhook.endpoint_state")
                .map(row -> Map.entry(row.get("webhook_id", String.class), state(row)))
                .all()
                .doOnNext(entry -> states.put(entry.getKey(), entry.getValue()))
                .then();
    }

    /**
     * Whether the webhook is disabled here. A configuration that has the webhook enabled since after the disable
     * lifts it (and deletes it from the table, unless a newer disable is there by then).
     */
    Mono<Boolean> disabled(WebhookConfig config) {
        State state = states.get(config.id());
        if (state == null || !state.disabled()) {
            return Mono.just(false);
        }
        if (reenabled(state, config)) {
            return lift(config);
        }
        return Mono.just(true);
    }

    /**
     * Whether the webhook is disabled here and its configuration has not enabled it since, as {@link #disabled} would
     * answer, without lifting anything: asked as an event's targets are chosen.
     */
    boolean heldDisabled(WebhookConfig config) {
        State state = states.get(config.id());
        return state != null && state.disabled() && !reenabled(state, config);
    }

    /**
     * Whether the webhook was enabled again after its disable: by the configuration's
     * {@link WebhookConfig#enabledSince} (when the account last enabled it), not its last change, so that an edit of
     * its description written before api-service had heard of the disable does not lift it.
     */
    private static boolean reenabled(State state, WebhookConfig config) {
        Instant since = config.enabledSince();
        return config.enabled() && since != null && since.isAfter(state.disabledAt());
    }

    /**
     * Webhooks disabled now, of those the directory has ({@code current}, null for a webhook it does not; {@code
     * known}, every configuration it has): those this instance holds disabled, and those whose configuration says the
     * dialer disabled them. A disable outlives its webhook for a while (until {@link #forgetDeleted} has found it gone
     * twice, longer while its announcement is owed), and one lifted by a newer configuration is removed only at the
     * webhook's next try: counted, the gauge would show webhooks nobody can see disabled any more. Another instance's
     * disable reaches this one's memory only through a try of its own, which the configuration republished with
     * {@code enabled: false} stops: counted from memory alone, each instance saw about its own disables.
     */
    long disabledCount(Function<String, WebhookConfig> current, Collection<WebhookConfig> known) {
        Set<String> disabled = new HashSet<>();
        states.forEach((id, state) -> {
            WebhookConfig config = state.disabled() ? current.apply(id) : null;
            if (config != null && !reenabled(state, config)) {
                disabled.add(id);
            }
        });
        known.forEach(config -> {
            if (!config.enabled() && (GONE.equals(config.disabledReason())
                    || FAILING.equals(config.disabledReason()))) {
                disabled.add(config.id());
            }
        });
        return disabled.size();
    }

    /**
     * Completes with true when this disabled the webhook (false when it already was, here or elsewhere); the disable
     * is written with its notice to the account's other webhooks.
     *
     * @param announcement the try that disabled it, stored with the disable to be published
     */
    Mono<Boolean> disable(String webhookId, String reason, DeliveryAttempt announcement) {
        State known = states.get(webhookId);
        if (known != null && known.disabled()) {
            return Mono.just(false);
        }
        Instant now = clock.instant();
        DisabledNotice.Notice notice = notices.of(webhookId, announcement.accountId(), reason, now);
        return database.sql(DISABLE)
                .bind("id", webhookId)
                .bind("disabledAt", now)
                .bind("reason", reason)
                .bind("announcement", Contract.toBytes(announcement))
                .bind("noticeId", notice.eventId())
                .bind("accountId", notice.accountId())
                .bind("noticeType", notice.eventType())
                .bind("noticeAt", notice.occurredAt())
                .bind("notice", notice.payload())
                .bind("kind", Target.Kind.SUBSCRIPTION.name())
                .bind("subscribers", notice.subscribers())
                .map(EndpointHealth::state)
                .one()
                .timeout(RetryStore.STATEMENT_TIMEOUT)
                .doOnNext(state -> states.put(webhookId, state))
                .map(State::disabled)
                // Disabled elsewhere meanwhile: that instance announces it.
                .switchIfEmpty(refresh(webhookId).thenReturn(false));
    }

    /**
     * Counts a failed try; completes with true when the failures disabled the webhook just now. The count is of
     * consecutive failures at one URL: a failure at another than the count's (the account moved the webhook, and
     * fixed what failed) starts it again, so a new URL is not disabled at its first failure for its predecessor's.
     *
     * @param url the URL tried
     * @param announcement the try, to be announced if it disables the webhook
     */
    Mono<Boolean> failed(String webhookId, String url, DeliveryAttempt announcement) {
        State known = states.get(webhookId);
        if (known != null && known.disabled()) {
            return Mono.just(false);
        }
        Instant now = clock.instant();
        return database.sql(FAILED)
                .bind("id", webhookId)
                .bind("failedAt", now)
                .bind("url", url)
                .map(EndpointHealth::state)
                .one()
                .timeout(RetryStore.STATEMENT_TIMEOUT)
                .flatMap(state -> counted(webhookId, state, now, announcement))
                .switchIfEmpty(refresh(webhookId).thenReturn(false));
    }

    /**
     * A successful try: the failure count starts again, in the table, whichever instance counted the failures. An
     * instance that knows of no failure of the webhook (another may have counted some) resets it at most once every
     * {@link #UNKNOWN_RESET_SPACING}, so a busy healthy endpoint does not cost a statement a delivery.
     */
    Mono<Void> succeeded(String webhookId) {
        State state = states.get(webhookId);
        if (state != null && state.disabled()) {
            return Mono.empty();
        }
        if (state == null && !resetDue(webhookId)) {
            return Mono.empty();
        }
        return database.sql(RESET)
                .bind("id", webhookId)
                .fetch()
                .rowsUpdated()
                .timeout(RetryStore.STATEMENT_TIMEOUT)
                .flatMap(deleted -> {
                    if (deleted > 0) {
                        return state == null ? Mono.<Void>empty()
                                : Mono.<Void>fromRunnable(() -> states.remove(webhookId, state));
                    }
                    return state == null ? Mono.<Void>empty() : refresh(webhookId).then();
                });
    }

    /** Whether a success should reset a webhook this instance knows no failure of; notes it if so. */
    private boolean resetDue(String webhookId) {
        Instant now = clock.instant();
        if (resetsOfUnknown.size() > MAX_RESETS_NOTED) {
            // Webhooks deleted long ago; at worst a few resets come sooner than spaced.
            resetsOfUnknown.clear();
        }
        boolean[] due = {false};
        resetsOfUnknown.compute(webhookId, (id, last) -> {
            if (last != null && last.plus(UNKNOWN_RESET_SPACING).isAfter(now)) {
                return last;
            }
            due[0] = true;
            return now;
        });
        return due[0];
    }

    private Mono<Boolean> counted(String webhookId, State state, Instant now, DeliveryAttempt announcement) {
        if (sustained(state, now)) {
            return disable(webhookId, FAILING, announcement);
        }
        states.put(webhookId, state);
        return Mono.just(false);
    }

    private boolean sustained(State state, Instant now) {
        return state.failures() >= properties.disableAfterFailures()
                && Duration.between(state.firstFailureAt(), now).compareTo(properties.disableAfter()) >= 0;
    }

    /**
     * Deletes the state of webhooks that are gone: neither in the directory ({@code known} false) when this is called
     * nor when it was called the time before (the housekeeping calls it every {@code purge-interval}, once the
     * directory has caught up); completes with the rows deleted. A row whose announcement is still owed stays until
     * {@link DisableAnnouncements} has published it, and goes at the next call after that.
     *
     * <p>Not at the webhook's tombstone: a tombstone read while no instance was running may be compacted away by the
     * time one starts (after {@code delete.retention.ms}), and its webhook's state would stay for ever; and a delete
     * api-service answered 503 is undone by publishing the webhook's config again after its tombstone (decision 0127),
     * so a webhook may come back moments after it was deleted. Found gone twice a purge interval apart, the webhook
     * is neither one whose delete is being undone nor one created so recently that this instance's directory has not
     * read it yet while another instance already counted its failures. A webhook whose newest config cannot be read
     * is not in the directory either, and loses its state too: nothing is delivered to it meanwhile, and a disable is
     * forgotten only once api-service has been told of it, whose republished config then carries it.
     *
     * <p>The announcement is kept although a deleted webhook's disable concerns nobody any more: this instance cannot
     * tell a deleted webhook from one whose delete will be undone or whose config it cannot read, and an announcement
     * not published would leave those enabled in api-service for ever while nothing is sent to them.
     */
    Mono<Long> forgetDeleted(Predicate<String> known) {
        return database.sql("SELECT webhook_id FROM webhook.endpoint_state")
                .map(row -> row.get("webhook_id", String.class))
                .all()
                .collect(HashSet<String>::new, Set::add)
                .flatMap(stored -> forget(stored, gone(stored, known)));
    }

    /** The webhooks of the table and of memory that are gone now; those gone last time too are due. */
    private Set<String> gone(Set<String> stored, Predicate<String> known) {
        Set<String> gone = new HashSet<>(stored);
        gone.addAll(states.keySet());
        gone.removeIf(known);
        Set<String> due = new HashSet<>(gone);
        due.retainAll(goneBefore);
        goneBefore = Set.copyOf(gone);
        return due;
    }

    /**
     * Deletes the due rows that owe no announcement; memory forgets every due webhook whose row is gone, as it held it
     * before the delete: a state written meanwhile (a delete undone, the endpoint disabled again) is kept.
     */
    private Mono<Long> forget(Set<String> stored, Set<String> due) {
        Map<String, State> seen = new HashMap<>();
        due.forEach(id -> {
            State state = states.get(id);
            if (state != null) {
                seen.put(id, state);
            }
        });
        return Flux.fromIterable(due)
                .filter(stored::contains)
                .buffer(FORGET_BATCH)
                .concatMap(ids -> database.sql(FORGET)
                        .bind("ids", ids.toArray(String[]::new))
                        .map(row -> row.get("webhook_id", String.class))
                        .all())
                .collect(HashSet<String>::new, Set::add)
                .map(deleted -> {
                    Set<String> owed = new HashSet<>(due);
                    owed.retainAll(stored);
                    owed.removeAll(deleted);
                    seen.forEach((id, state) -> {
                        if (!owed.contains(id)) {
                            states.remove(id, state);
                        }
                    });
                    if (!deleted.isEmpty() || !owed.isEmpty()) {
                        log.info("endpoint state of {} deleted webhooks removed, {} kept until their disable is "
                                + "announced", deleted.size(), owed.size());
                    }
                    return (long) deleted.size();
                });
    }

    private Mono<Boolean> lift(WebhookConfig config) {
        return database.sql(LIFT)
                .bind("id", config.id())
                .bind("configuredAt", config.enabledSince())
                .then()
                .timeout(RetryStore.STATEMENT_TIMEOUT)
                .then(refresh(config.id()))
                .map(State::disabled)
                .defaultIfEmpty(false);
    }

    /** Mirrors the webhook's row as it is now: another instance may have written it. */
    private Mono<State> refresh(String webhookId) {
        return database.sql("SELECT * FROM webhook.endpoint_state WHERE webhook_id = :id")
                .bind("id", webhookId)
                .map(EndpointHealth::state)
                .one()
                .timeout(RetryStore.STATEMENT_TIMEOUT)
                .doOnNext(state -> states.put(webhookId, state))
                .switchIfEmpty(Mono.fromRunnable(() -> states.remove(webhookId)));
    }

    private static State state(Readable row) {
        return new State(row.get("failures", Integer.class), row.get("first_failure_at", Instant.class),
                row.get("disabled_at", Instant.class), row.get("disabled_reason", String.class));
    }
}
