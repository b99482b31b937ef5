package dev.dialer.common.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** The one outcome of a request (what the customer asked for), carried by its single {@code call.final} event. */
public enum FinalStatus {
    /** An attempt was answered. */
    ANSWERED("answered"),
    /** Every allowed attempt ended unanswered (busy, no-answer, transient failure). */
    EXHAUSTED("exhausted"),
    /** The number cannot be reached (404, 484, 410, 604) or the request could not be placed. */
    FAILED("failed"),
    /** Cancelled by the customer. */
    CANCELED("canceled"),
    /** Refused by policy: DNC, caller ID not allowed, per-callee cap. */
    BLOCKED("blocked"),
    /** {@code valid_until} passed before the call could be placed. */
    EXPIRED("expired");

    private final String wire;

    FinalStatus(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static FinalStatus fromWire(String wire) {
        for (FinalStatus status : values()) {
            if (status.wire.equals(wire)) {
                return status;
            }
        }
        throw new IllegalArgumentException("unknown final status: " + wire);
    }
}
