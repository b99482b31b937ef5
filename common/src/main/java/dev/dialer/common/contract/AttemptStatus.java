package dev.dialer.common.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * Status of one dial attempt, in Twilio's words so existing consumers understand them.
 * {@code queued → initiated → ringing → in-progress → completed}, or it ends busy, no-answer, failed or canceled.
 */
public enum AttemptStatus {
    QUEUED("queued"),
    INITIATED("initiated"),
    RINGING("ringing"),
    IN_PROGRESS("in-progress"),
    COMPLETED("completed"),
    BUSY("busy"),
    NO_ANSWER("no-answer"),
    FAILED("failed"),
    CANCELED("canceled");

    private final String wire;

    AttemptStatus(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    /** Whether the attempt is over: nothing follows a terminal status. */
    public boolean isTerminal() {
        return ordinal() >= COMPLETED.ordinal();
    }

    @JsonCreator
    public static AttemptStatus fromWire(String wire) {
        for (AttemptStatus status : values()) {
            if (status.wire.equals(wire)) {
                return status;
            }
        }
        throw new IllegalArgumentException("unknown attempt status: " + wire);
    }
}
