package dev.dialer.api.calls;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.r2dbc.spi.R2dbcException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.DatabaseClient.GenericExecuteSpec;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * What other features need from the calls read model: recording the calls the API itself accepted (so a call just
 * sent is found before its first event arrives), a call's state for cancel, whether a campaign exists, and the
 * callee history behind the per-callee cap.
 */
@Component
public class CallLedger implements AcceptedCalls {

    /** Applied event ids forgotten by one statement of {@link #pruneApplied}. */
    public static final int PRUNE_BATCH = 10_000;

    /** The window of the per-callee cap. */
    public static final Duration CAP_WINDOW = Duration.ofHours(24);

    private static final String UNIQUE_VIOLATION = "23505";
    /**
     * How long one accept-time statement (a group of requests' {@code queued} rows, or of recorded sends) may take
     * before its requests are told their rows were not written, as for any failed statement: they are answered as the
     * rows' failure is (decision 0060), and the writer is free for the next ones.
     */
    static final Duration ACCEPTED_ROWS_LIMIT = Duration.ofSeconds(10);

    private final DatabaseClient db;
    private final QueuedRowBatches<QueuedRowBatches.Rows> batches;
    private final QueuedRowBatches<Sent> sends;
    private final Counter conflictRetries;

    /** A send of an account, as {@link #sends} writes it. */
    private record Sent(String accountId, Send send) {
    }

    CallLedger(DatabaseClient db, ReadModelProperties properties, MeterRegistry registry) {
        this.db = db;
        DistributionSummary requestsPerStatement = DistributionSummary
                .builder("dialer.api.accepted.requests_per_statement")
                .description("Send requests whose queued rows one statement wrote (group commit)")
                .register(registry);
        this.conflictRetries = Counter.builder("dialer.api.accepted.conflict_retries")
                .description("Accept-time statements run again with ON CONFLICT after a row already existed")
                .register(registry);
        this.batches = new QueuedRowBatches<>(rows -> insertQueued(rows, true), rows -> rows.calls().size(),
                properties.acceptedWriters(), properties.acceptedRowsPerStatement(), requestsPerStatement::record,
                ACCEPTED_ROWS_LIMIT);
        DistributionSummary sendsPerStatement = DistributionSummary
                .builder("dialer.api.accepted.sends_per_statement")
                .description("Sends that one statement recorded, a row each (group commit)")
                .register(registry);
        this.sends = new QueuedRowBatches<>(this::insertSends, sent -> sent.send().callees().size(),
                properties.acceptedWriters(), properties.acceptedRowsPerStatement(), sendsPerStatement::record,
                ACCEPTED_ROWS_LIMIT);
    }

    /**
     * A call the API accepted.
     *
     * @param requestId   its id
     * @param callerId    E.164
     * @param callee      E.164
     * @param campaign    or null
     * @param foreignId   or null
     * @param maxAttempts attempts it may use
     */
    public record Accepted(String requestId, String callerId, String callee, String campaign, String foreignId,
                           int maxAttempts) {

        /** Whether this call's row shares its caller ID, campaign and attempts with {@code other}'s. */
        boolean sharesGroupWith(Accepted other) {
            return callerId.equals(other.callerId) && Objects.equals(campaign, other.campaign)
                    && maxAttempts == other.maxAttempts;
        }
    }

    /** A call's id and its final status, null while it is not final. */
    public record State(String requestId, String status, String finalStatus) {

        public boolean isFinal() {
            return finalStatus != null;
        }
    }

    /**
     * Records accepted calls as {@code queued}, in one statement; a row the events already created is left as it is.
     * Runs inside the caller's transaction when there is one.
     */
    @Override
    public Mono<Void> recordAccepted(String accountId, List<Accepted> calls, Instant createdAt) {
        if (calls.isEmpty()) {
            return Mono.empty();
        }
        return insertQueued(List.of(new QueuedRowBatches.Rows(accountId, calls, createdAt)), false);
    }

    /**
     * As {@link #recordAccepted}, outside any transaction, group-committed with the rows of the requests accepted
     * meanwhile ({@link QueuedRowBatches}): one statement for many concurrent sends.
     */
    @Override
    public Mono<Void> recordAcceptedShared(String accountId, List<Accepted> calls, Instant createdAt) {
        if (calls.isEmpty()) {
            return Mono.empty();
        }
        return batches.record(new QueuedRowBatches.Rows(accountId, calls, createdAt));
    }

    /**
     * One row for the send, not one per call (decision 0086): its calls are read from it (their ids carry the send's
     * and their index) until the events give each a row of its own. Group-committed with the sends accepted meanwhile.
     */
    @Override
    public Mono<Void> recordSent(String accountId, Send send) {
        return sends.record(new Sent(accountId, send));
    }

    /**
     * The sends of several requests in one statement, their callees each as one comma-separated text. A send
     * recorded already (a retry under the same {@code Idempotency-Key}, whose claim gives it the same send id) is
     * left as it is: the first try recorded the same calls.
     */
    private Mono<Void> insertSends(List<Sent> sent) {
        int count = sent.size();
        String[] ids = new String[count];
        String[] accounts = new String[count];
        String[] campaigns = new String[count];
        String[] callers = new String[count];
        Integer[] maxAttempts = new Integer[count];
        OffsetDateTime[] created = new OffsetDateTime[count];
        String[] callees = new String[count];
        for (int i = 0; i < count; i++) {
            Send send = sent.get(i).send();
            ids[i] = send.id().toString();
            accounts[i] = sent.get(i).accountId();
            campaigns[i] = send.campaign();
            callers[i] = send.callerId();
            maxAttempts[i] = send.maxAttempts();
            created[i] = OffsetDateTime.ofInstant(send.createdAt(), ZoneOffset.UTC);
            callees[i] = joined(send.callees());
        }
        return db.sql("""
                        INSERT INTO api.accepted_sends (id, account_id, campaign, caller_id, max_attempts, created_at,
                            callees)
                        SELECT s.id::uuid, s.account_id, s.campaign, s.caller_id, s.max_attempts, s.created_at,
                            s.callees
                        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::timestamptz[],
                            $7::text[]) AS s(id, account_id, campaign, caller_id, max_attempts, created_at, callees)
                        ON CONFLICT (id) DO NOTHING""")
                .bind(0, ids)
                .bind(1, accounts)
                .bind(2, campaigns)
                .bind(3, callers)
                .bind(4, maxAttempts)
                .bind(5, created)
                .bind(6, callees)
                .then();
    }

    /** The callees comma-separated, an empty place for a null (E.164 holds no comma). */
    private static String joined(List<String> callees) {
        StringBuilder joined = new StringBuilder(callees.size() * 14);
        for (int i = 0; i < callees.size(); i++) {
            if (i > 0) {
                joined.append(',');
            }
            if (callees.get(i) != null) {
                joined.append(callees.get(i));
            }
        }
        return joined.toString();
    }

    /**
     * Deletes at most {@code limit} sends whose calls all have a row of their own (the events gave it): they are read
     * from there. Unless {@code retention} is zero, also the sends accepted longer than {@code retention} ago whatever
     * their calls: a call that never had a row of its own by then never will, and the send, kept, would show the calls
     * whose rows {@link #purgeEnded} deleted as queued again. Answers how many. A send still waiting costs the look-up
     * of its first call without a row.
     */
    public Mono<Long> pruneSends(int limit, Duration retention) {
        return db.sql("""
                        DELETE FROM api.accepted_sends WHERE id IN (
                            SELECT s.id FROM api.accepted_sends s
                             WHERE NOT EXISTS (%s)
                                OR (:secs > 0 AND s.created_at < now() - make_interval(secs => :secs))
                             ORDER BY s.id
                             LIMIT :limit
                               FOR UPDATE SKIP LOCKED)""".formatted(SentCall.waiting("")))
                .bind("secs", (double) retention.toSeconds())
                .bind("limit", limit)
                .fetch().rowsUpdated();
    }

    /**
     * {@link #purgeEnded}'s statement. A zero retention deletes nothing. The claims are matched under their own
     * collation (the database's), not {@code api.calls}' {@code "C"}: compared under {@code "C"} they could not be
     * found by their primary key, and every batch would read all of {@code api.foreign_ids}.
     */
    public static final String PURGE_ENDED = """
            WITH ended AS (
                SELECT id, account_id, foreign_id, callee FROM api.calls
                 WHERE :secs > 0 AND final_status IS NOT NULL
                   AND finished_at < now() - make_interval(secs => :secs)
                 ORDER BY finished_at
                 LIMIT :limit
                   FOR UPDATE SKIP LOCKED),
            claims AS (
                DELETE FROM api.foreign_ids f USING ended e
                 WHERE f.account_id = e.account_id COLLATE "default" AND f.foreign_id = e.foreign_id
                   AND f.callee = e.callee AND f.request_id = e.id COLLATE "default")
            DELETE FROM api.calls c USING ended e WHERE c.id = e.id""";

    /**
     * Deletes at most {@code limit} calls that ended longer than {@code retention} ago (PostgreSQL's clock against
     * the final event's time), oldest first, with their attempts (by cascade) and the {@code foreign_id} claim that
     * gave each its id, so the reference may be sent again as a new call (decision 0105). Answers how many calls.
     * A call another statement holds is left for a later batch.
     */
    public Mono<Long> purgeEnded(Duration retention, int limit) {
        return db.sql(PURGE_ENDED)
                .bind("secs", (double) retention.toSeconds())
                .bind("limit", limit)
                .fetch().rowsUpdated();
    }

    /**
     * The rows of several requests (accounts and times of their own) in one statement. What consecutive rows of a
     * request share (account, time, caller ID, campaign, attempts: all of a send's rows) is sent once per group and
     * joined to its rows by the group's position, so a 1,000-row request encodes (and PostgreSQL parses) those
     * columns once, not 1,000 times.
     *
     * @param optimistic first without {@code ON CONFLICT}: an insertion that need not look for a conflicting row first
     *                   costs PostgreSQL less, and a conflict (a row the events created first, a repeated request) is
     *                   rare; when one comes, the statement fails whole and runs again with {@code ON CONFLICT DO
     *                   NOTHING}. Only outside a transaction, which the failed statement would abort.
     */
    private Mono<Void> insertQueued(List<QueuedRowBatches.Rows> requests, boolean optimistic) {
        int size = requests.stream().mapToInt(request -> request.calls().size()).sum();
        String[] ids = new String[size];
        String[] callees = new String[size];
        String[] foreignIds = new String[size];
        Integer[] groupOf = new Integer[size];
        List<String> accounts = new ArrayList<>();
        List<OffsetDateTime> created = new ArrayList<>();
        List<String> callers = new ArrayList<>();
        List<String> campaigns = new ArrayList<>();
        List<Integer> maxAttempts = new ArrayList<>();
        int i = 0;
        for (QueuedRowBatches.Rows request : requests) {
            OffsetDateTime createdAt = OffsetDateTime.ofInstant(request.createdAt(), ZoneOffset.UTC);
            Accepted groupFirst = null;
            for (Accepted call : request.calls()) {
                if (groupFirst == null || !call.sharesGroupWith(groupFirst)) {
                    groupFirst = call;
                    accounts.add(request.accountId());
                    created.add(createdAt);
                    callers.add(call.callerId());
                    campaigns.add(call.campaign());
                    maxAttempts.add(call.maxAttempts());
                }
                ids[i] = call.requestId();
                callees[i] = call.callee();
                foreignIds[i] = call.foreignId();
                groupOf[i] = accounts.size();
                i++;
            }
        }
        String insert = """
                INSERT INTO api.calls (id, account_id, campaign, foreign_id, caller_id, callee, status, max_attempts,
                    created_at, updated_at)
                SELECT c.id, g.account_id, g.campaign, c.foreign_id, g.caller_id, c.callee, 'queued', g.max_attempts,
                    g.created_at, g.created_at
                FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS c(id, callee, foreign_id, grp)
                    JOIN unnest($5::text[], $6::timestamptz[], $7::text[], $8::text[], $9::int[]) WITH ORDINALITY
                        AS g(account_id, created_at, caller_id, campaign, max_attempts, grp) USING (grp)""";
        Function<String, Mono<Void>> run = sql -> db.sql(sql)
                .bind(0, ids)
                .bind(1, callees)
                .bind(2, foreignIds)
                .bind(3, groupOf)
                .bind(4, accounts.toArray(String[]::new))
                .bind(5, created.toArray(OffsetDateTime[]::new))
                .bind(6, callers.toArray(String[]::new))
                .bind(7, campaigns.toArray(String[]::new))
                .bind(8, maxAttempts.toArray(Integer[]::new))
                .then();
        Mono<Void> tolerant = run.apply(insert + "\nON CONFLICT (id) DO NOTHING");
        if (!optimistic) {
            return tolerant;
        }
        return run.apply(insert).onErrorResume(CallLedger::isUniqueViolation, conflict -> {
            conflictRetries.increment();
            return tolerant;
        });
    }

    private static boolean isUniqueViolation(Throwable error) {
        return error instanceof R2dbcException r2dbc && UNIQUE_VIOLATION.equals(r2dbc.getSqlState())
                || error.getCause() instanceof R2dbcException cause && UNIQUE_VIOLATION.equals(cause.getSqlState());
    }

    /**
     * The account's call, empty when it has none of that id (another account's call included). A call of a recorded
     * send that has no row of its own yet is {@code queued}.
     */
    public Mono<State> state(String accountId, String requestId) {
        SentCall sent = SentCall.of(requestId);
        String own = "SELECT id, status, final_status FROM api.calls WHERE id = :id AND account_id = :account";
        GenericExecuteSpec spec = db.sql(sent == null ? own
                        : own + "\nUNION ALL\nSELECT :id, 'queued', NULL" + SentCall.FROM_ITS_SEND)
                .bind("id", requestId)
                .bind("account", accountId);
        if (sent != null) {
            spec = sent.bind(spec);
        }
        return spec.map((row, meta) -> new State(row.get("id", String.class), row.get("status", String.class),
                        row.get("final_status", String.class)))
                .one();
    }

    /** Whether the account has a call in that campaign. */
    public Mono<Boolean> hasCampaign(String accountId, String campaign) {
        return db.sql("""
                        SELECT EXISTS (SELECT 1 FROM api.calls WHERE account_id = :account AND campaign = :campaign)
                            OR EXISTS (SELECT 1 FROM api.accepted_sends
                                        WHERE account_id = :account AND campaign = :campaign) AS found""")
                .bind("account", accountId)
                .bind("campaign", campaign)
                .map((row, meta) -> Boolean.TRUE.equals(row.get("found", Boolean.class)))
                .one()
                .defaultIfEmpty(Boolean.FALSE);
    }

    /**
     * The attempts dialled to each of {@code callees} in the {@link #CAP_WINDOW} before {@code now}, at most the newest
     * {@code cap} of each, newest first, in one query; a callee with none is absent. A callee with {@code cap} of them
     * is free again when the oldest of those leaves the window. Counts attempts the dialer placed, across campaigns,
     * from when they were dialled (their first status after {@code queued}), as the dispatcher counts from when the
     * carrier was asked (decision 0074): not from when they were queued, which may be hours earlier, and not those
     * never dialled (cancelled while they waited, or waiting for a carrier).
     */
    public Mono<Map<String, List<Instant>>> recentDials(String accountId, Collection<String> callees, int cap,
                                                        Instant now) {
        return db.sql("""
                        SELECT callee, dialled_at FROM (
                            SELECT callee, dialled_at,
                                   row_number() OVER (PARTITION BY callee ORDER BY dialled_at DESC) AS newest
                              FROM api.call_attempts
                             WHERE account_id = :account AND callee = ANY(:callees) AND dialled_at > :since) recent
                         WHERE newest <= :cap ORDER BY callee, newest""")
                .bind("account", accountId)
                .bind("callees", callees.toArray(String[]::new))
                .bind("since", OffsetDateTime.ofInstant(now.minus(CAP_WINDOW), ZoneOffset.UTC))
                .bind("cap", cap)
                .map((row, meta) -> Map.entry(row.get("callee", String.class),
                        row.get("dialled_at", OffsetDateTime.class).toInstant()))
                .all()
                .collect(Collectors.groupingBy(Map.Entry::getKey,
                        Collectors.mapping(Map.Entry::getValue, Collectors.toList())));
    }

    /**
     * Forgets applied event ids older than {@code keep}: redeliveries come within the topic's retention. In batches of
     * {@link #PRUNE_BATCH}, each a statement of its own that skips rows another instance's pass holds: at millions of
     * events an hour, one statement held its locks and its write-ahead log for the whole hour's rows, and every
     * instance, pruning on the same tick, waited for the first.
     */
    public Mono<Long> pruneApplied(Duration keep) {
        Mono<Long> batch = Mono.defer(() -> db.sql("""
                        DELETE FROM api.call_events_applied WHERE event_id IN (
                            SELECT event_id FROM api.call_events_applied
                             WHERE applied_at < now() - make_interval(secs => :secs)
                             LIMIT :limit FOR UPDATE SKIP LOCKED)""")
                .bind("secs", (double) keep.toSeconds())
                .bind("limit", PRUNE_BATCH)
                .fetch().rowsUpdated());
        return batch.expand(deleted -> deleted == PRUNE_BATCH ? batch : Mono.empty()).reduce(0L, Long::sum);
    }
}
