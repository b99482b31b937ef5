package dev.dialer.dispatcher.retry;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
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

    private final DatabaseClient db;

    RetrySchedule(DatabaseClient db) {
        this.db = db;
    }

    /**
     * Leases up to {@code batch} rows due by {@code dueBy} that nobody held then (or whose holder's lease had lapsed
     * by then), oldest first, until {@code now} plus {@code lease}. A tick passes its start as {@code dueBy} to each of
     * its claims, so a row it held, or whose lease lapsed while it ran, is not claimed again within it.
     * {@code SKIP LOCKED} lets several dispatchers claim side by side without waiting for each other or taking the
     * same row. The rows are chosen in a {@code WITH} query, which runs once: as an {@code IN} subquery
     * the planner may run it again for each row it joins, and with {@code SKIP LOCKED} each run can pick other rows,
     * so more than {@code batch} were claimed.
     */
    Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, int batch) {
        return db.sql("""
                        WITH due AS (
                            SELECT request_id, attempt_no FROM dispatch.schedule
                             WHERE due_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
                             ORDER BY due_at
                             LIMIT $3
                               FOR UPDATE SKIP LOCKED)
                        UPDATE dispatch.schedule s SET lease_until = $2
                          FROM due
                         WHERE s.request_id = due.request_id AND s.attempt_no = due.attempt_no
                        RETURNING s.command::text, s.attempt_no, s.due_at, s.reason,
                                  COALESCE(s.first_due_at, s.due_at)""")
                .bind(0, dueBy)
                .bind(1, now.plus(lease))
                .bind(2, batch)
                .map(row -> new ScheduledAttempt(
                        Contract.read(row.get(0, String.class).getBytes(StandardCharsets.UTF_8), CallCommand.class),
                        row.get(1, Integer.class),
                        row.get(2, Instant.class),
                        row.get(3, String.class),
                        row.get(4, Instant.class)))
                .all();
    }

    /**
     * Puts a claimed row back, due again at {@code until}: for a row whose call no carrier would take now. It goes
     * behind the rows due before then, which are claimed oldest first: holding it under a short lease instead kept its
     * old due time, so during a long outage of one route its rows, the oldest, filled every claim and starved the
     * waits of every other route. The due time it had before its first hold stays in {@code first_due_at}, which
     * the statements that write a new wait into the row clear: how late the row fires is counted from there.
     */
    Mono<Void> holdUntil(String requestId, int attempt, Instant dueAt, Instant until) {
        return db.sql("""
                        UPDATE dispatch.schedule
                           SET first_due_at = COALESCE(first_due_at, due_at), due_at = $4, lease_until = NULL
                         WHERE request_id = $1 AND attempt_no = $2 AND due_at = $3""")
                .bind(0, requestId)
                .bind(1, attempt)
                .bind(2, dueAt)
                .bind(3, until)
                .then();
    }

    /**
     * Removes a row once its attempt is released (or dropped), unless it was rewritten meanwhile: the released command
     * may already have been made to wait again (a calling window, a paused campaign), which moved {@code due_at}, and
     * that new wait must stay.
     */
    Mono<Void> remove(String requestId, int attempt, Instant dueAt) {
        return db.sql("DELETE FROM dispatch.schedule WHERE request_id = $1 AND attempt_no = $2 AND due_at = $3")
                .bind(0, requestId)
                .bind(1, attempt)
                .bind(2, dueAt)
                .then();
    }
}
