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
     * @return whether a call was placed, so the trunk slot taken for it stays held until its terminal status
     */
    Mono<Boolean> handle(InboundRecord record, LaneTicket ticket);

    /**
     * The lanes failed to take the record in, for a defect of theirs: it is kept where it can be replayed, then
     * acknowledged, so that the partition goes on. By default it is only acknowledged.
     */
    default Mono<Void> reject(InboundRecord record, RuntimeException defect) {
        return Mono.fromRunnable(record::acknowledge);
    }
}
