package dev.dialer.dispatcher.attempt;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.common.trace.TraceParent;
import dev.dialer.dispatcher.event.StateChange;
import dev.dialer.dispatcher.event.StateChanges;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * The dispatcher's record of requests and their attempts ({@code dispatch.requests}, {@code dispatch.attempts}).
 * Every write is a single guarded statement, so concurrent writers (the command consumer and carrier callbacks)
 * need no locks held across calls.
 */
@Component
public class AttemptLedger {

    /**
     * The guarded transition; {@code RETURNING previous.status} ends it, so a caller may alias the column. A change
     * that names a dial ({@code $9}) happens only while that dial is the one in flight: not a later one, and not while
     * the attempt waits to be dialled again. A change bound to the call it names ({@code $10},
     * {@link Transition#callBound}) happens only while the attempt knows no call or that one: not once another carrier
     * placed the same dial, nor when another call's callback names the attempt.
     */
    private static final String TRANSITION = """
            UPDATE dispatch.attempts a
               SET status = $3,
                   provider_status = COALESCE($4, a.provider_status),
                   provider_call_id = COALESCE($5, a.provider_call_id),
                   sip_status = COALESCE($6, a.sip_status),
                   sip_reason = COALESCE($7, a.sip_reason),
                   updated_at = now()
              FROM (SELECT status FROM dispatch.attempts
                     WHERE request_id = $1 AND attempt_no = $2 FOR UPDATE) previous
             WHERE a.request_id = $1 AND a.attempt_no = $2 AND previous.status = ANY($8)
               AND ($9::integer IS NULL OR (a.dial_no = $9 AND a.carrier_asked_at IS NOT NULL))
               AND (NOT $10::boolean OR $5::text IS NULL OR a.provider_call_id IS NULL OR a.provider_call_id = $5)
            RETURNING previous.status""";

    /**
     * {@link #TRANSITION}, forgetting that the carrier was asked: for the end of an attempt no carrier placed a call
     * for (refused, for its capacity or otherwise, or none reachable), which rang nobody and counts against no
     * per-callee cap, as one requeued under its number does not ({@link #requeue}).
     */
    private static final String NOT_PLACED_TRANSITION = TRANSITION.replace("updated_at = now()",
            "carrier_asked_at = NULL, updated_at = now()");

    /**
     * {@link #TRANSITION} for many attempts: row {@code i} of the arrays is one attempt's change, with the statuses it
     * may start from joined by commas ({@code $8}) and whether it is bound to its call ({@code $10}); each attempt's
     * row is locked for its check, as in the single transition, but in the mode the update itself takes
     * ({@code FOR NO KEY UPDATE}), which a foreign key's check (the parking lot's schedule rows of other requests) does
     * not wait for while it holds rows this statement waits for.
     */
    private static final String TRANSITIONS = """
            UPDATE dispatch.attempts a
               SET status = t.status,
                   provider_status = COALESCE(t.provider_status, a.provider_status),
                   provider_call_id = COALESCE(t.provider_call_id, a.provider_call_id),
                   sip_status = COALESCE(t.sip_status, a.sip_status),
                   sip_reason = COALESCE(t.sip_reason, a.sip_reason),
                   updated_at = now()
              FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::text[],
                          $8::text[], $9::integer[], $10::boolean[])
                     AS t(request_id, attempt_no, status, provider_status, provider_call_id, sip_status, sip_reason,
                          allowed, dial, call_bound)
                   CROSS JOIN LATERAL (SELECT p.status FROM dispatch.attempts p
                                        WHERE p.request_id = t.request_id AND p.attempt_no = t.attempt_no
                                          FOR NO KEY UPDATE) previous
             WHERE a.request_id = t.request_id AND a.attempt_no = t.attempt_no
               AND previous.status = ANY(string_to_array(t.allowed, ','))
               AND (t.dial IS NULL OR (a.dial_no = t.dial AND a.carrier_asked_at IS NOT NULL))
               AND (NOT t.call_bound OR t.provider_call_id IS NULL OR a.provider_call_id IS NULL
                    OR a.provider_call_id = t.provider_call_id)
            RETURNING a.request_id, previous.status""";

    /** The request as its first command describes it; a later command for the same id changes nothing. */
    private static final String INSERT_REQUEST = """
            INSERT INTO dispatch.requests (request_id, account_id, caller_id, command, traceparent)
            VALUES ($1, $2, $3, $4::jsonb, $5)
            ON CONFLICT (request_id) DO NOTHING""";

    /**
     * Of {@link #NEW_ATTEMPT} and {@link #NEW_CLAIMED_ATTEMPT}: the attempt goes in only while the request is open (not
     * finished and not cancelled) and no other attempt of it is live: the dialer's own next attempt comes after the
     * last one ended, and a command an upstream producer wrote with the request id of a call in progress and another
     * attempt number would otherwise call the person again while the first call rings. The check reads the statement's
     * snapshot, which a command of another attempt number committed while this one waited for the request's lock is not
     * in: the unique index {@code attempts_live_a_request} (one live attempt a request) refuses that insert, and
     * {@code ON CONFLICT DO NOTHING} records nothing. The request row is locked for the check, so a cancel committed
     * before cannot be missed, and one committed after finds the attempt. Returns a row (with no previous status) only
     * when it inserted one. A copy of the command whose attempt is recorded already takes no lock: locking the request,
     * then waiting on the attempt's row, it deadlocked with the attempt's end, which changes the attempt's row, then
     * the request's.
     *
     * <p>Nor does an attempt go in while its own wait in {@code dispatch.schedule} has not fired (no lease): the
     * scheduler leases a row as it fires it, so a command for an attempt whose wait is still to come did not come from
     * that wait. It is a copy an upstream producer wrote with the next attempt number, and would dial before the
     * retry's interval or the calling window allows; the row brings the attempt back at its time. Nor while the wait
     * of an earlier attempt has not fired: a copy that skips a number (attempt 3 while attempt 2's retry waits) would
     * dial early too, and leave the request an attempt short. A row a lane
     * parked ({@code parked}) does not count: the lane keeps its own order, and a second copy of a command parked
     * behind the first (a retry published again after its lease lapsed) turns the fired row into a parked one, which
     * must not stop the first copy, already in the lane, from dialling in its turn.
     */
    private static final String WHILE_OPEN_WITHOUT_LIVE_ATTEMPT = """
             WHERE r.request_id = $1 AND r.final_status IS NULL AND r.cancel_requested_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM dispatch.attempts x WHERE x.request_id = $1
                                  AND (x.attempt_no = $2 OR x.live))
               AND NOT EXISTS (SELECT 1 FROM dispatch.schedule w WHERE w.request_id = $1 AND w.attempt_no <= $2
                                  AND w.lease_until IS NULL AND w.reason <> 'parked')
               FOR UPDATE
            ON CONFLICT DO NOTHING
            RETURNING NULL::text AS status""";

    /** A new attempt, {@code queued}, {@linkplain #WHILE_OPEN_WITHOUT_LIVE_ATTEMPT while the request allows one}. */
    private static final String NEW_ATTEMPT = """
            INSERT INTO dispatch.attempts (request_id, attempt_no, status)
            SELECT r.request_id, $2, $3 FROM dispatch.requests r
            """ + WHILE_OPEN_WITHOUT_LIVE_ATTEMPT;

    /**
     * {@link #NEW_ATTEMPT}, claimed as it is recorded ({@link #claimDial}'s first dial: {@code carrier_asked_at} set,
     * {@code dial_no} 1), under the same check of the request.
     */
    private static final String NEW_CLAIMED_ATTEMPT = """
            INSERT INTO dispatch.attempts (request_id, attempt_no, status, carrier_asked_at, dial_no, claim_token)
            SELECT r.request_id, $2, $3, now(), 1, $4::uuid FROM dispatch.requests r
            """ + WHILE_OPEN_WITHOUT_LIVE_ATTEMPT;

    /**
     * Of an {@code UPDATE dispatch.attempts a}: the attempt a claim may take. It is {@code queued}, nobody claimed it,
     * it does not wait in the schedule to be dialled again, and its request is open. The request row is share-locked
     * for the check: a cancel marked before the claim stops it, and one marked after finds the attempt claimed (a call
     * to cancel at the carrier), never a claim still on its way.
     */
    private static final String CLAIMABLE = """

              FROM (SELECT r.request_id FROM dispatch.requests r
                     WHERE r.request_id = $1 AND r.final_status IS NULL AND r.cancel_requested_at IS NULL
                       FOR SHARE) open
             WHERE a.request_id = open.request_id AND a.attempt_no = $2 AND a.status = 'queued'
               AND a.carrier_asked_at IS NULL AND NOT a.requeued""";

    /**
     * Of an attempt {@code a}: a call that may be in progress on the trunk. The carrier was asked for it, it has not
     * ended, and it was not sent back to the queue by a capacity rejection ({@link #inFlight}, {@link #stillInFlight};
     * the policy's reads of a request's attempts being dialled).
     */
    public static final String IN_FLIGHT = "a.live AND a.carrier_asked_at IS NOT NULL AND NOT a.requeued";

    /**
     * Locks a request's row ({@code $1}) until the transaction ends, by a statement of its own: what a later statement
     * of the transaction reads of the request's attempts ({@link #IN_FLIGHT}) is read once the lock was had, so a
     * claim (which locks the row too) committed while the lock was awaited is seen.
     */
    public static final String LOCK_REQUEST = "SELECT 1 FROM dispatch.requests WHERE request_id = $1 FOR UPDATE";

    /** Each status's {@link Transition#predecessorsOf}, as bound: worked out once, not for every transition. */
    private static final Map<AttemptStatus, String[]> PREDECESSORS = new EnumMap<>(AttemptStatus.class);

    static {
        for (AttemptStatus status : AttemptStatus.values()) {
            PREDECESSORS.put(status, Transition.predecessorsOf(status).stream().map(AttemptStatus::wire)
                    .toArray(String[]::new));
        }
    }

    /** The statuses {@code change} may start from ({@link Transition#allowedFrom}), as bound. */
    private static String[] allowed(Transition change) {
        return change.from() == null ? PREDECESSORS.get(change.to())
                : change.allowedFrom().stream().map(AttemptStatus::wire).toArray(String[]::new);
    }

    private final DatabaseClient db;

    AttemptLedger(DatabaseClient db) {
        this.db = db;
    }

    /**
     * Records the request (the first command seen for its id wins) and its attempt as {@code queued}.
     *
     * @return whether the attempt is new; {@code false} means it was recorded before, or the request has ended or
     *         been cancelled, and it must not be dialled
     */
    public Mono<Boolean> record(CallCommand command) {
        return insertRequest(command).then(insertAttempt(command)).map(rows -> rows == 1);
    }

    /**
     * Records the request (the first command seen for its id wins), without an attempt, and tells where it stood
     * before: what the dial-time policy needs before it may end the request or make the call wait. One statement.
     */
    public Mono<RequestState> recordRequest(CallCommand command) {
        return Mono.deferContextual(context -> bindRequest(db.sql("WITH inserted AS (" + INSERT_REQUEST
                + " RETURNING request_id)\n" + """
                        SELECT NULL::text, NULL::boolean, NULL::boolean FROM inserted
                        UNION ALL
                        SELECT r.final_status, a.requeued,
                               a.status = 'queued' AND a.carrier_asked_at IS NULL AND NOT a.requeued
                          FROM dispatch.requests r
                          LEFT JOIN dispatch.attempts a ON a.request_id = r.request_id AND a.attempt_no = $6
                         WHERE r.request_id = $1"""), command, context)
                .bind(5, command.attempt())
                .map(row -> {
                    Boolean requeued = row.get(1, Boolean.class);
                    return new RequestState(row.get(0, String.class), requeued != null,
                            Boolean.TRUE.equals(requeued), Boolean.TRUE.equals(row.get(2, Boolean.class)));
                })
                .one()
                // Inserted by a concurrent copy of the command after this statement's snapshot: new to this one.
                .defaultIfEmpty(new RequestState(null, false, false, false)));
    }

    /**
     * The command's attempt as a new {@code queued} attempt of its recorded request, for {@code CallEvents#emitOn}: it
     * happens only if the attempt is new and the request is open (not finished, not cancelled).
     */
    public StateChange newAttempt(CallCommand command) {
        return new StateChange(NEW_ATTEMPT, 3, spec -> spec
                .bind(0, command.requestId())
                .bind(1, command.attempt())
                .bind(2, AttemptStatus.QUEUED.wire()));
    }

    /**
     * {@link #newAttempt} and {@link #claimDial} in one: the new attempt, {@code queued}, is claimed for its first dial
     * as it is recorded, only while the request is open, as each of the two checks. For a command whose claim needs
     * nothing but that check (no per-callee cap to count within); returns a row only when it inserted one, and the
     * caller must then dial it, as dial 1.
     *
     * @param token the handling's own, unique to it: when no row comes back, {@link #ownClaim} tells whether this
     *              handling's earlier run of the statement claimed the attempt (its commit not acknowledged)
     */
    public StateChange newClaimedAttempt(CallCommand command, UUID token) {
        return new StateChange(NEW_CLAIMED_ATTEMPT, 4, spec -> spec
                .bind(0, command.requestId())
                .bind(1, command.attempt())
                .bind(2, AttemptStatus.QUEUED.wire())
                .bind(3, token.toString()));
    }

    /**
     * Moves the attempt to a new status if it may move there from its current one ({@link Transition#predecessorsOf});
     * the row is locked for the check, so concurrent writers cannot both win. For {@code CallEvents#emitOn} and
     * {@code CallEvents#endOn}: the change and its events in one statement, which returns the status before when the
     * transition happened and nothing when it did not (late, duplicate or unknown).
     */
    public StateChange transitionChange(Transition change) {
        return new StateChange(TRANSITION + " AS status", 10, spec -> bindTransition(spec, change));
    }

    /**
     * {@link #transitionChange} ending an attempt no carrier placed a call for: it rang nobody, so the per-callee cap
     * no longer counts it (its {@code carrier_asked_at} cleared, as a requeue clears it).
     */
    public StateChange notPlacedChange(Transition change) {
        return new StateChange(NOT_PLACED_TRANSITION + " AS status", 10, spec -> bindTransition(spec, change));
    }

    /**
     * {@link #transitionChange} for several attempts, one per request, in one statement, for
     * {@code CallEvents#changeOnEach}: each attempt moves if it may, as its own {@link #transitionChange} would (its
     * row locked for the check, its dial named or not), and the statement returns, for each that moved, its request
     * id and its status before; {@code $1} binds the request ids, in the order of {@code changes}.
     *
     * @param changes at most one per request
     */
    public StateChanges transitionsChange(List<Transition> changes) {
        int size = changes.size();
        String[] requestIds = new String[size];
        Integer[] attempts = new Integer[size];
        String[] to = new String[size];
        String[] providerStatuses = new String[size];
        String[] providerCallIds = new String[size];
        Integer[] sipStatuses = new Integer[size];
        String[] sipReasons = new String[size];
        String[] allowed = new String[size];
        Integer[] dials = new Integer[size];
        Boolean[] callBound = new Boolean[size];
        for (int i = 0; i < size; i++) {
            Transition change = changes.get(i);
            requestIds[i] = change.requestId();
            attempts[i] = change.attempt();
            to[i] = change.to().wire();
            providerStatuses[i] = change.providerStatus();
            providerCallIds[i] = change.providerCallId();
            sipStatuses[i] = change.sipStatus();
            sipReasons[i] = change.sipReason();
            allowed[i] = String.join(",", allowed(change));
            dials[i] = change.dial();
            callBound[i] = change.callBound();
        }
        return new StateChanges(TRANSITIONS, 10, spec -> spec
                .bind(0, requestIds)
                .bind(1, attempts)
                .bind(2, to)
                .bind(3, providerStatuses)
                .bind(4, providerCallIds)
                .bind(5, sipStatuses)
                .bind(6, sipReasons)
                .bind(7, allowed)
                .bind(8, dials)
                .bind(9, callBound));
    }

    /**
     * What the end of an attempt depends on besides the carrier's word, read in one query: whether a cancel reached the
     * request, and who answered by an earlier answering-machine detection.
     */
    public Mono<EndContext> endContext(String requestId, int attempt) {
        return db.sql("""
                        SELECT r.cancel_requested_at IS NOT NULL,
                               (SELECT b.answered_by FROM dispatch.answered_by b
                                 WHERE b.request_id = $1 AND b.attempt_no = $2),
                               (SELECT a.status IN ('ringing', 'in-progress') FROM dispatch.attempts a
                                 WHERE a.request_id = $1 AND a.attempt_no = $2)
                          FROM dispatch.requests r WHERE r.request_id = $1""")
                .bind(0, requestId)
                .bind(1, attempt)
                .map(row -> new EndContext(Boolean.TRUE.equals(row.get(0, Boolean.class)), row.get(1, String.class),
                        Boolean.TRUE.equals(row.get(2, Boolean.class))))
                .one()
                .defaultIfEmpty(new EndContext(false, null));
    }

    /**
     * @param cancelRequested whether a cancel reached the request
     * @param answeredBy      who answered, by an answering-machine detection; null when none arrived
     * @param rang            whether the attempt's current dial rang or was answered, as {@link #capacityContext}
     */
    public record EndContext(boolean cancelRequested, String answeredBy, boolean rang) {

        /** For a dial that did not ring, or where it does not matter. */
        public EndContext(boolean cancelRequested, String answeredBy) {
            this(cancelRequested, answeredBy, false);
        }
    }

    /**
     * Errors with {@link CancelledMeanwhile} when a cancel has reached the request, read under a lock on the request's
     * row that lasts until the caller's transaction ends: a cancel marked before is seen however recently it
     * committed, and one marked after waits until the transaction is over. For a step that must not happen once a
     * cancel reached the request (a retry, a requeue), in the transaction that makes it, which the error rolls back.
     * Completes for an unknown request.
     */
    public Mono<Void> notCancelled(String requestId) {
        return db.sql("""
                        SELECT cancel_requested_at IS NOT NULL FROM dispatch.requests
                         WHERE request_id = $1 FOR UPDATE""")
                .bind(0, requestId)
                .map(row -> Boolean.TRUE.equals(row.get(0, Boolean.class)))
                .one()
                .flatMap(cancelled -> cancelled ? Mono.error(new CancelledMeanwhile()) : Mono.<Void>empty());
    }

    /** A cancel reached the request since its step was decided: the step (a retry, a requeue) must not be made. */
    public static final class CancelledMeanwhile extends RuntimeException {
        CancelledMeanwhile() {
            super("a cancel reached the request", null, false, false);
        }
    }

    /**
     * Errors with {@link DetectedMeanwhile} when the attempt's answering-machine result is no longer
     * {@code answeredBy}, as its end's context read it: a detection committed since. For the transaction that ends the
     * attempt, after its end's statement: that statement holds the attempt's row, which a detection locks before it
     * stores anything, so a detection committed before it is seen here and one arriving after waits, then finds the
     * attempt ended. The error rolls the end back, to be made again with the result.
     */
    public Mono<Void> detectedAsRead(String requestId, int attempt, String answeredBy) {
        return db.sql("SELECT answered_by FROM dispatch.answered_by WHERE request_id = $1 AND attempt_no = $2")
                .bind(0, requestId)
                .bind(1, attempt)
                .map(row -> Optional.ofNullable(row.get(0, String.class)))
                .one()
                .defaultIfEmpty(Optional.empty())
                .flatMap(stored -> stored.equals(Optional.ofNullable(answeredBy)) ? Mono.<Void>empty()
                        : Mono.error(new DetectedMeanwhile(stored.orElse(null))));
    }

    /** An answering-machine result was stored since the attempt's end read none or another: the end is made anew. */
    public static final class DetectedMeanwhile extends RuntimeException {
        private final String answeredBy;

        DetectedMeanwhile(String answeredBy) {
            super("an answering-machine result reached the attempt", null, false, false);
            this.answeredBy = answeredBy;
        }

        /** Who answered, as the attempt's result now says. */
        public String answeredBy() {
            return answeredBy;
        }
    }

    /**
     * When the attempt began to wait for a carrier: when it was first queued (a requeue keeps it), or when the last
     * dial-time policy wait it met since ended; empty for an unknown attempt.
     */
    public Mono<Instant> queuedAt(String requestId, int attempt) {
        return capacityContext(requestId, attempt).map(CapacityContext::queuedAt);
    }

    /**
     * {@link #queuedAt}, and whether the attempt's current dial rang (or was answered): a refusal that reads as a
     * capacity rejection is then not one, since requeued under the same attempt it would ring the callee again.
     * Empty for an unknown attempt.
     */
    public Mono<CapacityContext> capacityContext(String requestId, int attempt) {
        return db.sql("""
                        SELECT COALESCE(waiting_since, created_at), status IN ('ringing', 'in-progress')
                          FROM dispatch.attempts WHERE request_id = $1 AND attempt_no = $2""")
                .bind(0, requestId)
                .bind(1, attempt)
                .map(row -> new CapacityContext(row.get(0, Instant.class),
                        Boolean.TRUE.equals(row.get(1, Boolean.class))))
                .one();
    }

    /**
     * @param queuedAt when the attempt was first queued ({@link #queuedAt})
     * @param rang     whether its current dial rang or was answered
     */
    public record CapacityContext(Instant queuedAt, boolean rang) {
    }

    /**
     * Remembers the carrier's id of the call its {@code dial} placed, while that dial is the attempt's current one (a
     * late answer to an earlier dial names a call that is over); leaves the status alone, which callbacks may be
     * moving already.
     */
    public Mono<Void> storeProviderCallId(String requestId, int attempt, int dial, String providerCallId) {
        return storeProviderCallId(requestId, attempt, dial, providerCallId, null);
    }

    /**
     * {@link #storeProviderCallId(String, int, int, String)}, with the route name of the carrier that placed the call:
     * the trunk whose slot it holds, for a dispatcher that takes its partition over ({@link #inFlight}).
     */
    public Mono<Void> storeProviderCallId(String requestId, int attempt, int dial, String providerCallId,
                                          String carrier) {
        DatabaseClient.GenericExecuteSpec update = db.sql("""
                        UPDATE dispatch.attempts SET provider_call_id = $3, carrier = $5
                         WHERE request_id = $1 AND attempt_no = $2 AND dial_no = $4""")
                .bind(0, requestId)
                .bind(1, attempt)
                .bind(2, providerCallId)
                .bind(3, dial);
        return (carrier == null ? update.bindNull(4, String.class) : update.bind(4, carrier)).then();
    }

    /**
     * The attempt whose current dial placed the call the carrier knows as {@code providerCallId} (jambonz's
     * {@code call_sid}): for a callback whose tag no longer names its attempt. Empty when no attempt holds that id (the
     * call is not ours, its attempt was dialled again or forgotten, or the create-call answer is not stored yet), and
     * when more than one does, which no carrier's ids allow.
     */
    public Mono<AttemptOfCall> attemptOfCall(String providerCallId) {
        return db.sql("""
                        SELECT a.request_id, a.attempt_no, a.dial_no, r.caller_id
                          FROM dispatch.attempts a JOIN dispatch.requests r ON r.request_id = a.request_id
                         WHERE a.provider_call_id = $1
                         LIMIT 2""")
                .bind(0, providerCallId)
                .map(row -> new AttemptOfCall(row.get(0, String.class), row.get(1, Integer.class),
                        row.get(2, Integer.class), row.get(3, String.class)))
                .all()
                .collectList()
                .flatMap(found -> found.size() == 1 ? Mono.just(found.get(0)) : Mono.empty());
    }

    /** The carrier's id of the attempt's call; empty while none is known, and for an unknown attempt. */
    public Mono<String> providerCallId(String requestId, int attempt) {
        return db.sql("""
                        SELECT provider_call_id FROM dispatch.attempts
                         WHERE request_id = $1 AND attempt_no = $2 AND provider_call_id IS NOT NULL""")
                .bind(0, requestId)
                .bind(1, attempt)
                .map(row -> row.get(0, String.class))
                .one();
    }

    /**
     * {@link #transitionChange} to a terminal status that schedules the request's next attempt in the same statement:
     * the {@code dispatch.schedule} row (holding the request's command) exists if and only if the attempt ended, so no
     * crash can end an attempt and lose its retry, and a repeated final callback schedules nothing.
     *
     * <p>A row for the next attempt may be there already: a copy of its command, written by an upstream producer with
     * the next attempt number, was parked by its lane or made to wait (a pause, the cap, the calling window) while
     * this attempt was live. That row becomes the retry's, due at the later of the two times: kept as it was, it fired
     * at its own time and the next attempt dialled before its interval (a parked copy in seconds, a paused one at the
     * campaign's resume). When it fires the dial-time policy is asked again, so the wait it stood for still holds.
     *
     * @param nextAttempt the attempt to run
     * @param dueAt       when it may run
     * @return the status before and when the retry is due (later than {@code dueAt} when such a row was later), when
     *         the transition happened (and the retry is scheduled); empty otherwise
     */
    public Mono<Scheduled> transitionAndSchedule(Transition change, int nextAttempt, Instant dueAt) {
        return bindTransition(db.sql("WITH moved AS (" + TRANSITION + " AS status), " + """
                        scheduled AS (
                            INSERT INTO dispatch.schedule AS s (request_id, attempt_no, due_at, reason, command)
                            SELECT r.request_id, $11, $12, 'retry', r.command
                              FROM moved, dispatch.requests r
                             WHERE r.request_id = $1
                            ON CONFLICT (request_id, attempt_no) DO UPDATE
                               SET due_at = greatest(s.due_at, EXCLUDED.due_at), reason = 'retry', lease_until = NULL,
                                   first_due_at = NULL
                            RETURNING s.due_at)
                        SELECT status, (SELECT due_at FROM scheduled) FROM moved"""), change)
                .bind(10, nextAttempt)
                .bind(11, dueAt)
                .map(row -> {
                    // The row's time, when a later wait's; else the one asked for, not its microseconds as stored.
                    Instant due = row.get(1, Instant.class);
                    return new Scheduled(AttemptStatus.fromWire(row.get(0, String.class)),
                            due != null && due.isAfter(dueAt) ? due : dueAt);
                })
                .one();
    }

    /**
     * An attempt's end that scheduled the next attempt ({@link #transitionAndSchedule}).
     *
     * @param previous the ended attempt's status before its end
     * @param dueAt    when the next attempt is due, as its row in {@code dispatch.schedule} says
     */
    public record Scheduled(AttemptStatus previous, Instant dueAt) {
    }

    /**
     * The carrier rejected the attempt for capacity, which is not an attempt: in one statement the attempt goes back
     * to {@code queued} and is marked requeued (forgetting the rejected call's id and that the carrier was asked, so
     * {@link #claimDial} lets the command that brings it back dial it), and a {@code dispatch.schedule}
     * row (reason {@code capacity}) brings its command back at {@code dueAt} under the same attempt number. Only an
     * attempt that has not ended and still belongs to the rejected call moves, so a repeated or late rejection changes
     * nothing; so does a rejection of an earlier dial than the one in flight.
     *
     * @param providerCallId the rejected call's id, when the callback names it
     * @param dial           the rejected dial, when the callback names it
     * @return whether this call requeued the attempt
     */
    public Mono<Boolean> requeueForCapacity(String requestId, int attempt, String providerCallId, Integer dial,
                                            Instant dueAt) {
        return requeue(requestId, attempt, providerCallId, dial, dueAt, null);
    }

    /**
     * No carrier placed the attempt (none could be reached, or each answered 5xx, or the guard refused it): as
     * {@link #requeueForCapacity}, the attempt goes back to {@code queued} under the same number and its command is
     * scheduled for {@code dueAt}; but only while the attempt was first queued after {@code queuedAfter}.
     *
     * @param dial the dial no carrier placed
     * @return whether the attempt was requeued (false: it waited long enough, or it ended or was requeued meanwhile)
     */
    public Mono<Boolean> requeueNotPlaced(String requestId, int attempt, int dial, Instant dueAt,
                                          Instant queuedAfter) {
        return requeue(requestId, attempt, null, dial, dueAt, queuedAfter);
    }

    private Mono<Boolean> requeue(String requestId, int attempt, String providerCallId, Integer dial, Instant dueAt,
                                  Instant queuedAfter) {
        DatabaseClient.GenericExecuteSpec spec = db.sql("""
                        WITH requeued AS (
                            UPDATE dispatch.attempts
                               SET status = 'queued', requeued = true, provider_call_id = NULL,
                                   carrier_asked_at = NULL, updated_at = now(), requeued_at = now()
                             WHERE request_id = $1 AND attempt_no = $2 AND NOT requeued
                               AND status = ANY($7)
                               -- A dial that rang is never requeued under the same attempt: it would ring again.
                               AND status NOT IN ('ringing', 'in-progress')
                               AND ($3::text IS NULL OR provider_call_id IS NULL OR provider_call_id = $3)
                               AND ($5::timestamptz IS NULL OR COALESCE(waiting_since, created_at) > $5)
                               AND ($6::integer IS NULL OR (dial_no = $6 AND carrier_asked_at IS NOT NULL))
                            RETURNING request_id, attempt_no),
                        scheduled AS (
                            INSERT INTO dispatch.schedule (request_id, attempt_no, due_at, reason, command)
                            SELECT r.request_id, q.attempt_no, $4, 'capacity', r.command
                              FROM requeued q JOIN dispatch.requests r ON r.request_id = q.request_id
                            ON CONFLICT (request_id, attempt_no) DO UPDATE SET due_at = EXCLUDED.due_at,
                                reason = EXCLUDED.reason, lease_until = NULL, first_due_at = NULL)
                        SELECT count(*) FROM requeued""")
                .bind(0, requestId)
                .bind(1, attempt)
                .bind(3, dueAt)
                // The statuses an attempt that has not ended may be in: those a failure may end.
                .bind(6, PREDECESSORS.get(AttemptStatus.FAILED));
        spec = bindNullable(spec, 2, providerCallId, String.class);
        spec = bindNullable(spec, 5, dial, Integer.class);
        return bindNullable(spec, 4, queuedAfter, Instant.class)
                .map(row -> row.get(0, Long.class))
                .one()
                .map(rows -> rows > 0);
    }

    /**
     * An attempt requeued after a capacity rejection, claimed back once, for {@code CallEvents#emitOn}: the command
     * that comes back for it dials it under the same number (it becomes {@code queued} again, with no previous
     * status); any other copy of the command finds it claimed and is a duplicate. It happens only if this call claimed
     * it, and only while the request is open (not finished, not cancelled: the request row is locked for the check, as
     * for a new attempt), and only once its wait was released from the schedule: a copy of the command that passed the
     * dial-time policy before the requeue (a rebalance's second owner) would otherwise dial it at once, before its
     * requeue delay and without the policy's check when it comes due. The request is locked only when there is an
     * attempt to claim back.
     */
    public StateChange reclaimedAttempt(CallCommand command) {
        return new StateChange("""
                UPDATE dispatch.attempts a SET requeued = false, updated_at = now()
                  FROM (SELECT r.request_id FROM dispatch.requests r
                         WHERE r.request_id = $1 AND r.final_status IS NULL AND r.cancel_requested_at IS NULL
                           AND EXISTS (SELECT 1 FROM dispatch.attempts x
                                        WHERE x.request_id = $1 AND x.attempt_no = $2 AND x.requeued)
                           AND NOT EXISTS (SELECT 1 FROM dispatch.schedule s
                                            WHERE s.request_id = $1 AND s.attempt_no = $2 AND s.lease_until IS NULL)
                           FOR UPDATE) open
                 WHERE a.request_id = open.request_id AND a.attempt_no = $2 AND a.requeued
                RETURNING NULL::text AS status""", 2, spec -> spec
                .bind(0, command.requestId())
                .bind(1, command.attempt()));
    }

    private static DatabaseClient.GenericExecuteSpec bindTransition(DatabaseClient.GenericExecuteSpec spec,
                                                                    Transition change) {
        String[] allowed = allowed(change);
        spec = spec.bind(0, change.requestId())
                .bind(1, change.attempt())
                .bind(2, change.to().wire());
        spec = bindNullable(spec, 3, change.providerStatus(), String.class);
        spec = bindNullable(spec, 4, change.providerCallId(), String.class);
        spec = bindNullable(spec, 5, change.sipStatus(), Integer.class);
        spec = bindNullable(spec, 6, change.sipReason(), String.class);
        spec = bindNullable(spec, 8, change.dial(), Integer.class);
        return spec.bind(7, allowed).bind(9, change.callBound());
    }

    /**
     * Marks the request finished, once. Callers that publish the final event use {@code CallEvents#finishOnce}
     * instead, which does this and stores the event in one statement.
     *
     * @return whether this call set it: only then may the caller publish the request's {@code call.final}
     */
    public Mono<Boolean> finish(String requestId, FinalStatus status) {
        return db.sql("""
                        UPDATE dispatch.requests SET final_status = $2, final_at = now()
                         WHERE request_id = $1 AND final_status IS NULL""")
                .bind(0, requestId)
                .bind(1, status.wire())
                .fetch()
                .rowsUpdated()
                .map(rows -> rows == 1);
    }

    /** The command behind an attempt, as first received; empty when the dispatcher never recorded the attempt. */
    public Mono<CallCommand> findCommand(String requestId, int attempt) {
        return db.sql("""
                        SELECT r.command::text FROM dispatch.requests r
                          JOIN dispatch.attempts a ON a.request_id = r.request_id
                         WHERE a.request_id = $1 AND a.attempt_no = $2""")
                .bind(0, requestId)
                .bind(1, attempt)
                .map(row -> Contract.read(row.get(0, String.class).getBytes(StandardCharsets.UTF_8), CallCommand.class))
                .one();
    }

    /**
     * Notes that the carrier is about to be asked for the attempt: from now on it may ring someone, so the watchdog
     * must see it end. Leaves the status and {@code updated_at} alone.
     */
    public Mono<Void> markCarrierAsked(String requestId, int attempt) {
        return db.sql("""
                        UPDATE dispatch.attempts SET carrier_asked_at = now()
                         WHERE request_id = $1 AND attempt_no = $2""")
                .bind(0, requestId)
                .bind(1, attempt)
                .then();
    }

    /**
     * Claims a {@code queued} attempt for dialling, once: sets {@code carrier_asked_at} just before the carrier is
     * asked, only if nobody set it before, the attempt is not waiting in the schedule after a capacity rejection, and
     * the request is open (not finished, no cancel marked).
     * From then on the attempt may ring someone: it is never dialled again, and the watchdog sees it end. Each claim
     * is a new dial of the attempt (an attempt the carrier took no call for is claimed again under its number): the
     * dial number counts them, and the call id of an earlier dial is forgotten. {@code carrier_asked_at} is also when
     * the per-callee cap counts the dial: the claim's own time, not its transaction's start (a claim within the cap
     * runs after waiting for the callee's lock).
     *
     * @return the dial number this call claimed (it must dial it); empty when it claimed nothing
     */
    public Mono<Integer> claimDial(String requestId, int attempt) {
        return claimDial(requestId, attempt, UUID.randomUUID());
    }

    /**
     * {@link #claimDial(String, int)}, the claim marked with {@code token}, the claiming handling's own: when it claims
     * nothing, {@link #ownClaim} tells whether an earlier run of it by the same handling did.
     */
    public Mono<Integer> claimDial(String requestId, int attempt, UUID token) {
        return db.sql("""
                        UPDATE dispatch.attempts a SET carrier_asked_at = clock_timestamp(), dial_no = a.dial_no + 1,
                               provider_call_id = NULL, carrier = NULL, claim_token = $3::uuid""" + CLAIMABLE
                        + "\nRETURNING a.dial_no")
                .bind(0, requestId)
                .bind(1, attempt)
                .bind(2, token.toString())
                .map(row -> row.get(0, Integer.class))
                .one();
    }

    /**
     * The dial of the attempt that a claim marked with {@code token} made ({@link #newClaimedAttempt},
     * {@link #claimDial}), while it is the attempt's current dial and has not been placed, ended or requeued: a claim
     * run again after its commit went unacknowledged (the connection lost once the server had committed) finds the
     * attempt claimed, by itself. Dialled as its first run would have been, it is dialled once: no other handling
     * holds the token. Empty for a claim of another's, or none.
     */
    public Mono<Integer> ownClaim(String requestId, int attempt, UUID token) {
        return db.sql("""
                        SELECT dial_no FROM dispatch.attempts
                         WHERE request_id = $1 AND attempt_no = $2 AND claim_token = $3::uuid
                           AND carrier_asked_at IS NOT NULL AND status = 'queued' AND NOT requeued
                           AND provider_call_id IS NULL""")
                .bind(0, requestId)
                .bind(1, attempt)
                .bind(2, token.toString())
                .map(row -> row.get(0, Integer.class))
                .one();
    }

    /**
     * The dial-time policy refused to let a claimable attempt ({@link #claimDial}) be dialled: the callee's cap was
     * reached since the policy let its command through. The attempt waits to be dialled under its number, as a
     * requeued one does, so the command that brings it back meets the policy again and claims it back
     * ({@link #reclaimedAttempt}); the caller schedules that command with the wait's event. Only an attempt
     * {@link #claimDial} would have claimed moves.
     *
     * @return whether this call made the attempt wait (false: it was claimed before, or its request has ended or been
     *         cancelled)
     */
    public Mono<Boolean> holdUnclaimed(String requestId, int attempt) {
        return db.sql("UPDATE dispatch.attempts a SET requeued = true, updated_at = now()" + CLAIMABLE)
                .bind(0, requestId)
                .bind(1, attempt)
                .fetch()
                .rowsUpdated()
                .map(rows -> rows == 1);
    }

    /**
     * Claims up to {@code limit} attempts that reached the carrier, have not ended, and had neither news nor their
     * dial since {@code quietSince}, under a lease until {@code leaseUntil} ({@code FOR UPDATE SKIP LOCKED}: several
     * dispatchers never claim the same attempt while its lease runs). Found by the live attempts' index of dials
     * ({@code attempts_live_by_ask}, decision 0143): an index naming the time of the last news would be written at
     * every callback.
     */
    public Flux<QuietAttempt> claimQuiet(Instant quietSince, Instant now, Instant leaseUntil, int limit) {
        return db.sql("""
                        WITH due AS (
                            SELECT request_id, attempt_no FROM dispatch.attempts
                             WHERE live AND carrier_asked_at IS NOT NULL
                               AND carrier_asked_at < $1 AND updated_at < $1
                               AND (watch_lease_until IS NULL OR watch_lease_until < $2)
                             ORDER BY updated_at
                             LIMIT $4
                             FOR UPDATE SKIP LOCKED)
                        UPDATE dispatch.attempts a SET watch_lease_until = $3
                          FROM due
                         WHERE a.request_id = due.request_id AND a.attempt_no = due.attempt_no
                        RETURNING a.request_id, a.attempt_no, a.status, a.provider_call_id, a.carrier_asked_at,
                                  COALESCE((SELECT r.command -> 'carrier_options' FROM dispatch.requests r
                                             WHERE r.request_id = a.request_id), '{}'::jsonb)::text, a.dial_no""")
                .bind(0, quietSince)
                .bind(1, now)
                .bind(2, leaseUntil)
                .bind(3, limit)
                .map(row -> new QuietAttempt(row.get(0, String.class), row.get(1, Integer.class),
                        row.get(6, Integer.class), AttemptStatus.fromWire(row.get(2, String.class)),
                        row.get(3, String.class),
                        row.get(4, Instant.class), optionsOrNone(row.get(5, String.class))))
                .all()
                // Handed on once the claim committed (PostgreSQL may send a large result's first rows before its
                // implicit transaction commits; decision 0094): reconciling never starts on a claim still being made.
                .collectList()
                .flatMapIterable(rows -> rows);
    }

    /**
     * The attempts in flight: the carrier was asked for them since {@code askedSince}, they have not ended, and they
     * were not sent back to the queue by a capacity rejection. Read-only; what a dispatcher that gains partitions
     * counts as trunk slots already held.
     */
    public Flux<InFlightAttempt> inFlight(Instant askedSince) {
        return db.sql("""
                        SELECT a.request_id, a.attempt_no, r.caller_id, a.carrier_asked_at,
                               COALESCE(r.command -> 'carrier_options', '{}'::jsonb)::text, a.carrier
                          FROM dispatch.attempts a JOIN dispatch.requests r ON r.request_id = a.request_id
                         WHERE\s""" + IN_FLIGHT + " AND a.carrier_asked_at > $1")
                .bind(0, askedSince)
                .map(row -> new InFlightAttempt(row.get(0, String.class), row.get(1, Integer.class),
                        row.get(2, String.class), row.get(3, Instant.class),
                        carrierOptions(row.get(4, String.class)), row.get(5, String.class)))
                .all();
    }

    /**
     * Of the attempts named (pairwise, {@code requestIds[i]} and {@code attempts[i]}), those in flight as
     * {@link #inFlight} tells them, whenever the carrier was asked: each as its request id and attempt number.
     */
    public Flux<Map.Entry<String, Integer>> stillInFlight(List<String> requestIds, List<Integer> attempts) {
        return db.sql("""
                        SELECT a.request_id, a.attempt_no
                          FROM unnest($1::text[], $2::integer[]) AS k(request_id, attempt_no)
                          JOIN dispatch.attempts a ON a.request_id = k.request_id AND a.attempt_no = k.attempt_no
                         WHERE\s""" + IN_FLIGHT)
                .bind(0, requestIds.toArray(String[]::new))
                .bind(1, attempts.toArray(Integer[]::new))
                .map(row -> Map.entry(row.get(0, String.class), row.get(1, Integer.class)))
                .all();
    }

    /** A command's {@code carrier_options} read on their own, without the rest of the command (its variables). */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> carrierOptions(String json) {
        return Contract.read(json.getBytes(StandardCharsets.UTF_8), Map.class);
    }

    /** The options as {@link #carrierOptions}, none for a JSON {@code null} or anything not an object. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> optionsOrNone(String json) {
        Object options = Contract.read(json.getBytes(StandardCharsets.UTF_8), Object.class);
        return options instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    /**
     * News that the attempt's {@code dial} is still alive (the carrier said so): it is quiet again only from now. Only
     * while that dial is the attempt's current one: news of an earlier dial says nothing of a later one.
     *
     * @return whether the attempt was touched (false: it has been dialled again, or waits to be)
     */
    public Mono<Boolean> touch(String requestId, int attempt, int dial) {
        return db.sql("""
                        UPDATE dispatch.attempts SET updated_at = now(), watch_lease_until = NULL
                         WHERE request_id = $1 AND attempt_no = $2
                           AND dial_no = $3 AND carrier_asked_at IS NOT NULL""")
                .bind(0, requestId)
                .bind(1, attempt)
                .bind(2, dial)
                .fetch()
                .rowsUpdated()
                .map(rows -> rows > 0);
    }

    /**
     * Leaves the attempt's {@code dial} to the watchdog's claims no earlier than {@code until}: its lease runs till
     * then. For an attempt that cannot be reconciled before then, so that it does not come back at every lease and
     * take a claim's place from attempts that can. Only while that dial is the attempt's current one.
     */
    public Mono<Void> leaseWatchUntil(String requestId, int attempt, int dial, Instant until) {
        return db.sql("""
                        UPDATE dispatch.attempts SET watch_lease_until = $4
                         WHERE request_id = $1 AND attempt_no = $2 AND dial_no = $3""")
                .bind(0, requestId)
                .bind(1, attempt)
                .bind(2, dial)
                .bind(3, until)
                .then();
    }

    /**
     * Where the attempt stands now: its current dial, whether that dial was claimed (the carrier asked, or about to be)
     * and its status; empty for an attempt not on record. What the watchdog reads to tell why its end of a quiet
     * attempt changed nothing.
     */
    public Mono<Standing> standing(String requestId, int attempt) {
        return db.sql("""
                        SELECT dial_no, carrier_asked_at IS NOT NULL, status FROM dispatch.attempts
                         WHERE request_id = $1 AND attempt_no = $2""")
                .bind(0, requestId)
                .bind(1, attempt)
                .map(row -> new Standing(row.get(0, Integer.class), Boolean.TRUE.equals(row.get(1, Boolean.class)),
                        AttemptStatus.fromWire(row.get(2, String.class))))
                .one();
    }

    /**
     * @param dial   the attempt's current dial ({@code dial_no})
     * @param asked  whether that dial was claimed: false while the attempt waits to be dialled again
     * @param status its status
     */
    public record Standing(int dial, boolean asked, AttemptStatus status) {

        /** Whether the attempt has left dial {@code dial}: a later one was claimed, or it waits to be dialled again. */
        public boolean leftDial(int dial) {
            return this.dial != dial || !asked;
        }
    }

    /** Notes that the dialer itself asked the carrier to end the attempt's call (before asking). */
    public Mono<Void> markCancelRequested(String requestId, int attempt) {
        return db.sql("""
                        UPDATE dispatch.attempts SET cancel_requested_at = COALESCE(cancel_requested_at, now())
                         WHERE request_id = $1 AND attempt_no = $2""")
                .bind(0, requestId)
                .bind(1, attempt)
                .then();
    }

    /**
     * Since when no dial of the attempt is in flight: it has ended (its status is terminal: for good), or it waits in
     * the schedule, requeued after a capacity rejection or for want of a carrier (since its last requeue, which
     * {@code requeued_at} keeps: the watchdog's checks and late callbacks move {@code updated_at} meanwhile). None
     * while a dial is in flight, and for an unknown attempt.
     */
    public Mono<Optional<NoDialInFlight>> noDialInFlight(String requestId, int attempt) {
        return db.sql("""
                        SELECT status, requeued,
                               (extract(epoch FROM now() - COALESCE(requeued_at, updated_at)) * 1e9)::bigint
                          FROM dispatch.attempts WHERE request_id = $1 AND attempt_no = $2""")
                .bind(0, requestId)
                .bind(1, attempt)
                .map(row -> {
                    boolean ended = AttemptStatus.fromWire(row.get(0, String.class)).isTerminal();
                    boolean requeued = Boolean.TRUE.equals(row.get(1, Boolean.class));
                    Long sinceNanos = row.get(2, Long.class);
                    return ended || requeued
                            ? Optional.of(new NoDialInFlight(ended, sinceNanos == null ? 0 : sinceNanos))
                            : Optional.<NoDialInFlight>empty();
                })
                .one()
                .defaultIfEmpty(Optional.empty());
    }

    /**
     * No dial of an attempt is in flight ({@link #noDialInFlight}).
     *
     * @param ended      for good: the attempt has ended
     * @param sinceNanos for how long, as PostgreSQL's clock tells it: since the attempt's last requeue, or for an
     *                   ended one its last change
     */
    public record NoDialInFlight(boolean ended, long sinceNanos) {
    }

    /** Whether the dialer asked the carrier to end the attempt's call; false for an unknown attempt. */
    public Mono<Boolean> cancelRequested(String requestId, int attempt) {
        return db.sql("""
                        SELECT cancel_requested_at IS NOT NULL FROM dispatch.attempts
                         WHERE request_id = $1 AND attempt_no = $2""")
                .bind(0, requestId)
                .bind(1, attempt)
                .map(row -> Boolean.TRUE.equals(row.get(0, Boolean.class)))
                .one()
                .defaultIfEmpty(false);
    }

    private Mono<Long> insertRequest(CallCommand command) {
        return Mono.deferContextual(context -> bindRequest(db.sql(INSERT_REQUEST), command, context)
                .fetch().rowsUpdated());
    }

    /**
     * The request's columns; its {@code traceparent} is the one the command's handling runs under
     * ({@link TraceParent#HEADER} in the Reactor context), none outside one.
     */
    private static DatabaseClient.GenericExecuteSpec bindRequest(DatabaseClient.GenericExecuteSpec spec,
                                                                 CallCommand command, ContextView context) {
        DatabaseClient.GenericExecuteSpec bound = spec.bind(0, command.requestId())
                .bind(1, command.accountId())
                .bind(2, command.callerId())
                .bind(3, Contract.toJson(command));
        String traceparent = context.<String>getOrEmpty(TraceParent.HEADER).orElse(null);
        return traceparent != null ? bound.bind(4, traceparent) : bound.bindNull(4, String.class);
    }

    private Mono<Long> insertAttempt(CallCommand command) {
        StateChange change = newAttempt(command);
        return change.bind().apply(db.sql(change.sql())).fetch().rowsUpdated();
    }

    private static DatabaseClient.GenericExecuteSpec bindNullable(DatabaseClient.GenericExecuteSpec spec, int index,
                                                                  Object value, Class<?> type) {
        return value == null ? spec.bindNull(index, type) : spec.bind(index, value);
    }
}
