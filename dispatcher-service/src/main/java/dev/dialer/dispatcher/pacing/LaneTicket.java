package dev.dialer.dispatcher.pacing;

import dev.dialer.common.contract.CallCommand;

/**
 * What a lane needs to know of a record that will be dialled.
 *
 * @param command     the command, read from the record
 * @param traceparent the record's W3C {@code traceparent}, kept with the request if it is parked first; null if none
 */
public record LaneTicket(CallCommand command, String traceparent) {

    public LaneTicket(CallCommand command) {
        this(command, null);
    }

    String lane() {
        return command.callerId();
    }

    String slotKey() {
        return TrunkGate.slotKey(command.requestId(), command.attempt());
    }
}
