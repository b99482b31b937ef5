package dev.dialer.dispatcher.pacing;

import dev.dialer.common.kafka.InboundRecord;
import reactor.core.publisher.Mono;

/** What the lanes run for a record once its turn comes; the consumer that owns the records supplies it. */
public interface LaneWork {

    /**
     * Handles the record (its {@link InboundRecord#acknowledge()} tells the lanes it is finished) and never errors.
     *
     * @param ticket the record's lane ticket, with the command already read from it; null for a record that is not
     *               dialled (a bad record, one to re-route)
     * @return whether a call was placed, so the trunk slot taken for it stays held until its terminal status; empty
     *         is {@link Placement#NOT_PLACED}
     */
    Mono<Placement> handle(InboundRecord record, LaneTicket ticket);

    /** What became of a record's start, for its trunk slot. */
    enum Placement {
        /** A call was placed (or may have been): the slot stays held until its terminal status. */
        PLACED,
        /**
         * None was placed: the start's hold goes, but a call of the attempt in flight (a redelivered copy's original)
         * that a count of calls in flight found holding the slot keeps it.
         */
        NOT_PLACED,
        /**
         * None was placed, and the ledger showed none of the attempt in flight: its dial was claimed for this start,
         * and the carrier refused the call or none took it. The slot goes whoever counted it: a count that ran while
         * this start held it counted this very dial.
         */
        NONE_IN_FLIGHT
    }

    /**
     * The lanes failed to take the record in, for a defect of theirs: it is kept where it can be replayed, then
     * acknowledged, so that the partition goes on. By default it is only acknowledged.
     */
    default Mono<Void> reject(InboundRecord record, RuntimeException defect) {
        return Mono.fromRunnable(record::acknowledge);
    }
}
