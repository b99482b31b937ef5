package dev.dialer.dispatcher.pacing;

import dev.dialer.common.contract.CallCommand;

/**
 * What a lane needs to know of a record that will be dialled.
 *
 * @param command the command, read from the record
 */
public record LaneTicket(CallCommand command) {

    String lane() {
        return command.callerId();
    }

    String slotKey() {
        return TrunkGate.slotKey(command.requestId(), command.attempt());
    }
}
