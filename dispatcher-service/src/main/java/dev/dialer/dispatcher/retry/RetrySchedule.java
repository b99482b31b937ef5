package dev.dialer.dispatcher.retry;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@code dispatch.schedule}: attempts waiting to be made. Rows are written by
 * {@link dev.dialer.dispatcher.attempt.AttemptLedger#transitionAndSchedule} together with the attempt that ended;
 * this class claims and removes them.
 *
 * <p>Times are compared with the instant the caller passes (the dispatcher's {@link java.time.Clock}, the kind that
 * computed {@code due_at}) rather than the database's {@code now()}, so a clock difference between a dispatcher and
 * the database can never make a retry early. Any dispatcher may claim a row another computed: dispatchers are expected
 * to keep their clocks in step (NTP), since one whose clock runs ahead by some amount fires the rows it claims up to
 * that much early.
 */
@Component
class RetrySchedule {

    /**
     * Why a row waits: every reason the table's check constraint allows, a retry, a capacity requeue, a record its
     * lane parked, a calling window, a paused campaign, the callee's cap. The metrics about rows are tagged with it.
     */
    static final List<String> REASONS = List.of("retry", "capacity", "parked", "window", "paused", "cap");

    private final DatabaseClient db;

    RetrySchedule(DatabaseClient db) {
        this.db = db;
    }

    /**
     * The accounts with rows due by {@code dueBy}, in turn: those after {@code after} by id (byte by byte), then from
     * the first; at most {@code most}. One index entry is read per account in the schedule, due or not (its first
     * row by due time), until {@code most} were found due; none at all when no row is due. Rows leased by a claim are
     * not told apart here: an account whose first row is held may be named and have nothing left to claim.
     *
     * @param after the last account the previous tick served ({@code ""} to start from the first)
     */
    Mono<List<String>> dueAccounts(Instant dueBy, String after, int most) {
        // The second pass (from the first account round to the one served last) has its own arm, so that its bound
        // ends the index scan: as a filter, the last probe read every entry after it.
        return db.sql("""
                        WITH RECURSIVE walk (account_id, first_due, pass, found) AS (
                            (SELECT n.account_id, n.due_at, n.pass, (n.due_at <= $1)::int FROM (
                                (SELECT account_id, due_at, 1 AS pass FROM dispatch.schedule
                                  WHERE account_id > $2 ORDER BY account_id, due_at LIMIT 1)
                                UNION ALL
                                (SELECT account_id, due_at, 2 FROM dispatch.schedule
                                  WHERE account_id <= $2 ORDER BY account_id, due_at LIMIT 1)
                                LIMIT 1) n
                              WHERE (SELECT min(due_at) FROM dispatch.schedule) <= $1)
                            UNION ALL
                            SELECT n.account_id, n.due_at, n.pass, w.found + (n.due_at <= $1)::int
                              FROM walk w CROSS JOIN LATERAL (
                                (SELECT account_id, due_at, 1 AS pass FROM dispatch.schedule
                                  WHERE w.pass = 1 AND account_id > w.account_id
                                  ORDER BY account_id, due_at LIMIT 1)
                                UNION ALL
                                (SELECT account_id, due_at, 2 FROM dispatch.schedule
                                  WHERE w.pass = 1 AND account_id <= $2 ORDER BY account_id, due_at LIMIT 1)
                                UNION ALL
                                (SELECT account_id, due_at, 2 FROM dispatch.schedule
                                  WHERE w.pass = 2 AND account_id > w.account_id AND account_id <= $2
                                  ORDER BY account_id, due_at LIMIT 1)
                                LIMIT 1) n
                             WHERE w.found < $3)
                        SELECT account_id FROM walk WHERE first_due <= $1 ORDER BY pass, account_id LIMIT $3""")
                .bind(0, dueBy)
                .bind(1, after)
                .bind(2, most)
                .map(row -> row.get(0, String.class))
                .all()
                .collectList();
    }

    /**
     * Leases, of each account's rows due by {@code dueBy} that nobody held then (or whose holder's lease had lapsed
     * by then), up to its share, oldest first (by due time, then request id and attempt), until {@code now} plus
     * {@code lease}, starting after the row its share names, if any. A tick passes its start as {@code dueBy} to each
     * of its claims, so a row it held, or whose lease lapsed while it ran, is not claimed again within it; and an
     * account's share in a claim after its first starts after the last row the one before took for it, instead of
     * stepping again over the rows the tick has fired (deleted, but still in the index until vacuum, each visited with
     * its table row: a tick's later claims cost more and more, decision 0088). {@code SKIP LOCKED} lets several
     * dispatchers claim side by side without waiting for each other or taking the same row (a row another holds
     * locked does not count against the share). The rows are chosen in a {@code WITH} query, which runs once: as an
     * {@code IN} subquery the planner may run it again for each row it joins, and with {@code SKIP LOCKED} each run
     * can pick other rows, so more than the shares were claimed.
     */
    Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, List<Share> shares) {
        return db.sql("""
                        WITH share AS MATERIALIZED (
                            SELECT t.account_id COLLATE "C" AS account_id, t.most,
                                   COALESCE(t.due::timestamptz, '-infinity') AS due_at,
                                   COALESCE(t.request_id, '') COLLATE "C" AS request_id,
                                   COALESCE(t.attempt_no, -1) AS attempt_no
                              FROM unnest($3::text[], $4::int[], $5::text[], $6::text[], $7::int[])
                                   AS t(account_id, most, due, request_id, attempt_no)),
                        due AS MATERIALIZED (
                            SELECT p.request_id, p.attempt_no FROM share t CROSS JOIN LATERAL (
                                SELECT s.request_id, s.attempt_no FROM dispatch.schedule s
                                 WHERE s.account_id = t.account_id
                                   AND (s.account_id, s.due_at, s.request_id COLLATE "C", s.attempt_no)
                                       > (t.account_id, t.due_at, t.request_id, t.attempt_no)
                                   AND s.due_at <= $1 AND (s.lease_until IS NULL OR s.lease_until < $1)
                                 ORDER BY s.due_at, s.request_id COLLATE "C", s.attempt_no
                                 LIMIT t.most
                                   FOR UPDATE OF s SKIP LOCKED) p)
                        UPDATE dispatch.schedule s SET lease_until = $2
                          FROM due
                         WHERE s.request_id = due.request_id AND s.attempt_no = due.attempt_no
                        RETURNING s.command::text, s.attempt_no, s.due_at, s.reason,
                                  COALESCE(s.first_due_at, s.due_at),
                                  (SELECT r.traceparent FROM dispatch.requests r WHERE r.request_id = s.request_id),
                                  s.lease_until""")
                .bind(0, dueBy)
                .bind(1, now.plus(lease))
                .bind(2, shares.stream().map(Share::accountId).toArray(String[]::new))
                .bind(3, shares.stream().map(Share::most).toArray(Integer[]::new))
                .bind(4, shares.stream().map(share -> share.after() == null ? null : share.after().dueAt().toString())
                        .toArray(String[]::new))
                .bind(5, shares.stream()
                        .map(share -> share.after() == null ? null : share.after().command().requestId())
                        .toArray(String[]::new))
                .bind(6, shares.stream().map(share -> share.after() == null ? null : share.after().attempt())
                        .toArray(Integer[]::new))
                .map(row -> new ScheduledAttempt(
                        Contract.read(row.get(0, String.class).getBytes(StandardCharsets.UTF_8), CallCommand.class),
                        row.get(1, Integer.class),
                        row.get(2, Instant.class),
                        row.get(3, String.class),
                        row.get(4, Instant.class),
                        row.get(5, String.class),
                        row.get(6, Instant.class)))
                .all();
    }

    /**
     * An account's share of a claim.
     *
     * @param accountId the account ({@code ""} for rows whose command names none)
     * @param most      the most of its due rows the claim takes
     * @param after     the last row the tick's claim before took for the account ({@link #lastInOrder}), or null
     */
    record Share(String accountId, int most, ScheduledAttempt after) {

        /** A share starting at the account's first due row. */
        Share(String accountId, int most) {
            this(accountId, most, null);
        }
    }

    /** The row of {@code claimed} that comes last in the order {@link #claimDue} takes an account's rows in. */
    static ScheduledAttempt lastInOrder(List<ScheduledAttempt> claimed) {
        return claimed.stream().max(CLAIM_ORDER).orElse(null);
    }

    /** The account a row belongs to, as the schedule's {@code account_id} column derives it from the command. */
    static String accountOf(ScheduledAttempt row) {
        return row.command().accountId() == null ? "" : row.command().accountId();
    }

    /**
     * The order in which {@link #claimDue} takes an account's rows: due time, request id, attempt (the statement
     * compares request ids byte by byte, {@code COLLATE "C"}, as {@link String#compareTo} compares ids of ASCII
     * characters). The tick fires a caller ID's rows in this order. Were the two orders ever to disagree, an account's
     * share would only start a little early: the rows before its start that it meets are held under the tick's lease
     * or gone.
     */
    static final Comparator<ScheduledAttempt> CLAIM_ORDER = Comparator.comparing(ScheduledAttempt::dueAt)
            .thenComparing(row -> row.command().requestId())
            .thenComparingInt(ScheduledAttempt::attempt);

    /**
     * Puts a claimed row back, due again at {@code until}: for a row whose call no carrier would take now. It goes
     * behind the rows due before then, which are claimed oldest first: holding it under a short lease instead kept its
     * old due time, so during a long outage of one route its rows, the oldest, filled every claim and starved the
     * waits of every other route. The due time it had before its first hold stays in {@code first_due_at}, which
     * the statements that write a new wait into the row clear: how late the row fires is counted from there.
     */
    Mono<Void> holdUntil(ScheduledAttempt row, Instant until) {
        return hold(row, until, "first_due_at = COALESCE(first_due_at, due_at), ");
    }

    /**
     * Puts a claimed row of a call whose campaign is still paused back, due again at {@code until}, as
     * {@link #holdUntil} does, but with the due time it had left as it was: a pause is the customer's wait, not the
     * schedule falling behind, and lateness counted from the first recheck would report the pause's length.
     */
    Mono<Void> holdPaused(ScheduledAttempt row, Instant until) {
        return hold(row, until, "");
    }

    /** Puts the claimed row back, due again at {@code until}, setting {@code firstDueAt} too (a SET item, or none). */
    private Mono<Void> hold(ScheduledAttempt row, Instant until, String firstDueAt) {
        return db.sql("UPDATE dispatch.schedule SET " + firstDueAt + "due_at = $4, lease_until = NULL"
                        + " WHERE request_id = $1 AND attempt_no = $2 AND lease_until = $3")
                .bind(0, row.command().requestId())
                .bind(1, row.attempt())
                .bind(2, row.leaseUntil())
                .bind(3, until)
                .then();
    }

    /**
     * Leases rows a claim took, and left, until the time given for each instead of their claim's lease, each unless it
     * was rewritten meanwhile (matched by the lease its claim set, as {@link #removeAll} matches): the rows left for a
     * stalled partition or a held caller ID are all claimable again together, in due order.
     */
    Mono<Void> leaseUntil(Map<ScheduledAttempt, Instant> rows) {
        if (rows.isEmpty()) {
            return Mono.empty();
        }
        List<Map.Entry<ScheduledAttempt, Instant>> each = List.copyOf(rows.entrySet());
        return claimed(db.sql("""
                        UPDATE dispatch.schedule s SET lease_until = t.u::timestamptz
                          FROM unnest($1::text[], $2::int[], $3::text[], $4::text[]) AS t(r, n, l, u)
                         WHERE s.request_id = t.r AND s.attempt_no = t.n AND s.lease_until = t.l::timestamptz"""),
                        each.stream().map(Map.Entry::getKey).toList())
                .bind(3, each.stream().map(row -> row.getValue().toString()).toArray(String[]::new))
                .then();
    }

    /**
     * Removes rows once their attempts are released (or dropped), in one statement, each unless it was rewritten
     * meanwhile: a released command may already have been made to wait again (a calling window, a paused campaign,
     * the callee's cap), and that new wait must stay. A rewrite clears the lease, so a row is matched by the lease its
     * claim set, not by its due time: the owner's clock a little behind the claimer's, a window released at its
     * opening is deferred again to that very opening, and the rewritten row is due when the claimed one was.
     */
    Mono<Void> removeAll(List<ScheduledAttempt> rows) {
        if (rows.isEmpty()) {
            return Mono.empty();
        }
        return claimed(db.sql("""
                        DELETE FROM dispatch.schedule s
                         USING unnest($1::text[], $2::int[], $3::text[]) AS t(r, n, l)
                         WHERE s.request_id = t.r AND s.attempt_no = t.n AND s.lease_until = t.l::timestamptz"""), rows)
                .then();
    }

    /**
     * {@code statement} with claimed rows bound as its first three parameters, as its claim named them: their request
     * ids, attempts and the leases the claim set (as text, {@code ::timestamptz} in the statement).
     */
    private static DatabaseClient.GenericExecuteSpec claimed(DatabaseClient.GenericExecuteSpec statement,
                                                             List<ScheduledAttempt> rows) {
        return statement
                .bind(0, rows.stream().map(row -> row.command().requestId()).toArray(String[]::new))
                .bind(1, rows.stream().map(ScheduledAttempt::attempt).toArray(Integer[]::new))
                .bind(2, rows.stream().map(row -> row.leaseUntil() == null ? null : row.leaseUntil().toString())
                        .toArray(String[]::new));
    }
}
