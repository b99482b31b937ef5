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

    /**
     * Binds {@code :send} and {@code :position}, the names the queries that read a call's send use (joined on
     * {@code api.accepted_sends.id} and indexing its {@code callees}).
     */
    GenericExecuteSpec bind(GenericExecuteSpec spec) {
        return spec.bind("send", send).bind("position", position);
    }

    /** The send and position {@code callId} names, null when it is no call id a send could have given. */
    static SentCall of(String callId) {
        UUID id;
        try {
            id = UUID.fromString(callId);
        } catch (IllegalArgumentException notAUuid) {
            return null;
        }
        if (!TimeOrderedUuids.isTimeOrdered(id) || !id.toString().equals(callId)) {
            return null;
        }
        return new SentCall(TimeOrderedUuids.sendOf(id), TimeOrderedUuids.indexOf(id) + 1);
    }
}
