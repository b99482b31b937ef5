package dev.dialer.api.calls;

import dev.dialer.api.ids.TimeOrderedUuids;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient.GenericExecuteSpec;

/**
 * Where a call of a recorded send would be found: the send's id and the call's position (from 1) in its
 * {@code callees}, both read from the call's id (decision 0086). Any canonical version 7 id has one; whether such a
 * send exists is the database's to say.
 */
record SentCall(UUID send, int position) {

    /** The callee of the call, in a statement reading its send {@code s}. */
    static final String CALLEE = "split_part(s.callees, ',', :position)";

    /**
     * Where the call {@code :id} is read from its send {@code s} ({@link #bind}), when it has no row of its own: the
     * end of a {@code SELECT} that follows the call's own row's in a {@code UNION ALL}, one statement.
     */
    static final String FROM_ITS_SEND = """

             FROM api.accepted_sends s
            WHERE s.id = :send AND s.account_id = :account AND %s <> ''
              AND NOT EXISTS (SELECT 1 FROM api.calls c WHERE c.id = :id)
            LIMIT 1""".formatted(CALLEE);

    /**
     * The calls of the send {@code s} that have no row of their own, as {@code (id, callee, pos)}, {@code pos} from 1
     * ({@code u.pos} inside): a subquery for a statement reading sends as {@code s}.
     *
     * @param within added to the subquery's conditions (on {@code u.pos}), with its order and limit; or empty
     */
    static String waiting(String within) {
        return """
                SELECT api.sent_call_id(s.id, u.pos) COLLATE "C" AS id, u.callee, u.pos
                  FROM unnest(api.sent_callees(s.callees)) WITH ORDINALITY AS u(callee, pos)
                 WHERE u.callee IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM api.calls c WHERE c.id = api.sent_call_id(s.id, u.pos) COLLATE "C")
                """ + within;
    }

    /**
     * Binds {@code :send} and {@code :position}, the names the queries that read a call's send use (joined on
     * {@code api.accepted_sends.id} and indexing its {@code callees}).
     */
    GenericExecuteSpec bind(GenericExecuteSpec spec) {
        return spec.bind("send", send).bind("position", position);
    }

    /** The send and position {@code callId} names, null when it is no call id a send could have given. */
    static SentCall of(String callId) {
        UUID id = TimeOrderedUuids.parse(callId);
        return id == null ? null : new SentCall(TimeOrderedUuids.sendOf(id), TimeOrderedUuids.indexOf(id) + 1);
    }
}
