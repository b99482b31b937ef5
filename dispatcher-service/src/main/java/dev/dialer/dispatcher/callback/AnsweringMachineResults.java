package dev.dialer.dispatcher.callback;

import dev.dialer.common.contract.AttemptStatus;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Who answered each attempt, by answering-machine detection ({@code dispatch.answered_by}): written when the carrier's
 * detection arrives, read when the attempt ends, so its terminal {@code call.status} and the request's
 * {@code call.final} carry {@code answered_by} even though the detection came in an earlier callback.
 */
@Component
class AnsweringMachineResults {

    private final DatabaseClient db;

    AnsweringMachineResults(DatabaseClient db) {
        this.db = db;
    }

    /**
     * What became of a detection that changed something, or that was refused.
     *
     * @param status    the attempt's status
     * @param otherCall the detection is bound to another call than the attempt's, and nothing was stored
     */
    record Recorded(AttemptStatus status, boolean otherCall) {
    }

    /**
     * Stores the attempt's {@code answered_by}: the first result, which only the beep ({@link AnsweredBy#TONE}, the
     * machine now recording) replaces later. jambonz decides once who answered and may then hear the beep; an earlier
     * decision that comes again (a signed callback replayed within the signature's tolerance) changes nothing. The
     * attempt's row is held while it does, so a status transition cannot interleave. A detection bound to its call
     * ({@link CarrierCallback#callBound()}) is stored only while the attempt's call is that one or not yet known.
     *
     * @return the attempt's status when the value changed, or the refusal of a detection about another call; empty
     *         for a repeat or an unknown attempt
     */
    Mono<Recorded> record(CarrierCallback detection) {
        DatabaseClient.GenericExecuteSpec spec = db.sql("""
                        WITH attempt AS (
                            SELECT request_id, attempt_no, status,
                                   NOT $5::boolean OR $6::text IS NULL OR provider_call_id IS NULL
                                       OR provider_call_id = $6 AS own
                              FROM dispatch.attempts
                             WHERE request_id = $1 AND attempt_no = $2 FOR UPDATE),
                        stored AS (
                            INSERT INTO dispatch.answered_by (request_id, attempt_no, answered_by, provider_event)
                            SELECT request_id, attempt_no, $3, $4 FROM attempt WHERE own
                            ON CONFLICT (request_id, attempt_no) DO UPDATE
                               SET answered_by = EXCLUDED.answered_by, provider_event = EXCLUDED.provider_event,
                                   detected_at = now()
                             WHERE dispatch.answered_by.answered_by <> EXCLUDED.answered_by
                               AND EXCLUDED.answered_by = 'tone'
                            RETURNING 1)
                        SELECT attempt.status, NOT attempt.own FROM attempt
                         WHERE NOT attempt.own OR EXISTS (SELECT 1 FROM stored)""")
                .bind(0, detection.requestId())
                .bind(1, detection.attempt())
                .bind(2, detection.answeredBy())
                .bind(3, detection.providerStatus() == null ? "" : detection.providerStatus())
                .bind(4, detection.callBound());
        spec = detection.providerCallId() == null ? spec.bindNull(5, String.class)
                : spec.bind(5, detection.providerCallId());
        return spec.map(row -> new Recorded(AttemptStatus.fromWire(row.get(0, String.class)),
                        Boolean.TRUE.equals(row.get(1, Boolean.class))))
                .one();
    }
}
