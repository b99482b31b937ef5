package dev.dialer.dispatcher.event;

import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import io.r2dbc.spi.Readable;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@code dispatch.outbox}: call events written by the state change that causes them and published later by the
 * {@link OutboxRelay}. Each append allocates the request's next {@code sequence_number} and stores the event in one
 * statement; the row lock that allocation takes on {@code dispatch.requests} lasts until the surrounding transaction
 * commits, so a request's rows are numbered (by {@code id}) in the order of their sequence numbers.
 */
@Component
class Outbox {

    /**
     * The event's JSON with the allocated sequence number written in and, unless the event has its own, the request's
     * status before it ({@code allocated.last_status}) as its {@code previous_status}.
     */
    private static final String INSERT_FROM = """
            , stored AS (
                INSERT INTO dispatch.outbox (event_id, request_id, event_type, sequence_number, payload)
                SELECT $2, $1, $3, allocated.next_sequence,
                       jsonb_set(CASE WHEN allocated.last_status IS NULL
                                        OR $4::jsonb ->> 'previous_status' IS NOT NULL THEN $4::jsonb
                                      ELSE jsonb_set($4::jsonb, '{previous_status}', to_jsonb(allocated.last_status))
                                 END,
                                 '{sequence_number}', to_jsonb(allocated.next_sequence))
                  FROM allocated
                RETURNING sequence_number)
            SELECT stored.sequence_number, allocated.last_status FROM stored, allocated""";

    /** The request's row, locked, as it was before the statement: its status before the event being stored. */
    private static final String EARLIER = "(SELECT final_status, last_status FROM dispatch.requests"
            + " WHERE request_id = $1 FOR UPDATE) earlier";

    private static final String APPEND = """
            WITH allocated AS (
                UPDATE dispatch.requests r
                   SET next_sequence = r.next_sequence + 1, last_status = $4::jsonb ->> 'status'
                  FROM %s
                 WHERE r.request_id = $1 RETURNING r.next_sequence, earlier.last_status)
            """.formatted(EARLIER) + INSERT_FROM;

    /**
     * Ends a request no attempt end reports: only while none of its attempts is being dialled (claimed for the carrier,
     * not ended, not waiting to be dialled again). Such an attempt's own end ends the request; a copy of its command
     * that decided otherwise (a rebalance's second owner, a retry fired twice) must not end it while the call rings.
     * The check reads the attempts after the request's row was locked by an earlier statement of the same
     * transaction ({@link #lockRequest}): a claim, which locks that row too, committed before it or waits and then
     * finds the request ended.
     */
    private static final String FINISH = """
            WITH allocated AS (
                UPDATE dispatch.requests r
                   SET final_status = $5, final_at = now(), next_sequence = r.next_sequence + 1,
                       last_status = $5
                  FROM %s
                 WHERE r.request_id = $1 AND earlier.final_status IS NULL
                   AND NOT EXISTS (SELECT 1 FROM dispatch.attempts a WHERE a.request_id = $1 AND %s)
                RETURNING r.next_sequence, earlier.last_status)
            """.formatted(EARLIER, AttemptLedger.IN_FLIGHT) + INSERT_FROM;

    /**
     * The statements composed around each kind of state change, once each: a change's SQL is a constant of its kind,
     * and a statement's text composed afresh for every call cost the dispatcher the formatting and, in the driver's
     * and Spring's statement caches, the hashing and comparing of a new string each time.
     */
    private final Map<Composed, String> composed = new ConcurrentHashMap<>();

    /** Which statement ({@code kind}) around which change ({@code sql}, binding {@code parameters}). */
    private record Composed(String kind, String sql, int parameters) {
    }

    private String composed(String kind, String sql, int parameters, Supplier<String> compose) {
        return composed.computeIfAbsent(new Composed(kind, sql, parameters), key -> compose.get());
    }

    private final DatabaseClient db;

    Outbox(DatabaseClient db) {
        this.db = db;
    }

    /**
     * Stores {@code draft} under the request's next sequence number, with the status of the request's latest event as
     * its {@code previous_status} unless it has one; emits the number and that status.
     */
    Mono<Appended> append(CallEvent draft) {
        return bindEvent(db.sql(APPEND), draft)
                .map(Outbox::appended)
                .one()
                .switchIfEmpty(Mono.error(() -> new IllegalStateException("unknown request " + draft.requestId())));
    }

    /**
     * Makes {@code change} and, if it happened, stores {@code draft} under the request's next sequence number with the
     * status {@code change} returned as its {@code previous_status}: one statement, so atomic without a transaction
     * of its own, and part of the caller's when there is one. Emits what was stored; nothing when the change did not
     * happen.
     */
    Mono<Appended> appendOn(StateChange change, CallEvent draft) {
        int event = change.parameters();
        String sql = composed("appendOn", change.sql(), event, () -> """
                WITH changed AS (%s),
                allocated AS (
                    UPDATE dispatch.requests r
                       SET next_sequence = r.next_sequence + 1, last_status = $%4$d::jsonb ->> 'status'
                      FROM changed, %5$s WHERE r.request_id = $1
                    RETURNING r.next_sequence, changed.status, COALESCE(changed.status, earlier.last_status) before,
                              r.cancel_requested_at IS NOT NULL AS cancelled),
                stored AS (
                    INSERT INTO dispatch.outbox (event_id, request_id, event_type, sequence_number, payload)
                    SELECT $%2$d, $1, $%3$d, a.next_sequence,
                           CASE WHEN a.before IS NULL THEN n.payload
                                ELSE jsonb_set(n.payload, '{previous_status}', to_jsonb(a.before)) END
                      FROM allocated a,
                           LATERAL jsonb_set($%4$d::jsonb, '{sequence_number}', to_jsonb(a.next_sequence)) n(payload)
                    RETURNING sequence_number)
                SELECT stored.sequence_number, allocated.status, allocated.cancelled FROM stored, allocated"""
                .formatted(change.sql(), event + 1, event + 2, event + 3, EARLIER));
        return change.bind().apply(db.sql(sql))
                .bind(event, draft.eventId())
                .bind(event + 1, draft.eventType().wire())
                .bind(event + 2, Contract.toJson(draft))
                .map(row -> new Appended(row.get(0, Long.class), row.get(1, String.class),
                        Boolean.TRUE.equals(row.get(2, Boolean.class))))
                .one();
    }

    /**
     * {@link #appendOn} for several requests in one statement: makes {@code changes} and, for each request whose change
     * happened, stores its draft as {@link #appendOn} does. {@code drafts} are the requests' events, one per request,
     * in the order of the ids {@code changes} binds. Emits what was stored for each request whose change happened.
     *
     * <p>The requests' rows are locked in the mode their update takes ({@code FOR NO KEY UPDATE}), which a foreign
     * key's check on one of them (a schedule row being inserted for it) does not conflict with: such a check, holding
     * other rows this statement waits for, never waits for it.
     */
    Flux<AppendedTo> appendOnEach(StateChanges changes, List<CallEvent> drafts) {
        int p = changes.parameters();
        String sql = composed("appendOnEach", changes.sql(), p, () -> """
                WITH changed AS (%s),
                drafts AS (
                    SELECT * FROM unnest($1::text[], $%2$d::text[], $%3$d::text[], $%4$d::text[])
                                  AS d(request_id, event_id, event_type, payload)),
                allocated AS (
                    UPDATE dispatch.requests r
                       SET next_sequence = r.next_sequence + 1, last_status = d.payload::jsonb ->> 'status'
                      FROM changed
                      JOIN drafts d ON d.request_id = changed.request_id
                      CROSS JOIN LATERAL (SELECT q.last_status FROM dispatch.requests q
                                           WHERE q.request_id = changed.request_id FOR NO KEY UPDATE) earlier
                     WHERE r.request_id = changed.request_id
                    RETURNING r.request_id, r.next_sequence, changed.status,
                              COALESCE(changed.status, earlier.last_status) before,
                              r.cancel_requested_at IS NOT NULL AS cancelled, d.event_id, d.event_type, d.payload),
                stored AS (
                    INSERT INTO dispatch.outbox (event_id, request_id, event_type, sequence_number, payload)
                    SELECT a.event_id, a.request_id, a.event_type, a.next_sequence,
                           CASE WHEN a.before IS NULL THEN n.payload
                                ELSE jsonb_set(n.payload, '{previous_status}', to_jsonb(a.before)) END
                      FROM allocated a,
                           LATERAL jsonb_set(a.payload::jsonb, '{sequence_number}', to_jsonb(a.next_sequence))
                             n(payload)
                    RETURNING request_id, sequence_number)
                SELECT stored.request_id, stored.sequence_number, allocated.status, allocated.cancelled
                  FROM stored JOIN allocated ON allocated.request_id = stored.request_id"""
                .formatted(changes.sql(), p + 1, p + 2, p + 3));
        int size = drafts.size();
        String[] eventIds = new String[size];
        String[] eventTypes = new String[size];
        String[] payloads = new String[size];
        for (int i = 0; i < size; i++) {
            CallEvent draft = drafts.get(i);
            eventIds[i] = draft.eventId();
            eventTypes[i] = draft.eventType().wire();
            payloads[i] = Contract.toJson(draft);
        }
        return changes.bind().apply(db.sql(sql))
                .bind(p, eventIds)
                .bind(p + 1, eventTypes)
                .bind(p + 2, payloads)
                .map(row -> new AppendedTo(row.get(0, String.class), new Appended(row.get(1, Long.class),
                        row.get(2, String.class), Boolean.TRUE.equals(row.get(3, Boolean.class)))))
                .all();
    }

    /**
     * Makes {@code change} (an attempt's end) and, if it happened, stores {@code attemptEvent} as {@link #appendOn}
     * does and, if the request had no final status, ends the request with {@code status} and stores
     * {@code finalEvent} under the sequence number after: one statement, so the three are atomic without a transaction
     * of their own. Emits what was stored; nothing when the change did not happen.
     */
    Mono<Ended> endOn(StateChange change, CallEvent attemptEvent, FinalStatus status, CallEvent finalEvent) {
        int p = change.parameters();
        String sql = composed("endOn", change.sql(), p, () -> """
                WITH changed AS (%s),
                allocated AS (
                    UPDATE dispatch.requests r
                       SET next_sequence = r.next_sequence + CASE WHEN earlier.final_status IS NULL THEN 2 ELSE 1 END,
                           final_status = COALESCE(earlier.final_status, $%2$d::text),
                           final_at = CASE WHEN earlier.final_status IS NULL THEN now() ELSE r.final_at END,
                           last_status = CASE WHEN earlier.final_status IS NULL THEN $%2$d::text
                                              ELSE $%5$d::jsonb ->> 'status' END
                      FROM changed, %9$s
                     WHERE r.request_id = $1
                    RETURNING r.next_sequence, earlier.final_status IS NULL AS ended, changed.status,
                              COALESCE(changed.status, earlier.last_status) before),
                stored AS (
                    INSERT INTO dispatch.outbox (event_id, request_id, event_type, sequence_number, payload)
                    SELECT e.event_id, $1, e.event_type, e.sequence_number,
                           jsonb_set(e.payload, '{sequence_number}', to_jsonb(e.sequence_number))
                      FROM allocated a, LATERAL (
                            SELECT $%3$d::text, $%4$d::text, a.next_sequence - CASE WHEN a.ended THEN 1 ELSE 0 END,
                                   CASE WHEN a.before IS NULL THEN $%5$d::jsonb
                                        ELSE jsonb_set($%5$d::jsonb, '{previous_status}', to_jsonb(a.before)) END
                            UNION ALL
                            SELECT $%6$d::text, $%7$d::text, a.next_sequence, $%8$d::jsonb WHERE a.ended
                           ) e(event_id, event_type, sequence_number, payload)
                    RETURNING sequence_number)
                SELECT a.next_sequence, a.ended, a.status FROM allocated a"""
                .formatted(change.sql(), p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7, EARLIER));
        return change.bind().apply(db.sql(sql))
                .bind(p, status.wire())
                .bind(p + 1, attemptEvent.eventId())
                .bind(p + 2, attemptEvent.eventType().wire())
                .bind(p + 3, Contract.toJson(attemptEvent))
                .bind(p + 4, finalEvent.eventId())
                .bind(p + 5, finalEvent.eventType().wire())
                .bind(p + 6, Contract.toJson(finalEvent))
                .map(row -> {
                    long last = row.get(0, Long.class);
                    boolean ended = Boolean.TRUE.equals(row.get(1, Boolean.class));
                    return new Ended(ended ? last - 1 : last, row.get(2, String.class), ended ? last : null);
                })
                .one();
    }

    /** Locks the request's row until the transaction ends: what {@link #finishWith} reads comes after it. */
    Mono<Void> lockRequest(String requestId) {
        return db.sql(AttemptLedger.LOCK_REQUEST).bind(0, requestId).then();
    }

    /**
     * Ends the request with {@code status} and stores its final event, in one statement, only if the request had no
     * final status and none of its attempts is being dialled ({@link #FINISH}), with the status of the request's
     * latest event as its {@code previous_status} unless it has one: emits the event's sequence number and that
     * status when this call ended the request, nothing otherwise. Run after {@link #lockRequest}, in its transaction.
     */
    Mono<Appended> finishWith(FinalStatus status, CallEvent draft) {
        return bindEvent(db.sql(FINISH), draft)
                .bind(4, status.wire())
                .map(Outbox::appended)
                .one();
    }

    /**
     * Up to {@code limit} unsent rows not held ({@link #hold}), oldest first, each with its request's
     * {@code traceparent} and the partition an earlier event of its request is held for, if one is.
     */
    Flux<PendingEvent> unsent(int limit) {
        return db.sql("""
                        SELECT o.id, o.request_id, o.payload::text, o.created_at, r.traceparent,
                               (SELECT h.held_partition FROM dispatch.outbox h
                                 WHERE h.request_id = o.request_id AND h.held_partition IS NOT NULL AND h.id < o.id
                                 LIMIT 1)
                          FROM (SELECT id, request_id, payload, created_at FROM dispatch.outbox
                                 WHERE sent_at IS NULL AND held_partition IS NULL ORDER BY id LIMIT $1) o
                          LEFT JOIN dispatch.requests r ON r.request_id = o.request_id
                         ORDER BY o.id""")
                .bind(0, limit)
                .map(row -> new PendingEvent(row.get(0, Long.class), row.get(1, String.class),
                        row.get(2, String.class), row.get(3, Instant.class), row.get(4, String.class),
                        row.get(5, Integer.class)))
                .all();
    }

    /** Holds each row of {@code ids} for the partition of the same place in {@code partitions}: no relay reads it. */
    Mono<Void> hold(Long[] ids, Integer[] partitions) {
        return db.sql("""
                        UPDATE dispatch.outbox o SET held_partition = h.partition_no
                          FROM unnest($1::bigint[], $2::integer[]) AS h(id, partition_no)
                         WHERE o.id = h.id""")
                .bind(0, ids)
                .bind(1, partitions)
                .then();
    }

    /**
     * The partitions of the events topic taken as stalled, each with when its events are tried again (a time passed:
     * now, a batch of its oldest held events at a time, {@link #tryAgain}).
     */
    Mono<Map<Integer, Instant>> stalledPartitions() {
        return db.sql("SELECT partition_no, stalled_until FROM dispatch.stalled_event_partitions")
                .map(row -> Map.entry(row.get(0, Integer.class), row.get(1, Instant.class)))
                .all()
                .collectMap(Map.Entry::getKey, Map.Entry::getValue);
    }

    /** Takes {@code partitions} as stalled until {@code until}, or later where one already is. */
    Mono<Void> stall(Integer[] partitions, Instant until) {
        return db.sql("""
                        INSERT INTO dispatch.stalled_event_partitions (partition_no, stalled_until)
                        SELECT unnest($1::integer[]), $2
                        ON CONFLICT (partition_no) DO UPDATE
                           SET stalled_until = greatest(dispatch.stalled_event_partitions.stalled_until,
                                                        excluded.stalled_until)""")
                .bind(0, partitions)
                .bind(1, until)
                .then();
    }

    /** Frees the oldest {@code limit} rows held for {@code partition}, to be tried again; emits how many. */
    Mono<Long> tryAgain(int partition, int limit) {
        return db.sql("""
                        UPDATE dispatch.outbox SET held_partition = NULL
                         WHERE id IN (SELECT id FROM dispatch.outbox WHERE held_partition = $1 ORDER BY id LIMIT $2)""")
                .bind(0, partition)
                .bind(1, limit)
                .fetch()
                .rowsUpdated();
    }

    /** {@code partition}, none of whose rows is held any longer, is no longer taken as stalled. */
    Mono<Void> takesEvents(int partition) {
        return db.sql("""
                        DELETE FROM dispatch.stalled_event_partitions s
                         WHERE s.partition_no = $1
                           AND NOT EXISTS (SELECT 1 FROM dispatch.outbox WHERE held_partition = $1)""")
                .bind(0, partition)
                .then();
    }

    /** Deletes published rows: their publication recorded by their absence. */
    Mono<Void> deleteSent(Long[] ids) {
        return db.sql("DELETE FROM dispatch.outbox WHERE id = ANY($1)").bind(0, ids).then();
    }

    /**
     * Moves rows that can never be published to {@code dispatch.outbox_rejected}, with {@code reason}: out of the
     * relay's way, kept for operators.
     */
    Mono<Void> reject(Long[] ids, String reason) {
        return db.sql("""
                        WITH moved AS (
                            DELETE FROM dispatch.outbox WHERE id = ANY($1)
                            RETURNING id, event_id, request_id, event_type, sequence_number, payload, created_at)
                        INSERT INTO dispatch.outbox_rejected (id, event_id, request_id, event_type, sequence_number,
                                                              payload, created_at, reason)
                        SELECT id, event_id, request_id, event_type, sequence_number, payload, created_at, $2
                          FROM moved""")
                .bind(0, ids)
                .bind(1, reason)
                .then();
    }

    /** Marks published rows sent, kept until they are purged. */
    Mono<Void> markSent(Long[] ids) {
        return db.sql("UPDATE dispatch.outbox SET sent_at = now() WHERE id = ANY($1)").bind(0, ids).then();
    }

    /**
     * Takes the relay's lock for the current transaction: one relay at a time across every dispatcher, which is what
     * keeps a request's events in order on the topic. Emits whether it was taken.
     *
     * <p>The transaction is also limited on the server, to {@code limit} per statement and {@code limit} idle
     * between statements (both local to it): a relay that gave its round up while its session sat idle in the
     * transaction, or ran a statement, does not leave PostgreSQL holding the lock, and with it every dispatcher's
     * relay. A session blocked sending a result to a client that stopped reading is not ended this way: it lasts
     * until TCP gives the connection up.
     */
    Mono<Boolean> tryRelayLock(Duration limit) {
        String millis = Long.toString(Math.max(1, limit.toMillis()));
        return db.sql("""
                        SELECT pg_try_advisory_xact_lock($1),
                               set_config('statement_timeout', $2, true),
                               set_config('idle_in_transaction_session_timeout', $2, true)""")
                .bind(0, RELAY_LOCK)
                .bind(1, millis)
                .map(row -> Boolean.TRUE.equals(row.get(0, Boolean.class)))
                .one();
    }

    /**
     * Unsent rows, counted up to {@value #BACKLOG_COUNTED} and no further, and when the first of them (by id) was
     * written, for the relay's gauges: both read from the unsent rows' index, so that measuring a backlog of millions
     * (Kafka away for an hour) every poll does not read them all.
     */
    Mono<Backlog> backlog() {
        return db.sql("""
                        SELECT (SELECT count(*) FROM (SELECT 1 FROM dispatch.outbox WHERE sent_at IS NULL
                                                       LIMIT %d) counted),
                               (SELECT created_at FROM dispatch.outbox WHERE sent_at IS NULL ORDER BY id LIMIT 1)"""
                        .formatted(BACKLOG_COUNTED))
                .map(row -> new Backlog(row.get(0, Long.class), row.get(1, Instant.class)))
                .one();
    }

    /** How far the backlog is counted. */
    static final int BACKLOG_COUNTED = 100_000;

    /** Deletes up to {@code limit} rows sent before {@code before}. */
    Mono<Long> purgeSentBefore(Instant before, int limit) {
        return db.sql("""
                        DELETE FROM dispatch.outbox WHERE id IN (
                            SELECT id FROM dispatch.outbox WHERE sent_at < $1 ORDER BY sent_at LIMIT $2)""")
                .bind(0, before)
                .bind(1, limit)
                .fetch()
                .rowsUpdated();
    }

    private static Appended appended(Readable row) {
        return new Appended(row.get(0, Long.class), row.get(1, String.class), false);
    }

    private static DatabaseClient.GenericExecuteSpec bindEvent(DatabaseClient.GenericExecuteSpec spec,
                                                               CallEvent draft) {
        return spec.bind(0, draft.requestId())
                .bind(1, draft.eventId())
                .bind(2, draft.eventType().wire())
                .bind(3, Contract.toJson(draft));
    }

    /** Key of the relay's advisory lock (any constant no other code uses). */
    private static final long RELAY_LOCK = 0x6469616c65724fL;

    /**
     * What was stored: the event's sequence number, and the status before it (or null): for {@link #appendOn} the
     * status the change returned, for {@link #append} and {@link #finishWith} the status of the request's latest event;
     * and, for {@link #appendOn} only, whether a cancel had reached the request when the change was made (read from the
     * request's row as the statement updated it, so the latest committed mark), false otherwise.
     */
    record Appended(long sequence, String previousStatus, boolean cancelRequested) {
    }

    /** What {@link #appendOnEach} stored for one of its requests. */
    record AppendedTo(String requestId, Appended appended) {
    }

    /**
     * What {@link #endOn} stored: the attempt event's sequence number, the status before the change (or null), and
     * the final event's sequence number (null when the request had ended before).
     */
    record Ended(long attemptSequence, String previousStatus, Long finalSequence) {
    }

    /**
     * An unsent row.
     *
     * @param traceparent the request's W3C {@code traceparent}, which the event's record continues; null for a
     *                    request recorded without one
     * @param heldBehind  the partition an earlier event of its request is held for ({@link #hold}): it is held behind
     *                    it; null when none is
     */
    record PendingEvent(long id, String requestId, String payload, Instant createdAt, String traceparent,
                        Integer heldBehind) {
    }

    /** How many rows wait, and since when. */
    record Backlog(long pending, Instant oldest) {
    }
}
