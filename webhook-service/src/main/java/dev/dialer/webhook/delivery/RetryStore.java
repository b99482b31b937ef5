package dev.dialer.webhook.delivery;

import io.r2dbc.spi.Readable;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.Parameter;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The durable retry state in PostgreSQL: {@code webhook.retries} holds deliveries waiting for their next try,
 * {@code webhook.dead_letters} those given up, {@code webhook.replayed_events} which events each replay has queued.
 * Rows are claimed with {@code FOR UPDATE SKIP LOCKED} and a lease, so several instances share the table and a row
 * whose instance died is claimed again once its lease runs out.
 *
 * <p>A row waits behind an earlier row with the same order key (a call's earlier event to the same target) until its
 * {@code hold_until} passes; then it goes anyway. Its hold is counted from the latest first try the earlier rows have
 * yet to make, when that is later than its own due time ({@link #save}): the ordering wait is how long a later event
 * waits behind an earlier one being retried, not the time left before the earlier one's first try.
 *
 * <p>A claimed row's outcome (rescheduled, removed, dead-lettered) is written only while the row still carries the
 * claim's lease ({@code lease_until} as claimed, {@link DeliveryTask#lease()}). A try that outlived its lease may
 * find the row claimed again by another poller, whose try is newer: the late one then changes nothing, and is
 * counted ({@code dialer_webhook_retries_leases_lost_total}) and logged.
 */
final class RetryStore implements RetryPoller.DueDeliveries {

    private static final Logger log = LoggerFactory.getLogger(RetryStore.class);

    /**
     * How long a delivery's statement (its event kept, its place in the table looked up, its outcome and its webhook's
     * health written) may take, waiting for a connection included, before it fails as PostgreSQL being away does, and
     * is written again by the caller's retry. Far longer than any takes on a server that answers; without it, a
     * statement on a connection that hangs without failing (the server gone in a failover, no reset ever sent) would
     * wait for good, holding its record and, once its partition's in-flight bound is reached, the partition. Every such
     * statement can be made again: inserts skip a row that is there, outcomes are written only under the claim's
     * lease, a disable only over a webhook not disabled yet. A replay's page, read or queued, and a disable's
     * announcement, read or cleared, are bounded by it too ({@link EventStore}, {@link #queueReplay},
     * {@link DisableAnnouncements}), so that a replay or the announcements do not stop for good either.
     */
    static final Duration STATEMENT_TIMEOUT = Duration.ofSeconds(30);

    /**
     * A new delivery; one with a hold ({@code :holdSeconds}) is held from the latest due time of the rows of its order
     * key not tried yet ({@code tries = 0}: stored for later, held back, or refused before their first try), or from
     * its own if that is later. A row tried already is left out: its next try may be hours away, and a later event
     * waits behind it for the ordering wait alone.
     */
    private static final String INSERT = """
            INSERT INTO webhook.retries (event_id, event_type, target_kind, target_id, url, endpoint, method,
                request_id, account_id, payload, tries, order_key, hold_until, replay, next_attempt_at, traceparent)
            VALUES (:eventId, :eventType, :kind, :targetId, :url, :endpoint, :method, :requestId, :accountId, :payload,
                :tries, :orderKey,
                greatest(CAST(:nextAt AS timestamptz), (SELECT max(e.next_attempt_at) FROM webhook.retries e
                                                         WHERE e.order_key = :orderKey AND e.tries = 0))
                    + make_interval(secs => :holdSeconds),
                :replay, :nextAt, :traceparent)
            ON CONFLICT DO NOTHING""";
    /** Whether this delivery already waits in the table, and whether an earlier one of its order key does. */
    private static final String WAITING = """
            SELECT EXISTS (SELECT 1 FROM webhook.retries
                            WHERE event_id = :eventId AND target_kind = :kind AND target_id = :targetId
                              AND coalesce(url, '') = :url AND NOT replay) AS stored,
                   EXISTS (SELECT 1 FROM webhook.retries WHERE order_key = :orderKey) AS pending""";
    /** A replayed delivery, queued only if the replay has not marked its event as queued yet. */
    private static final String QUEUE_REPLAY = """
            WITH marked AS (
                INSERT INTO webhook.replayed_events (replay_id, event_id) VALUES (:replayId, :eventId)
                ON CONFLICT DO NOTHING
                RETURNING event_id)
            INSERT INTO webhook.retries (event_id, event_type, target_kind, target_id, endpoint, method, request_id,
                account_id, payload, tries, replay, next_attempt_at, traceparent)
            SELECT event_id, :eventType, :kind, :targetId, :endpoint, :method, :requestId, :accountId, :payload, 0,
                   true, :nextAt, :traceparent
              FROM marked""";
    private static final String RESCHEDULE = """
            UPDATE webhook.retries SET tries = :tries, next_attempt_at = :nextAt, lease_until = NULL
             WHERE id = :id AND lease_until = :lease""";
    private static final String REMOVE = "DELETE FROM webhook.retries WHERE id = :id AND lease_until = :lease";
    /**
     * The most due rows a claim ranks, the oldest: what bounds a claim's cost (a few microseconds a row, where the
     * claim in due order alone stopped after its limit) however large the backlog. Rows of held targets, and of
     * endpoints and accounts with their limit in flight, are passed over before they count, so a backlog that waits for
     * its own endpoint's tries to end does not fill it.
     */
    static final int CANDIDATES = 50_000;
    /**
     * Of a row {@code c}: held ({@link HeldTargets.Held}, bound by {@link #bindHeld}): every row of a held account, a
     * webhook's (no URL) by its id, a hook's by its account and endpoint.
     */
    private static final String HELD = """
            (c.account_id = ANY(:heldAccounts)
                 OR c.url IS NULL AND c.target_id = ANY(:heldWebhooks)
                 OR c.url IS NOT NULL AND EXISTS (
                     SELECT 1 FROM unnest(CAST(:heldHookAccounts AS text[]), CAST(:heldHookEndpoints AS text[]))
                                   AS h(account_id, endpoint)
                      WHERE h.account_id = c.account_id AND h.endpoint = c.endpoint))""";
    /**
     * The due rows, taken in turn: a row's turn over its account is the account's tries it would make in flight (the
     * poller's own, {@link RetriesInFlight}), and the account's rows take their turns over its endpoints the same way
     * (a webhook's row goes by its URL's endpoint as it was when stored, or by its id when that was not known; see
     * {@link RetriesInFlight#endpointOf}). So every account with nothing in flight has its first row taken before any
     * account has a second, and by due time within a turn. Taken in due order alone, the backlog of a few accounts to
     * endpoints that are healthy but slow took every slot of the poller, claim after claim, while other accounts' due
     * rows waited behind it. No row is taken past its endpoint's or account's concurrency limit
     * ({@code :perEndpoint}, {@code :perAccount}): it would only be refused. The rows ranked are the oldest
     * {@link #CANDIDATES} found through {@code retries_due}; their partitions compare bytes ({@code COLLATE "C"}: only
     * equality matters there, and a locale's comparison costs more).
     *
     * <p>Rows of held targets are passed over: every row of a held account, a webhook's (no URL) by its id, a hook's
     * by its account and endpoint, so that however many URLs a hook endpoint has (one per call, say) none of the
     * account's rows is claimed while it refuses the account's tries, and another account's rows for the same endpoint
     * are claimed all the same.
     *
     * <p>A window function cannot sit at the level of {@code FOR UPDATE}: the rows are chosen first, in a {@code WITH}
     * query of their own ({@code chosen}), then locked ({@code due}, {@code FOR UPDATE SKIP LOCKED}), each chosen once
     * ({@code MATERIALIZED}). The due set must be chosen once: as an {@code IN} subquery the planner may run it again
     * per joined row, and with {@code SKIP LOCKED} each run can pick other rows, claiming more than {@code :limit}. A
     * row another poller claimed after this statement began is checked again as it is locked, and skipped.
     */
    private static final String CLAIM = """
            WITH due_rows AS (
                SELECT c.id, c.account_id, c.next_attempt_at, l.endpoint
                  FROM webhook.retries c
                 CROSS JOIN LATERAL (SELECT coalesce(c.endpoint, CASE WHEN c.url IS NULL
                                                 THEN CAST(:webhook AS text) || c.target_id ELSE c.url END)
                                            AS endpoint) l
                 WHERE c.next_attempt_at <= now() AND (c.lease_until IS NULL OR c.lease_until < now())
                   AND (c.order_key IS NULL OR c.hold_until IS NULL OR c.hold_until <= now()
                        OR NOT EXISTS (SELECT 1 FROM webhook.retries e WHERE e.order_key = c.order_key AND e.id < c.id))
                   AND NOT %s AND c.account_id <> ALL(:fullAccounts)
                   AND (c.account_id, l.endpoint) NOT IN (
                           SELECT * FROM unnest(CAST(:fullEndpointAccounts AS text[]), CAST(:fullEndpoints AS text[])))
                 ORDER BY c.next_attempt_at
                 LIMIT :candidates),
            by_endpoint AS (
                SELECT d.id, d.account_id, d.endpoint, d.next_attempt_at, row_number() OVER (
                           PARTITION BY d.account_id COLLATE "C", d.endpoint COLLATE "C"
                           ORDER BY d.next_attempt_at, d.id) AS turn
                  FROM due_rows d),
            endpoint_turns AS (
                SELECT b.id, b.account_id, b.next_attempt_at, b.turn + coalesce(f.tries, 0) AS turn
                  FROM by_endpoint b
                  LEFT JOIN unnest(CAST(:endpointAccounts AS text[]), CAST(:endpoints AS text[]),
                                   CAST(:endpointTries AS integer[])) AS f(account_id, endpoint, tries)
                         ON f.account_id = b.account_id AND f.endpoint = b.endpoint
                 WHERE b.turn <= :perEndpoint AND b.turn + coalesce(f.tries, 0) <= :perEndpoint),
            by_account AS (
                SELECT e.id, e.account_id, e.next_attempt_at, row_number() OVER (
                           PARTITION BY e.account_id COLLATE "C" ORDER BY e.turn, e.next_attempt_at, e.id) AS turn
                  FROM endpoint_turns e),
            chosen AS MATERIALIZED (
                SELECT b.id
                  FROM by_account b
                  LEFT JOIN unnest(CAST(:accounts AS text[]), CAST(:accountTries AS integer[])) AS f(account_id, tries)
                         ON f.account_id = b.account_id
                 WHERE b.turn <= :perAccount AND b.turn + coalesce(f.tries, 0) <= :perAccount
                 ORDER BY b.turn + coalesce(f.tries, 0), b.next_attempt_at, b.id
                 LIMIT :limit),
            due AS MATERIALIZED (
                SELECT r.id FROM webhook.retries r
                 WHERE r.id IN (SELECT id FROM chosen)
                   AND r.next_attempt_at <= now() AND (r.lease_until IS NULL OR r.lease_until < now())
                 FOR UPDATE SKIP LOCKED)
            UPDATE webhook.retries r SET lease_until = now() + make_interval(secs => :leaseSeconds)
              FROM due
             WHERE r.id = due.id
            RETURNING r.*""".formatted(HELD);
    /**
     * The rows of held targets and accounts, as {@link #CLAIM} passes them over, stored before {@code :storedBefore},
     * the oldest first ({@code retries_stored}), locked and leased as a claim's are, whether due or not: a row its
     * endpoint refused waits for the circuit's trial, an open period, and one past the span is given up at its next
     * refusal whenever that comes.
     */
    private static final String CLAIM_HELD_STORED_BEFORE = """
            WITH due AS MATERIALIZED (
                SELECT c.id FROM webhook.retries c
                 WHERE c.created_at < :storedBefore AND (c.lease_until IS NULL OR c.lease_until < now()) AND %s
                 ORDER BY c.created_at
                 LIMIT :limit
                 FOR UPDATE SKIP LOCKED)
            UPDATE webhook.retries r SET lease_until = now() + make_interval(secs => :leaseSeconds)
              FROM due
             WHERE r.id = due.id
            RETURNING r.*""".formatted(HELD);
    /** A delivery never stored (a first try) goes to the dead letters straight away. */
    private static final String DEAD_LETTER = """
            INSERT INTO webhook.dead_letters (event_id, event_type, target_kind, target_id, account_id, request_id,
                tries, reason, payload)
            SELECT :eventId, :eventType, :kind, :targetId, :accountId, :requestId, :tries, :reason, :payload
             WHERE NOT EXISTS (SELECT 1 FROM webhook.dead_letters
                                WHERE target_id = :targetId AND event_id = :eventId AND target_kind = :kind
                                  AND tries = :tries)""";
    /** A claimed one moves there in one statement, if its row still carries the claim's lease. */
    private static final String DEAD_LETTER_CLAIMED = """
            WITH removed AS (DELETE FROM webhook.retries WHERE id = :id AND lease_until = :lease RETURNING id)
            INSERT INTO webhook.dead_letters (event_id, event_type, target_kind, target_id, account_id, request_id,
                tries, reason, payload)
            SELECT :eventId, :eventType, :kind, :targetId, :accountId, :requestId, :tries, :reason, :payload
              FROM removed""";

    private final DatabaseClient database;
    private final TransactionalOperator transactions;
    private final DeliveryMetrics metrics;

    RetryStore(DatabaseClient database, TransactionalOperator transactions, DeliveryMetrics metrics) {
        this.database = database;
        this.transactions = transactions;
        this.metrics = metrics;
    }

    /**
     * Stores a delivery due at {@code nextAt}, or moves a stored one there; {@code tries} are the tries made. A new
     * delivery of an event to a target that already waits in the table (its event handled twice) is not stored again.
     * A new one stored with a {@code hold} waits behind the earlier rows of its order key for that long past the
     * latest of their first tries still to come, or past {@code nextAt} if that is later; null, it waits behind none.
     * Counted from {@code nextAt} alone, the hold of a call's event stored behind one that waits for its first try
     * (its webhook not known yet, due after the ordering wait) would end as that one comes due: both would be claimed
     * together, the later ranked first (due first), or the later would go while the earlier's try is in flight.
     */
    Mono<Void> save(DeliveryTask task, int tries, Instant nextAt, Duration hold) {
        if (task.stored()) {
            return claimed(task, "rescheduled", database.sql(RESCHEDULE).bind("tries", tries).bind("nextAt", nextAt));
        }
        return inserted(task, tries, nextAt, hold).timeout(STATEMENT_TIMEOUT);
    }

    private Mono<Void> inserted(DeliveryTask task, int tries, Instant nextAt, Duration hold) {
        Target target = task.target();
        return database.sql(INSERT)
                .bind("eventId", task.eventId())
                .bind("eventType", task.eventType())
                .bind("kind", target.kind().name())
                .bind("targetId", target.id())
                .bind("url", Parameter.fromOrEmpty(target.kind().isWebhook() ? null : target.url(), String.class))
                .bind("endpoint", Parameter.fromOrEmpty(task.endpointToStore(), String.class))
                .bind("method", Parameter.fromOrEmpty(target.method(), String.class))
                .bind("requestId", Parameter.fromOrEmpty(task.requestId(), String.class))
                .bind("accountId", task.accountId())
                .bind("payload", task.payload())
                .bind("tries", tries)
                .bind("orderKey", Parameter.fromOrEmpty(task.orderKey(), String.class))
                .bind("holdSeconds", Parameter.fromOrEmpty(hold == null ? null : hold.toNanos() / 1e9, Double.class))
                .bind("replay", task.replay())
                .bind("nextAt", nextAt)
                .bind("traceparent", Parameter.fromOrEmpty(task.traceparent(), String.class))
                .then();
    }

    /**
     * Queues a page of a replay's deliveries, due at {@code nextAt}, all or none, and each at most once per replay: a
     * delivery whose event the replay has already queued (its request handled again) is not queued twice. A failure
     * part-way leaves no row behind. Completes with how many were queued; fails when one of its statements has no
     * answer within {@link #STATEMENT_TIMEOUT}, and when the page as a whole takes that long for each of its
     * statements and its transaction's begin and end: those go over the same connection as its statements, and a
     * rollback on a connection that hangs would hang as well. A page of many rows on a slow server still finishes.
     */
    Mono<Long> queueReplay(String replayId, List<DeliveryTask> tasks, Instant nextAt) {
        if (tasks.isEmpty()) {
            return Mono.just(0L);
        }
        return Flux.fromIterable(tasks)
                .concatMap(task -> queueReplay(replayId, task, nextAt).timeout(STATEMENT_TIMEOUT))
                .reduce(0L, Long::sum)
                .as(transactions::transactional)
                .timeout(STATEMENT_TIMEOUT.multipliedBy(tasks.size() + 2L));
    }

    private Mono<Long> queueReplay(String replayId, DeliveryTask task, Instant nextAt) {
        return database.sql(QUEUE_REPLAY)
                .bind("replayId", replayId)
                .bind("eventId", task.eventId())
                .bind("eventType", task.eventType())
                .bind("kind", task.target().kind().name())
                .bind("targetId", task.target().id())
                .bind("endpoint", Parameter.fromOrEmpty(task.endpointToStore(), String.class))
                .bind("method", Parameter.fromOrEmpty(task.target().method(), String.class))
                .bind("requestId", Parameter.fromOrEmpty(task.requestId(), String.class))
                .bind("accountId", task.accountId())
                .bind("payload", task.payload())
                .bind("nextAt", nextAt)
                .bind("traceparent", Parameter.fromOrEmpty(task.traceparent(), String.class))
                .fetch()
                .rowsUpdated();
    }

    /**
     * Claims up to {@code limit} due rows for {@code lease}, accounts and their endpoints in turn, none of a held
     * target or account and none beyond the {@code room} of its endpoint or account; another instance cannot claim
     * them meanwhile.
     */
    @Override
    public Flux<DeliveryTask> claim(int limit, Duration lease, HeldTargets.Held held, RetriesInFlight.Room room) {
        return bindHeld(database.sql(CLAIM), held)
                .bind("leaseSeconds", lease.toMillis() / 1000.0)
                .bind("limit", limit)
                .bind("candidates", CANDIDATES)
                .bind("webhook", RetriesInFlight.WEBHOOK)
                .bind("perEndpoint", room.perEndpoint())
                .bind("perAccount", room.perAccount())
                .bind("endpointAccounts", room.endpointAccounts())
                .bind("endpoints", room.endpoints())
                .bind("endpointTries", room.endpointTries())
                .bind("accounts", room.accounts())
                .bind("accountTries", room.accountTries())
                .bind("fullAccounts", room.fullAccounts())
                .bind("fullEndpointAccounts", room.fullEndpointAccounts())
                .bind("fullEndpoints", room.fullEndpoints())
                .map(RetryStore::task)
                .all()
                // Handed on only once the claim committed: PostgreSQL sends the first rows of a large result before
                // the statement's implicit transaction commits, and a try that wrote its outcome then (a refusal
                // takes milliseconds) would match the row as it was before the claim, find its lease not there, and
                // leave the row leased for a whole lease. The result completes after the commit.
                .collectList()
                .flatMapIterable(tasks -> tasks);
    }

    /**
     * Claims up to {@code limit} rows of the {@code held} targets and accounts stored before {@code storedBefore},
     * the oldest first, for {@code lease}: those that have waited past the retry schedule's span, for the poller to
     * give up. Handed on once the claim committed, as {@link #claim}'s.
     */
    @Override
    public Flux<DeliveryTask> claimHeldStoredBefore(Instant storedBefore, int limit, Duration lease,
                                                    HeldTargets.Held held) {
        return bindHeld(database.sql(CLAIM_HELD_STORED_BEFORE), held)
                .bind("storedBefore", storedBefore)
                .bind("limit", limit)
                .bind("leaseSeconds", lease.toMillis() / 1000.0)
                .map(RetryStore::task)
                .all()
                .collectList()
                .flatMapIterable(tasks -> tasks);
    }

    /** Binds the held targets and accounts {@link #HELD} names. */
    private static DatabaseClient.GenericExecuteSpec bindHeld(DatabaseClient.GenericExecuteSpec statement,
                                                              HeldTargets.Held held) {
        return statement.bind("heldAccounts", held.accountIds())
                .bind("heldWebhooks", held.webhookIds())
                .bind("heldHookAccounts", held.hookAccounts())
                .bind("heldHookEndpoints", held.hookEndpoints());
    }

    /** Removes a delivered (or dropped) row. */
    Mono<Void> remove(DeliveryTask task) {
        return task.stored() ? claimed(task, "removed", database.sql(REMOVE)) : Mono.empty();
    }

    /** Moves the delivery to the dead letters, in one statement (removing its retry row if it has one). */
    Mono<Void> deadLetter(DeliveryTask task, int tries, Reason reason) {
        DatabaseClient.GenericExecuteSpec spec = database.sql(task.stored() ? DEAD_LETTER_CLAIMED : DEAD_LETTER)
                .bind("eventId", task.eventId())
                .bind("eventType", task.eventType())
                .bind("kind", task.target().kind().name())
                .bind("targetId", task.target().id())
                .bind("accountId", task.accountId())
                .bind("requestId", Parameter.fromOrEmpty(task.requestId(), String.class))
                .bind("tries", tries)
                .bind("reason", reason.tag())
                .bind("payload", task.payload());
        return task.stored() ? claimed(task, "dead-lettered", spec) : spec.then().timeout(STATEMENT_TIMEOUT);
    }

    /** Writes a claimed row's outcome if the row still carries the claim's lease; says so if it did not. */
    private Mono<Void> claimed(DeliveryTask task, String outcome, DatabaseClient.GenericExecuteSpec statement) {
        return statement.bind("id", task.id())
                .bind("lease", Parameter.fromOrEmpty(task.lease(), Instant.class))
                .fetch()
                .rowsUpdated()
                .timeout(STATEMENT_TIMEOUT)
                .doOnNext(written -> {
                    if (written == 0) {
                        leaseLost(task, outcome);
                    }
                })
                .then();
    }

    private void leaseLost(DeliveryTask task, String outcome) {
        metrics.leaseLost();
        log.warn("retry of event {} to {} {} outlived its lease (until {}) and its row was claimed again: not {} "
                        + "here, the newer claim settles it", task.eventId(), task.target().kind().tag(),
                task.target().id(), task.lease(), outcome);
    }

    /** Where a first delivery stands against the table. */
    enum Waiting {
        /** Nothing of it or before it waits: it can be tried. */
        NONE,
        /** An earlier delivery with its order key still waits to be retried: it must wait behind it. */
        BEHIND,
        /** This very delivery waits already (its event is being handled a second time). */
        STORED
    }

    /** Whether this first delivery, or an earlier one with its order key, waits in the table. */
    Mono<Waiting> waiting(DeliveryTask task) {
        Target target = task.target();
        return database.sql(WAITING)
                .bind("eventId", task.eventId())
                .bind("kind", target.kind().name())
                .bind("targetId", target.id())
                .bind("url", target.kind().isWebhook() || target.url() == null ? "" : target.url())
                .bind("orderKey", Parameter.fromOrEmpty(task.orderKey(), String.class))
                .map(row -> Boolean.TRUE.equals(row.get("stored", Boolean.class)) ? Waiting.STORED
                        : Boolean.TRUE.equals(row.get("pending", Boolean.class)) ? Waiting.BEHIND : Waiting.NONE)
                .one()
                .timeout(STATEMENT_TIMEOUT);
    }

    /** Rows waiting in the retry table. */
    @Override
    public Mono<Long> pending() {
        return database.sql("SELECT count(*) AS n FROM webhook.retries").map(row -> row.get("n", Long.class)).one();
    }

    /** Deletes dead letters older than {@code before}. */
    Mono<Long> purgeDeadLetters(Instant before) {
        return database.sql("DELETE FROM webhook.dead_letters WHERE dead_at < :before").bind("before", before)
                .fetch().rowsUpdated();
    }

    /** Deletes the marks of events replays queued before {@code before}. */
    Mono<Long> purgeReplayMarks(Instant before) {
        return database.sql("DELETE FROM webhook.replayed_events WHERE queued_at < :before").bind("before", before)
                .fetch().rowsUpdated();
    }

    private static DeliveryTask task(Readable row) {
        Target.Kind kind = Target.Kind.valueOf(row.get("target_kind", String.class));
        Target target = new Target(kind, row.get("target_id", String.class), row.get("url", String.class),
                row.get("method", String.class), null);
        return new DeliveryTask(row.get("id", Long.class), row.get("event_id", String.class),
                row.get("event_type", String.class), target, row.get("request_id", String.class),
                row.get("account_id", String.class), bytes(row.get("payload")), row.get("tries", Integer.class),
                row.get("order_key", String.class), Boolean.TRUE.equals(row.get("replay", Boolean.class)),
                row.get("lease_until", Instant.class), row.get("created_at", Instant.class),
                row.get("traceparent", String.class), row.get("endpoint", String.class));
    }

    private static byte[] bytes(Object value) {
        if (value instanceof java.nio.ByteBuffer buffer) {
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        }
        return (byte[]) value;
    }
}
