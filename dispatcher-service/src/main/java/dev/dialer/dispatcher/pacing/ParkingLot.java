package dev.dialer.dispatcher.pacing;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.trace.TraceParent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Stores a command whose lane is too far behind as a {@code dispatch.schedule} row (reason {@code parked}), so the
 * retry scheduler publishes it again to {@code dialer.call.commands} when its turn comes. Only after the row is
 * committed may the record be acknowledged.
 */
@Component
class ParkingLot {

    /** How long after its last due time a caller ID's row of parked due times is kept. */
    static final Duration FORGOTTEN_AFTER = Duration.ofDays(1);

    /** How long after its request's {@code valid_until} a parked row is due at the latest. */
    static final Duration EXPIRY_MARGIN = Duration.ofSeconds(1);

    private final DatabaseClient db;
    private final Clock clock;

    @Autowired
    ParkingLot(DatabaseClient db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    ParkingLot(DatabaseClient db) {
        this(db, Clock.systemUTC());
    }

    /**
     * Parks each command's attempt until its due time, in three statements whatever the batch's size; request rows are
     * written first (the first command seen for a request wins, as in the ledger), and each caller ID's parked due
     * times last ({@link #parkedLanes}). Parking an attempt whose row is still there moves that row to the new due time
     * if it is a parked row or one the retry scheduler has claimed: it may be the very one the scheduler has just
     * published this command from and is about to delete, and its delete, guarded by the lease its claim set (which
     * the new wait clears), must then leave the new wait alone. Another wait (a retry, a requeue, a calling window)
     * that a copy of the command meets in a full lane stays as it is. A parked row not claimed is never moved later: it
     * is this very record parked before, read again after a rebalance from the partition's committed offset, which
     * lags the records a lane parked; parked again behind the caller ID's backlog, each such record would take the
     * backlog's last turn, and the whole backlog would wait its own length again before its first call.
     *
     * <p>No row waits past its request's {@code valid_until} (and {@link #EXPIRY_MARGIN}): a request whose place in its
     * caller ID's backlog comes after it then ends {@code expired} on time, not once the backlog reaches it. The caller
     * ID's parked due times are the lane's as it shed them.
     */
    Mono<Void> parkAll(List<Parked> parked) {
        // One row per attempt: a statement may not move the same row twice (copies of a record parked together).
        Map<String, Parked> byAttempt = new LinkedHashMap<>();
        parked.forEach(p -> byAttempt.put(p.command().requestId() + "#" + p.command().attempt(), p));
        List<Parked> batch = List.copyOf(byAttempt.values());
        String[] requestIds = batch.stream().map(p -> p.command().requestId()).toArray(String[]::new);
        String[] callerIds = batch.stream().map(p -> p.command().callerId()).toArray(String[]::new);
        String[] dues = batch.stream().map(p -> p.dueAt().toString()).toArray(String[]::new);
        String[] rowDues = batch.stream().map(p -> rowDue(p).toString()).toArray(String[]::new);
        return db.sql("""
                        INSERT INTO dispatch.requests (request_id, account_id, caller_id, command, traceparent)
                        SELECT r, a, c, j::jsonb, p
                          FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(r, a, c, j, p)
                        ON CONFLICT (request_id) DO NOTHING""")
                .bind(0, requestIds)
                .bind(1, batch.stream().map(p -> p.command().accountId()).toArray(String[]::new))
                .bind(2, callerIds)
                .bind(3, batch.stream().map(p -> Contract.toJson(p.command())).toArray(String[]::new))
                .bind(4, batch.stream().map(p -> TraceParent.childOf(p.traceparent())).toArray(String[]::new))
                .then()
                .then(db.sql("""
                                INSERT INTO dispatch.schedule (request_id, attempt_no, due_at, reason, command)
                                SELECT t.r, t.n, t.d::timestamptz, 'parked', q.command
                                  FROM unnest($1::text[], $2::int[], $3::text[]) AS t(r, n, d)
                                  JOIN dispatch.requests q ON q.request_id = t.r
                                ON CONFLICT (request_id, attempt_no) DO UPDATE SET
                                    due_at = CASE WHEN dispatch.schedule.lease_until IS NULL
                                                       AND dispatch.schedule.reason = 'parked'
                                                  THEN least(dispatch.schedule.due_at, EXCLUDED.due_at)
                                                  ELSE EXCLUDED.due_at END,
                                    reason = EXCLUDED.reason, lease_until = NULL, first_due_at = NULL
                                 WHERE dispatch.schedule.reason = 'parked'
                                    OR dispatch.schedule.lease_until IS NOT NULL""")
                        .bind(0, requestIds)
                        .bind(1, batch.stream().map(p -> p.command().attempt()).toArray(Integer[]::new))
                        .bind(2, rowDues)
                        .then())
                .then(Mono.defer(() -> recordLanes(callerIds, dues,
                        batch.stream().map(p -> p.offset() < 0 ? null : p.partition()).toArray(Integer[]::new),
                        batch.stream().map(p -> p.offset() < 0 ? null : p.offset()).toArray(Long[]::new))));
    }

    /**
     * When the parked command's row is due: at its due time, or just after its request's {@code valid_until} when that
     * comes first. Just after, so that the scheduler finds it expired and the dial-time policy ends it so, rather than
     * the lane taking it in a moment before it expires.
     */
    static Instant rowDue(Parked parked) {
        Instant validUntil = parked.command().validUntil();
        if (validUntil == null) {
            return parked.dueAt();
        }
        Instant expired = validUntil.plus(EXPIRY_MARGIN);
        return expired.isBefore(parked.dueAt()) ? expired : parked.dueAt();
    }

    /**
     * Widens each caller ID's row of parked due times to the batch's, and of the offsets its records first arrived at
     * (those that came back from the schedule, or to the front of their lane, have none): what a next owner of the
     * partition tells a record read again by (decision 0168). A row whose last due time has passed starts again from
     * the batch's earliest: its records have come back; so do its offsets then, or when the batch's are of another
     * partition (the topic's partitions counted anew). A caller ID's records are parked by one lane at a time, so two
     * statements never write one row at once.
     */
    private Mono<Void> recordLanes(String[] callerIds, String[] dues, Integer[] partitions, Long[] offsets) {
        return db.sql("""
                        INSERT INTO dispatch.parked_lanes AS l (caller_id, first_due_at, last_due_at, partition_no,
                                                              first_offset, last_offset)
                        SELECT c, min(d::timestamptz), max(d::timestamptz), max(p), min(o), max(o)
                          FROM unnest($1::text[], $2::text[], $4::integer[], $5::bigint[]) AS t(c, d, p, o)
                         GROUP BY c
                        ON CONFLICT (caller_id) DO UPDATE
                           SET first_due_at = CASE WHEN l.last_due_at < $3 THEN EXCLUDED.first_due_at
                                                   ELSE least(l.first_due_at, EXCLUDED.first_due_at) END,
                               last_due_at = greatest(l.last_due_at, EXCLUDED.last_due_at),
                               partition_no = CASE WHEN l.last_due_at < $3 THEN EXCLUDED.partition_no
                                                   ELSE coalesce(EXCLUDED.partition_no, l.partition_no) END,
                               first_offset = CASE WHEN l.last_due_at < $3 THEN EXCLUDED.first_offset
                                                   WHEN EXCLUDED.partition_no IS NULL THEN l.first_offset
                                                   WHEN l.partition_no IS DISTINCT FROM EXCLUDED.partition_no
                                                   THEN EXCLUDED.first_offset
                                                   ELSE least(l.first_offset, EXCLUDED.first_offset) END,
                               last_offset = CASE WHEN l.last_due_at < $3 THEN EXCLUDED.last_offset
                                                  WHEN EXCLUDED.partition_no IS NULL THEN l.last_offset
                                                  WHEN l.partition_no IS DISTINCT FROM EXCLUDED.partition_no
                                                  THEN EXCLUDED.last_offset
                                                  ELSE greatest(l.last_offset, EXCLUDED.last_offset) END""")
                .bind(0, callerIds)
                .bind(1, dues)
                .bind(2, clock.instant())
                .bind(3, partitions)
                .bind(4, offsets)
                .then();
    }

    /**
     * The caller IDs whose parked records may not all have come back by {@code now}: the last one due after
     * {@code since}. Rows a day past their last due time are deleted first.
     */
    Flux<ParkedLane> parkedLanes(Instant since, Instant now) {
        return db.sql("DELETE FROM dispatch.parked_lanes WHERE last_due_at < $1")
                .bind(0, now.minus(FORGOTTEN_AFTER))
                .then()
                .thenMany(db.sql("""
                                SELECT caller_id, first_due_at, last_due_at, partition_no, first_offset, last_offset
                                  FROM dispatch.parked_lanes
                                 WHERE last_due_at > $1""")
                        .bind(0, since)
                        .map(row -> new ParkedLane(row.get(0, String.class), row.get(1, Instant.class),
                                row.get(2, Instant.class), offsets(row.get(3, Integer.class),
                                        row.get(4, Long.class), row.get(5, Long.class))))
                        .all());
    }

    /**
     * Closes the gaps in a caller ID's parked backlog (decision 0154): its rows still to come, from {@code from} on
     * (not claimed by the retry scheduler), in their order, each moved to {@code start} plus its place in that order
     * times {@code step} when that is earlier than its due time, never later. Rows a cancel or a calling window took
     * out leave no wait behind; the order stays, the moved rows being as far apart as the lane's rate keeps its starts.
     * The caller ID's row of parked due times is set to what is left ({@link #parkedLanes}), so a next owner of the
     * partition does not park behind the gaps either; only while it ends no later than {@code handedOut}, the last
     * due time the lane had handed out when it looked: a look that outlasted its lane's patience commits after the
     * lane parked more, and must not lower the row below those.
     *
     * <p>With {@code later}, each row is moved to its place in that order whether that is earlier or later: the lane
     * starts calls more slowly than the rows were spaced for.
     *
     * @return the earliest and last due time of the rows left; empty when none is due after {@code from}
     */
    Mono<Backlog> recount(String callerId, Instant from, Instant start, Duration step, Instant handedOut,
                          boolean later) {
        return db.sql("""
                        WITH waiting AS (
                            SELECT request_id, attempt_no, due_at,
                                   CASE WHEN $6 THEN placed ELSE least(due_at, placed) END AS moved_to
                              FROM (SELECT request_id, attempt_no, due_at,
                                           $3::timestamptz + interval '1 microsecond' * $4::bigint * (row_number()
                                               OVER (ORDER BY due_at, request_id COLLATE "C", attempt_no) - 1) AS placed
                                      FROM dispatch.schedule
                                     WHERE (command ->> 'caller_id') = $1 AND reason = 'parked'
                                       AND lease_until IS NULL AND due_at > $2) ranked),
                        moved AS (
                            UPDATE dispatch.schedule s SET due_at = w.moved_to
                              FROM waiting w
                             WHERE s.request_id = w.request_id AND s.attempt_no = w.attempt_no
                               AND w.moved_to <> w.due_at AND s.reason = 'parked' AND s.lease_until IS NULL),
                        left_over AS (SELECT min(moved_to) AS first_due, max(moved_to) AS last_due FROM waiting),
                        lane AS (
                            UPDATE dispatch.parked_lanes l
                               SET first_due_at = coalesce(o.first_due, $2), last_due_at = coalesce(o.last_due, $2)
                              FROM left_over o
                             WHERE l.caller_id = $1 AND l.last_due_at <= $5)
                        SELECT first_due, last_due FROM left_over""")
                .bind(0, callerId)
                .bind(1, from)
                .bind(2, start)
                .bind(3, Math.max(1, step.toNanos() / 1_000))
                .bind(4, handedOut)
                .bind(5, later)
                .map(row -> new Backlog(row.get(0, Instant.class), row.get(1, Instant.class)))
                .one()
                .filter(backlog -> backlog.lastDueAt() != null);
    }

    /**
     * What is left of a caller ID's parked backlog ({@link #recount}).
     *
     * @param firstDueAt the earliest due time
     * @param lastDueAt  the last due time
     */
    record Backlog(Instant firstDueAt, Instant lastDueAt) {
    }

    private static PartitionLanes.ParkedOffsets offsets(Integer partition, Long first, Long last) {
        return partition == null || first == null || last == null ? null
                : new PartitionLanes.ParkedOffsets(partition, first, last);
    }

    /**
     * A caller ID's parked due times, as its lanes wrote them.
     *
     * @param callerId   the caller ID
     * @param firstDueAt the earliest due time that may still wait in the schedule
     * @param lastDueAt  the last due time
     * @param parked     the offsets its parked records first arrived at, on the partition named; null when not known
     *                   (rows written before they were kept, or only of records that came back)
     */
    record ParkedLane(String callerId, Instant firstDueAt, Instant lastDueAt, PartitionLanes.ParkedOffsets parked) {

        ParkedLane(String callerId, Instant firstDueAt, Instant lastDueAt) {
            this(callerId, firstDueAt, lastDueAt, null);
        }
    }

    /**
     * A command to park.
     *
     * @param command     the command
     * @param dueAt       when to publish it again
     * @param traceparent the record's W3C {@code traceparent}: the request, if this records it, keeps a span of the
     *                    dispatcher's within its trace ({@link TraceParent#childOf}); null if it carried none
     * @param partition   the partition of {@code dialer.call.commands} it was read from
     * @param offset      where it first arrived on that partition; −1 for one that came back from the schedule or to
     *                    the front of its lane
     */
    record Parked(CallCommand command, Instant dueAt, String traceparent, int partition, long offset) {

        Parked(CallCommand command, Instant dueAt, String traceparent) {
            this(command, dueAt, traceparent, -1, -1);
        }

        Parked(CallCommand command, Instant dueAt) {
            this(command, dueAt, null);
        }
    }
}
