package dev.dialer.api.kafka;

import dev.dialer.common.kafka.OutboundRecord;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Reads the committed state of the objects of one {@link OwedState.Kind}, as the records that put it on its topic
 * again: what is published after a change whose outcome is unknown ({@link Compensations}), at once or, should that
 * be lost, by the sweeper ({@link OwedStateSweeper}) from the row that names the object.
 */
public interface CommittedStates {

    /** The kind of object this reads. */
    OwedState.Kind kind();

    /**
     * The object's committed state as its records (a tombstone for an object that is gone), its rows locked as a
     * change of it locks them, until the surrounding transaction ends: no change of the object is published in
     * between, and one waiting for the lock lands after. Cold; run inside a transaction.
     */
    Mono<List<OutboundRecord>> committed(OwedState object);
}
