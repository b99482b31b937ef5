package dev.dialer.api.calls;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.DialGivenBack;
import dev.dialer.common.contract.EventType;
import java.time.Instant;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.DatabaseClient.GenericExecuteSpec;
import org.springframework.stereotype.Component;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

/**
 * Applies one {@link CallEvent} to the read model, in one transaction. Idempotent: an event id already applied
 * changes nothing. Order-safe: a call's and an attempt's status move only to an event with a higher
 * {@code sequence_number} than the one they show, and a final status, once set, is never replaced. The call's error
 * follows the same rule: the latest event's, and once final, the final event's (an answered call shows none, however
 * its earlier attempts or waits failed). A
 * {@code call.cancel_rejected} (a cancel that came too late) only notes when, in {@code cancel_rejected_at}: the call
 * goes on, or stays ended, as it was.
 */
@Component
class CallEventProjection {

    /** What applying an event did. */
    enum Result { APPLIED, DUPLICATE }

    private final DatabaseClient db;
    private final TransactionalOperator transactions;

    CallEventProjection(DatabaseClient db, ReactiveTransactionManager tx) {
        this.db = db;
        this.transactions = TransactionalOperator.create(tx);
    }

    Mono<Result> apply(CallEvent event) {
        return markApplied(event)
                .flatMap(first -> first ? change(event).thenReturn(Result.APPLIED) : Mono.just(Result.DUPLICATE))
                .as(transactions::transactional);
    }

    private Mono<Boolean> markApplied(CallEvent event) {
        return db.sql("INSERT INTO api.call_events_applied (event_id) VALUES (:id) ON CONFLICT DO NOTHING")
                .bind("id", event.eventId())
                .fetch().rowsUpdated()
                .map(rows -> rows > 0);
    }

    private Mono<Void> change(CallEvent event) {
        return event.eventType() == EventType.CANCEL_REJECTED
                ? noteCancelRejected(event)
                : upsertCall(event).then(upsertAttempt(event)).then(undial(event));
    }

    /**
     * A dial the carrier refused for capacity, or that no carrier placed, is given back: its attempt waits under the
     * same number ({@code call.deferred}, {@code reason=capacity} or {@code carrier_unavailable}), or ends so
     * ({@code call.status failed}, {@code reason=capacity} or {@code not_placed}; {@code call.status canceled},
     * {@code reason=capacity}, when a cancel crossed the refusal), and the dispatcher no longer counts
     * it for the per-callee cap (its ledger forgets when the carrier was asked), so neither does the preview: a waiting
     * attempt counts again from its next dial. An event older than the attempt's latest status is left (the status
     * event itself is the attempt's latest once applied).
     */
    private Mono<Void> undial(CallEvent event) {
        boolean waits = event.eventType() == EventType.DEFERRED;
        boolean ends = event.eventType() == EventType.STATUS && event.status() != null
                && isTerminalAttemptStatus(event.status());
        if (!(waits || ends) || event.attempt() == null || event.reason() == null
                || !DialGivenBack.by(event.reason())) {
            return Mono.empty();
        }
        return db.sql("""
                        UPDATE api.call_attempts SET dialled_at = NULL
                         WHERE call_id = :id AND number = :number AND account_id = :account
                           AND (last_sequence < :sequence OR (:ends AND last_sequence = :sequence))""")
                .bind("ends", ends)
                .bind("id", event.requestId())
                .bind("number", event.attempt().number())
                .bind("account", event.accountId())
                .bind("sequence", event.sequenceNumber())
                .then();
    }

    /** The first time a cancel came too late; a call the read model does not know yet is left alone. */
    private Mono<Void> noteCancelRejected(CallEvent event) {
        return db.sql("""
                        UPDATE api.calls SET cancel_rejected_at = COALESCE(cancel_rejected_at, :occurred)
                         WHERE id = :id AND account_id = :account""")
                .bind("occurred", occurred(event))
                .bind("id", event.requestId())
                .bind("account", event.accountId())
                .then();
    }

    private Mono<Void> upsertCall(CallEvent event) {
        boolean isFinal = event.eventType() == EventType.FINAL;
        int attempts = event.eventType() == EventType.STATUS && event.attempt() != null ? event.attempt().number() : 0;
        GenericExecuteSpec spec = db.sql("""
                INSERT INTO api.calls AS c (id, account_id, campaign, foreign_id, caller_id, callee, status, final_status,
                    error_code, error_message, attempts_used, max_attempts, next_attempt_at, last_sequence, created_at,
                    updated_at, finished_at)
                VALUES (:id, :account, :campaign, :foreign, :caller, :callee, :status, :final, :errorCode, :errorMessage,
                    :attempts, :max, :next, :sequence, :created, :occurred, :finished)
                ON CONFLICT (id) DO UPDATE SET
                    status = CASE
                        WHEN c.final_status IS NOT NULL THEN c.status
                        WHEN EXCLUDED.final_status IS NOT NULL OR EXCLUDED.last_sequence > c.last_sequence
                            THEN EXCLUDED.status
                        ELSE c.status END,
                    next_attempt_at = CASE
                        WHEN EXCLUDED.final_status IS NOT NULL THEN NULL
                        WHEN c.final_status IS NULL AND EXCLUDED.last_sequence > c.last_sequence
                            THEN EXCLUDED.next_attempt_at
                        ELSE c.next_attempt_at END,
                    final_status = COALESCE(c.final_status, EXCLUDED.final_status),
                    error_code = CASE
                        WHEN c.final_status IS NOT NULL THEN c.error_code
                        WHEN EXCLUDED.final_status IS NOT NULL OR EXCLUDED.last_sequence > c.last_sequence
                            THEN EXCLUDED.error_code
                        ELSE c.error_code END,
                    error_message = CASE
                        WHEN c.final_status IS NOT NULL THEN c.error_message
                        WHEN EXCLUDED.final_status IS NOT NULL OR EXCLUDED.last_sequence > c.last_sequence
                            THEN EXCLUDED.error_message
                        ELSE c.error_message END,
                    attempts_used = GREATEST(c.attempts_used, EXCLUDED.attempts_used),
                    max_attempts = EXCLUDED.max_attempts,
                    last_sequence = GREATEST(c.last_sequence, EXCLUDED.last_sequence),
                    updated_at = GREATEST(c.updated_at, EXCLUDED.updated_at),
                    finished_at = COALESCE(c.finished_at, EXCLUDED.finished_at)
                WHERE c.account_id = EXCLUDED.account_id""")
                .bind("id", event.requestId())
                .bind("account", event.accountId())
                .bind("caller", orEmpty(event.callerId()))
                .bind("callee", orEmpty(event.to()))
                .bind("status", statusOf(event))
                .bind("attempts", attempts)
                .bind("max", event.attempt() == null ? 1 : Math.max(1, event.attempt().max()))
                .bind("sequence", event.sequenceNumber());
        spec = Sql.bind(spec, "campaign", event.campaign(), String.class);
        spec = Sql.bind(spec, "foreign", event.foreignId(), String.class);
        spec = Sql.bind(spec, "final", isFinal ? event.status() : null, String.class);
        spec = Sql.bind(spec, "errorCode", event.error() == null ? null : event.error().code(), String.class);
        spec = Sql.bind(spec, "errorMessage", event.error() == null ? null : event.error().message(), String.class);
        spec = Sql.bind(spec, "next", event.nextAttemptAt(), Instant.class);
        spec = Sql.bind(spec, "created", firstNonNull(event.createdAt(), occurred(event)), Instant.class);
        spec = Sql.bind(spec, "occurred", occurred(event), Instant.class);
        spec = Sql.bind(spec, "finished", isFinal ? occurred(event) : null, Instant.class);
        return spec.then();
    }

    private Mono<Void> upsertAttempt(CallEvent event) {
        if (event.eventType() != EventType.STATUS || event.attempt() == null) {
            return Mono.empty();
        }
        boolean terminal = event.status() != null && isTerminalAttemptStatus(event.status());
        // Any status after queued means the carrier was asked: the per-callee cap counts the attempt from then, as
        // the dispatcher does (decision 0074). LEAST ignores nulls, so the earliest such event wins in any order.
        boolean dialled = event.status() != null && !AttemptStatus.QUEUED.wire().equals(event.status());
        GenericExecuteSpec spec = db.sql("""
                INSERT INTO api.call_attempts AS a (call_id, number, account_id, callee, status, provider_status,
                    provider_call_id, sip_status, sip_reason, answered_by, duration_seconds, last_sequence, started_at,
                    dialled_at, updated_at, ended_at)
                VALUES (:id, :number, :account, :callee, :status, :providerStatus, :providerCallId, :sipStatus,
                    :sipReason, :answeredBy, :duration, :sequence, :occurred, :dialled, :occurred, :ended)
                ON CONFLICT (call_id, number) DO UPDATE SET
                    status = CASE WHEN EXCLUDED.last_sequence > a.last_sequence THEN EXCLUDED.status ELSE a.status END,
                    provider_status = CASE WHEN EXCLUDED.last_sequence > a.last_sequence
                        THEN COALESCE(EXCLUDED.provider_status, a.provider_status)
                        ELSE COALESCE(a.provider_status, EXCLUDED.provider_status) END,
                    provider_call_id = CASE WHEN EXCLUDED.last_sequence > a.last_sequence
                        THEN COALESCE(EXCLUDED.provider_call_id, a.provider_call_id)
                        ELSE COALESCE(a.provider_call_id, EXCLUDED.provider_call_id) END,
                    sip_status = CASE WHEN EXCLUDED.last_sequence > a.last_sequence
                        THEN COALESCE(EXCLUDED.sip_status, a.sip_status)
                        ELSE COALESCE(a.sip_status, EXCLUDED.sip_status) END,
                    sip_reason = CASE WHEN EXCLUDED.last_sequence > a.last_sequence
                        THEN COALESCE(EXCLUDED.sip_reason, a.sip_reason)
                        ELSE COALESCE(a.sip_reason, EXCLUDED.sip_reason) END,
                    answered_by = CASE WHEN EXCLUDED.last_sequence > a.last_sequence
                        THEN COALESCE(EXCLUDED.answered_by, a.answered_by)
                        ELSE COALESCE(a.answered_by, EXCLUDED.answered_by) END,
                    duration_seconds = CASE WHEN EXCLUDED.last_sequence > a.last_sequence
                        THEN COALESCE(EXCLUDED.duration_seconds, a.duration_seconds)
                        ELSE COALESCE(a.duration_seconds, EXCLUDED.duration_seconds) END,
                    last_sequence = GREATEST(a.last_sequence, EXCLUDED.last_sequence),
                    started_at = LEAST(a.started_at, EXCLUDED.started_at),
                    dialled_at = LEAST(a.dialled_at, EXCLUDED.dialled_at),
                    updated_at = GREATEST(a.updated_at, EXCLUDED.updated_at),
                    ended_at = COALESCE(a.ended_at, EXCLUDED.ended_at)
                WHERE a.account_id = EXCLUDED.account_id""")
                .bind("id", event.requestId())
                .bind("number", event.attempt().number())
                .bind("account", event.accountId())
                .bind("callee", orEmpty(event.to()))
                .bind("status", event.status() == null ? "queued" : event.status())
                .bind("sequence", event.sequenceNumber());
        spec = Sql.bind(spec, "providerStatus", event.providerStatus(), String.class);
        spec = Sql.bind(spec, "providerCallId", event.providerCallId(), String.class);
        spec = Sql.bind(spec, "sipStatus", event.sipStatus(), Integer.class);
        spec = Sql.bind(spec, "sipReason", event.sipReason(), String.class);
        spec = Sql.bind(spec, "answeredBy", event.answeredBy(), String.class);
        spec = Sql.bind(spec, "duration", event.durationSeconds(), Integer.class);
        spec = Sql.bind(spec, "occurred", occurred(event), Instant.class);
        spec = Sql.bind(spec, "ended", terminal ? occurred(event) : null, Instant.class);
        spec = Sql.bind(spec, "dialled", dialled ? occurred(event) : null, Instant.class);
        return spec.then();
    }

    /** The call's status column: the attempt's status, {@code deferred}, or the final status. */
    static String statusOf(CallEvent event) {
        if (event.eventType() == EventType.DEFERRED) {
            return "deferred";
        }
        return event.status() == null ? "queued" : event.status();
    }

    private static boolean isTerminalAttemptStatus(String status) {
        return CallStatuses.TERMINAL_ATTEMPT.contains(status);
    }

    private static Instant occurred(CallEvent event) {
        return event.occurredAt() == null ? Instant.now() : event.occurredAt();
    }

    private static Instant firstNonNull(Instant first, Instant second) {
        return first != null ? first : second;
    }

    private static String orEmpty(String value) {
        return value == null ? "" : value;
    }
}
