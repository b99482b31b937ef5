package dev.dialer.dispatcher.policy;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.event.StateChange;
import java.time.Duration;
import java.time.Instant;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The dispatcher's tables as the dial-time policy and the call controls read and write them. */
@Component
class PolicyLedger {

    /** First key of the callees' advisory locks (two-key locks: apart from the outbox relay's one-key lock). */
    private static final int CALLEE_LOCK = 0x636170;

    private final DatabaseClient db;

    PolicyLedger(DatabaseClient db) {
        this.db = db;
    }

    /**
     * When the carrier was asked for the account's calls to {@code callee} since {@code since}, oldest first: the
     * dials claimed ({@code AttemptLedger#claimDial}), each counted from its claim, however long before its attempt
     * was recorded (a call recorded in the evening may wait for the morning's calling window). A dial the carrier took
     * no call for (requeued: it had no room for it, or none could be reached) rang nobody; its claim is released, and
     * it is not counted, least of all against itself when it comes back.
     */
    Flux<Instant> dialsSince(String accountId, String callee, Instant since) {
        return db.sql("""
                        SELECT a.carrier_asked_at FROM dispatch.requests r
                          JOIN dispatch.attempts a ON a.request_id = r.request_id
                         WHERE r.account_id = $1 AND r.command ->> 'to' = $2 AND a.carrier_asked_at > $3
                         ORDER BY a.carrier_asked_at""")
                .bind(0, accountId)
                .bind(1, callee)
                .bind(2, since)
                .map(row -> row.get(0, Instant.class))
                .all();
    }

    /**
     * Takes the account's callee's advisory lock for the caller's transaction: claims kept within the per-callee cap
     * hold it from their count of the callee's dials until they commit, on every dispatcher, so each counts the dials
     * claimed before it. The count must be a later statement of the transaction: a statement's snapshot is taken
     * before it waits for a lock, so a count in the same statement would miss the dial its lock's last holder
     * committed. Accounts and callees whose keys hash alike only wait for one another.
     */
    Mono<Void> lockCallee(String accountId, String callee) {
        return db.sql("SELECT pg_advisory_xact_lock($1, hashtext($2::text || ' ' || $3::text))")
                .bind(0, CALLEE_LOCK)
                .bind(1, accountId)
                .bind(2, callee)
                .then();
    }

    /** {@link #schedule}'s statement, run after its lock of the request. */
    private static final String SCHEDULE = """
            WITH open AS (
                SELECT request_id, command FROM dispatch.requests
                 WHERE request_id = $1 AND final_status IS NULL FOR UPDATE),
            dialling AS (
                SELECT 1 FROM dispatch.attempts a WHERE a.request_id = $1 AND %s LIMIT 1),
            written AS (
                INSERT INTO dispatch.schedule AS s (request_id, attempt_no, due_at, reason, command)
                SELECT request_id, $2, $3, $4, command FROM open WHERE NOT EXISTS (SELECT 1 FROM dialling)
                ON CONFLICT (request_id, attempt_no)
                DO UPDATE SET due_at = EXCLUDED.due_at, reason = EXCLUDED.reason, lease_until = NULL,
                    first_due_at = NULL
                 WHERE s.lease_until IS NOT NULL
                    OR (s.reason <> EXCLUDED.reason AND s.due_at <= EXCLUDED.due_at
                        AND EXCLUDED.reason <> 'paused')
                RETURNING s.request_id),
            restarted AS (
                UPDATE dispatch.attempts SET waiting_since = $3
                 WHERE request_id = (SELECT request_id FROM written) AND attempt_no = $2 AND requeued)
            SELECT (SELECT count(*) FROM open), (SELECT count(*) FROM written),
                   (SELECT count(*) FROM dialling)""".formatted(AttemptLedger.IN_FLIGHT);

    /** What {@link #schedule} made of a wait. */
    enum Scheduled {
        /** The attempt waits anew: its wait is announced. */
        WAITS,
        /**
         * The attempt already waited, not yet fired, for this reason or until later: another copy of the command (a
         * redelivery, a second owner during a rebalance, an upstream producer's) or a transaction run again after its
         * commit was not acknowledged. The row stays as it was, and nothing is announced again.
         */
        WAITED_ALREADY,
        /** The request has its final status (a cancel ended it meanwhile): nothing waits. */
        REQUEST_ENDED,
        /**
         * One of the request's attempts is being dialled (claimed for the carrier, not ended, not requeued): another
         * copy of the command claimed it after this one read the request. Nothing waits and nothing is announced; the
         * attempt's end decides what follows, as it does for a policy end (decision 0132).
         */
        DIALLING
    }

    /**
     * Makes the command's attempt wait in {@code dispatch.schedule} until {@code dueAt}. A row already there for the
     * attempt that the scheduler fired (the one whose firing brought the command back, leased) or that waited for
     * another reason until no later than {@code dueAt} takes the new time and reason, and loses its lease; one
     * waiting, unfired, for the same reason is a wait already announced, and is left as it is, and so is one waiting,
     * unfired, for another reason until later: a copy of the command that did not come from that row (an upstream
     * producer's with the next attempt number, read while a retry's interval runs) never brings a wait forward. Nor
     * does a pause take over an unfired row of another reason, whatever its time: a resume makes the campaign's paused
     * rows due at once, so a retry turned into a pause would be dialled before its interval; the row meets the pause
     * when it fires, and then waits for it (a fired row, leased, takes any wait). An
     * attempt that was waiting for a carrier (requeued) counts that wait anew from {@code dueAt}: the policy's wait is
     * not the carrier's ({@code retry.carrier-unavailable-max-wait}).
     *
     * <p>Only a request without its final waits: one that a cancel (or anything else) ended meanwhile gets no row.
     * The request's row is locked for it, so an end committing at the same moment is either
     * seen here (no row) or waits for this transaction (and then removes the row with the request's waits). Locked
     * for update, not shared: the wait's event, appended in the same transaction, locks the row for update, and two
     * copies of the command deferring at once, each holding a share lock and each waiting for the other's to go
     * before that upgrade, deadlocked. The second of two such copies finds the first's row once it has the lock.
     *
     * <p>Nor does a request one of whose attempts is being dialled ({@link Scheduled#DIALLING}): two copies of one
     * command handled at once, one claimed the attempt and rings the callee, the other read the request before that
     * claim and its policy made the call wait; its {@code call.deferred} would follow the call's statuses. The row is
     * locked by a statement of its own first, and the attempts read after it, as {@code Outbox.FINISH} reads them: in
     * one statement the snapshot is taken before the wait for the lock, and a claim committed meanwhile (a claim
     * shares that lock) would not be seen. Run in a transaction, so that the lock holds until the wait is written.
     */
    Mono<Scheduled> schedule(CallCommand command, String reason, Instant dueAt) {
        Mono<Void> lock = db.sql(AttemptLedger.LOCK_REQUEST).bind(0, command.requestId()).then();
        return lock.then(db.sql(SCHEDULE)
                .bind(0, command.requestId())
                .bind(1, command.attempt())
                .bind(2, dueAt)
                .bind(3, reason)
                .map(row -> row.get(1, Long.class) > 0 ? Scheduled.WAITS
                        : row.get(0, Long.class) == 0 ? Scheduled.REQUEST_ENDED
                        : row.get(2, Long.class) > 0 ? Scheduled.DIALLING : Scheduled.WAITED_ALREADY)
                .one());
    }

    /**
     * Where a request stood when a cancel reached it.
     *
     * @param finalStatus     its final status, "" when it has none
     * @param answeredAttempt the attempt whose call is answered and talking, or null
     * @param lastAttempt     its highest attempt number, or null when no attempt was recorded
     */
    record CancelTarget(String finalStatus, Integer answeredAttempt, Integer lastAttempt) {

        /** Whether the cancel came too late: the request ended, or a person is on the line. */
        boolean tooLate() {
            return !finalStatus.isEmpty() || answeredAttempt != null;
        }
    }

    /**
     * Marks the request cancelled (from now on no attempt of it is recorded) unless a call of it is answered: a person
     * on the line is not hung up on, and that call's end must still count as answered, not canceled.
     *
     * @return where the request stood; empty when the dispatcher has not seen the request yet
     */
    Mono<CancelTarget> markCancelRequested(String requestId) {
        return db.sql("""
                        WITH answered AS (
                            SELECT max(attempt_no) AS attempt_no FROM dispatch.attempts
                             WHERE request_id = $1 AND status = $2),
                        last AS (
                            SELECT max(attempt_no) AS attempt_no FROM dispatch.attempts WHERE request_id = $1)
                        UPDATE dispatch.requests r
                           SET cancel_requested_at = CASE
                               WHEN r.final_status IS NULL AND (SELECT attempt_no FROM answered) IS NOT NULL
                                   THEN r.cancel_requested_at
                               ELSE COALESCE(r.cancel_requested_at, now()) END
                         WHERE r.request_id = $1
                        RETURNING COALESCE(r.final_status, ''), (SELECT attempt_no FROM answered),
                                  (SELECT attempt_no FROM last)""")
                .bind(0, requestId)
                .bind(1, AttemptStatus.IN_PROGRESS.wire())
                .map(row -> new CancelTarget(row.get(0, String.class), row.get(1, Integer.class),
                        row.get(2, Integer.class)))
                .one();
    }

    /**
     * Takes back the cancel mark of a request that has not ended: its call was answered while the cancel was on its
     * way, and is left to talk.
     */
    Mono<Void> withdrawCancel(String requestId) {
        return db.sql("""
                        UPDATE dispatch.requests SET cancel_requested_at = NULL
                         WHERE request_id = $1 AND final_status IS NULL""")
                .bind(0, requestId)
                .then();
    }

    /** An attempt that has not ended. */
    record LiveAttempt(String requestId, int attempt, AttemptStatus status, String providerCallId) {
    }

    /**
     * The request's attempts that reached the carrier and have not ended. One recorded but not claimed for the carrier
     * yet rang nobody, and once the request's cancel is marked can no longer be claimed
     * ({@code AttemptLedger#claimDial}); one waiting to be dialled again under its number (requeued after a capacity
     * rejection, or because no carrier placed it) rang nobody either. For those the request only waits.
     */
    Flux<LiveAttempt> liveAttempts(String requestId) {
        return db.sql("""
                        SELECT a.attempt_no, a.status, a.provider_call_id FROM dispatch.attempts a
                         WHERE a.request_id = $1 AND\s""" + AttemptLedger.IN_FLIGHT)
                .bind(0, requestId)
                .map(row -> new LiveAttempt(requestId, row.get(0, Integer.class),
                        AttemptStatus.fromWire(row.get(1, String.class)), row.get(2, String.class)))
                .all();
    }

    /** The attempt as it is now, if it has not ended. */
    Mono<LiveAttempt> liveAttempt(String requestId, int attempt) {
        return liveAttempts(requestId).filter(live -> live.attempt() == attempt).next();
    }

    /**
     * What a request's {@code call.cancel_rejected} event is stored on ({@code CallEvents#emitOn}): its id recorded
     * for the request, which happens only when it was not recorded before; then nothing is stored.
     */
    StateChange cancelRejection(String requestId, String eventId) {
        return new StateChange("""
                INSERT INTO dispatch.cancel_rejections (event_id, request_id) VALUES ($2, $1)
                ON CONFLICT (event_id) DO NOTHING RETURNING NULL::text AS status""", 2,
                spec -> spec.bind(0, requestId).bind(1, eventId));
    }

    /** Removes every wait of the request. */
    Mono<Void> dropWaits(String requestId) {
        return db.sql("DELETE FROM dispatch.schedule WHERE request_id = $1").bind(0, requestId).then();
    }

    /** The command of a request the dispatcher has seen. */
    Mono<CallCommand> command(String requestId) {
        return db.sql("SELECT command::text FROM dispatch.requests WHERE request_id = $1")
                .bind(0, requestId)
                .map(row -> Contract.read(row.get(0, String.class).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        CallCommand.class))
                .one();
    }

    /**
     * The command of a request that waits, numbered as the attempt it waits for: its wait's (a retry, a window, a
     * requeue), else its last recorded attempt's, else the command's own. Its final event then names the attempt the
     * events before it led to, not the first.
     */
    Mono<CallCommand> waitingCommand(String requestId) {
        return db.sql("""
                        SELECT r.command::text, COALESCE(
                               (SELECT max(s.attempt_no) FROM dispatch.schedule s WHERE s.request_id = r.request_id),
                               (SELECT max(a.attempt_no) FROM dispatch.attempts a WHERE a.request_id = r.request_id))
                          FROM dispatch.requests r WHERE r.request_id = $1""")
                .bind(0, requestId)
                .map(row -> {
                    CallCommand command = Contract.read(
                            row.get(0, String.class).getBytes(java.nio.charset.StandardCharsets.UTF_8), CallCommand.class);
                    Integer attempt = row.get(1, Integer.class);
                    return attempt == null ? command : command.withAttempt(attempt);
                })
                .one();
    }

    /** The campaign's requests that have not ended, with the command each was accepted with. */
    Flux<CallCommand> openRequestsOf(String accountId, String campaign) {
        return db.sql("""
                        SELECT command::text FROM dispatch.requests
                         WHERE account_id = $1 AND command ->> 'campaign' = $2 AND final_status IS NULL""")
                .bind(0, accountId)
                .bind(1, campaign)
                .map(row -> Contract.read(row.get(0, String.class).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        CallCommand.class))
                .all();
    }

    /**
     * Makes the campaign's paused calls due from {@code now}, each caller ID's in the order they were held (their due
     * times), a microsecond apart: due at one instant, they came back in the order of their request ids; emits how
     * many.
     */
    Mono<Long> releasePaused(String accountId, String campaign, Instant now) {
        return db.sql("""
                        WITH paused AS (
                            SELECT request_id, attempt_no,
                                   row_number() OVER (PARTITION BY command ->> 'caller_id'
                                                      ORDER BY due_at, request_id COLLATE "C", attempt_no) - 1 AS place
                              FROM dispatch.schedule
                             WHERE reason = 'paused' AND command ->> 'account_id' = $1
                               AND command ->> 'campaign' = $2)
                        UPDATE dispatch.schedule s
                           SET due_at = $3::timestamptz + interval '1 microsecond' * p.place, first_due_at = NULL,
                               lease_until = NULL
                          FROM paused p
                         WHERE s.request_id = p.request_id AND s.attempt_no = p.attempt_no AND s.reason = 'paused'""")
                .bind(0, accountId)
                .bind(1, campaign)
                .bind(2, now)
                .fetch()
                .rowsUpdated();
    }

    /** Where a control stands for a dispatcher that read it. */
    enum ControlClaim {
        /** Claimed by this dispatcher now: it acts on the control. */
        CLAIMED,
        /** Another dispatcher's claim, renewed within the lease: it is acting on the control, or stopped just now. */
        HELD,
        /** Acted upon: nothing more to do. */
        SETTLED
    }

    /**
     * Claims a control for this dispatcher when nobody acted on it before, or whoever claimed it has not renewed the
     * claim for longer than {@code lease} without settling or giving it back (its dispatcher stopped mid-way: the
     * control is acted upon again rather than left half done for good; acting twice on a control changes nothing the
     * first time did). A cancel settled {@code pending} (its request was not in the ledger yet) is claimed again by
     * whichever dispatcher reads it next: the request may have been recorded, and even dialled, since, by a dispatcher
     * whose view had not read the cancel yet. In one statement, which also says whether the control is held or
     * settled when not claimed.
     *
     * @param requestId the request a request's control names, or null (a campaign's): its row is deleted with the
     *                  request by the ledger's retention
     */
    Mono<ControlClaim> claimControl(String controlId, String requestId, Duration lease) {
        DatabaseClient.GenericExecuteSpec statement = db.sql("""
                        WITH claimed AS (
                            INSERT INTO dispatch.applied_controls (control_id, outcome, request_id)
                            VALUES ($1, 'claimed', $3)
                            ON CONFLICT (control_id) DO UPDATE SET applied_at = now(), outcome = 'claimed',
                                request_id = coalesce(applied_controls.request_id, excluded.request_id)
                             WHERE applied_controls.outcome = 'claimed'
                               AND applied_controls.applied_at < now() - $2::bigint * interval '1 millisecond'
                                OR applied_controls.outcome = 'pending'
                            RETURNING 1)
                        SELECT EXISTS (SELECT 1 FROM claimed),
                               (SELECT outcome FROM dispatch.applied_controls WHERE control_id = $1)""")
                .bind(0, controlId)
                .bind(1, lease.toMillis());
        return (requestId == null ? statement.bindNull(2, String.class) : statement.bind(2, requestId))
                .map(row -> claim(Boolean.TRUE.equals(row.get(0, Boolean.class)), row.get(1, String.class)))
                .one();
    }

    /**
     * No row in the statement's snapshot although the insert did not claim: another dispatcher's claim, committed
     * while this statement waited on it (the snapshot predates it), so held, not settled. A {@code pending} one that
     * was not claimed here was claimed again by another dispatcher meanwhile: held too.
     */
    private static ControlClaim claim(boolean claimedHere, String outcome) {
        if (claimedHere) {
            return ControlClaim.CLAIMED;
        }
        return outcome == null || "claimed".equals(outcome) || "pending".equals(outcome) ? ControlClaim.HELD
                : ControlClaim.SETTLED;
    }

    /** Renews this dispatcher's claim on a control it is acting on, so that it does not lapse meanwhile. */
    Mono<Void> renewControl(String controlId) {
        return db.sql("UPDATE dispatch.applied_controls SET applied_at = now() WHERE control_id = $1 "
                        + "AND outcome = 'claimed'")
                .bind(0, controlId)
                .then();
    }

    Mono<Void> settleControl(String controlId, String outcome) {
        return db.sql("UPDATE dispatch.applied_controls SET outcome = $2 WHERE control_id = $1")
                .bind(0, controlId)
                .bind(1, outcome)
                .then();
    }

    /** Gives a claim back after a failure, so the control is acted upon when it is read again. */
    Mono<Void> releaseControl(String controlId) {
        return db.sql("DELETE FROM dispatch.applied_controls WHERE control_id = $1 AND outcome = 'claimed'")
                .bind(0, controlId)
                .then();
    }
}
