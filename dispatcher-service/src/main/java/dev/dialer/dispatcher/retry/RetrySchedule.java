package dev.dialer.dispatcher.retry;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@code dispatch.schedule}: attempts waiting to be made. Rows are written by
 * {@link dev.dialer.dispatcher.attempt.AttemptLedger#transitionAndSchedule} together with the attempt that ended;
 * this class claims and removes them.
 *
 * <p>Times are compared with the instant the caller passes (the dispatcher's {@link java.time.Clock}, the same one
 * that computed {@code due_at}) rather than the database's {@code now()}, so a clock difference between the two can
 * never make a retry early.
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
     * Leases up to {@code batch} rows due by {@code dueBy} that nobody held then (or whose holder's lease had lapsed
     * by then), oldest first (by due time, then request id and attempt), until {@code now} plus {@code lease}. A tick
     * passes its start as {@code dueBy} to each of its claims, so a row it held, or whose lease lapsed while it ran, is
     * not claimed again within it; and each claim after its first passes the last row the one before took as
     * {@code after}, so it starts where that one ended instead of stepping again over the rows the tick has fired
     * (deleted, but still in the index until vacuum, each visited with its table row: a tick's later claims cost more
     * and more). {@code SKIP LOCKED} lets several dispatchers claim side by side without waiting for each other or
     * taking the same row. The rows are chosen in a {@code WITH} query, which runs once: as an {@code IN} subquery
     * the planner may run it again for each row it joins, and with {@code SKIP LOCKED} each run can pick other rows,
     * so more than {@code batch} were claimed.
     *
     * @param after the row the tick's previous claim took last ({@link #lastInOrder}), or null for a tick's first
     */
    Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, int batch, ScheduledAttempt after) {
        DatabaseClient.GenericExecuteSpec claim = db.sql("""
                        WITH due AS (
                            SELECT request_id, attempt_no FROM dispatch.schedule
                             WHERE due_at <= $1 AND (lease_until IS NULL OR lease_until < $1)%s
                             ORDER BY due_at, request_id COLLATE "C", attempt_no
                             LIMIT $3
                               FOR UPDATE SKIP LOCKED)
                        UPDATE dispatch.schedule s SET lease_until = $2
                          FROM due
                         WHERE s.request_id = due.request_id AND s.attempt_no = due.attempt_no
                        RETURNING s.command::text, s.attempt_no, s.due_at, s.reason,
                                  COALESCE(s.first_due_at, s.due_at),
                                  (SELECT r.traceparent FROM dispatch.requests r WHERE r.request_id = s.request_id),
                                  s.lease_until"""
                        .formatted(after == null ? ""
                        : "\n                               AND (due_at, request_id COLLATE \"C\", attempt_no) > ($4, $5, $6)"))
                .bind(0, dueBy)
                .bind(1, now.plus(lease))
                .bind(2, batch);
        if (after != null) {
            claim = claim.bind(3, after.dueAt()).bind(4, after.command().requestId()).bind(5, after.attempt());
        }
        return claim
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

    /** The row of {@code claimed} that comes last in the order {@link #claimDue} claims in; null when none. */
    static ScheduledAttempt lastInOrder(List<ScheduledAttempt> claimed) {
        return claimed.stream().max(CLAIM_ORDER).orElse(null);
    }

    /**
     * The order of {@link #claimDue}: due time, request id, attempt. The statement compares request ids byte by byte
     * ({@code COLLATE "C"}, as its index does), as {@link String#compareTo} compares ids of ASCII characters. Were the
     * two ever to disagree, a claim would only start a little early: the rows before its start that it meets are held
     * under the tick's lease or gone.
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
        return db.sql("""
                        UPDATE dispatch.schedule
                           SET first_due_at = COALESCE(first_due_at, due_at), due_at = $4, lease_until = NULL
                         WHERE request_id = $1 AND attempt_no = $2 AND lease_until = $3""")
                .bind(0, row.command().requestId())
                .bind(1, row.attempt())
                .bind(2, row.leaseUntil())
                .bind(3, until)
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
        return db.sql("""
                        DELETE FROM dispatch.schedule s
                         USING unnest($1::text[], $2::int[], $3::text[]) AS t(r, n, l)
                         WHERE s.request_id = t.r AND s.attempt_no = t.n AND s.lease_until = t.l::timestamptz""")
                .bind(0, rows.stream().map(row -> row.command().requestId()).toArray(String[]::new))
                .bind(1, rows.stream().map(ScheduledAttempt::attempt).toArray(Integer[]::new))
                .bind(2, rows.stream().map(row -> row.leaseUntil() == null ? null : row.leaseUntil().toString())
                        .toArray(String[]::new))
                .then();
    }
}
