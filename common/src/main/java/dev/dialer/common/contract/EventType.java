package dev.dialer.common.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** The kinds of {@link CallEvent}; subscriptions filter on these. */
public enum EventType {
    /** An attempt changed status. */
    STATUS("call.status"),
    /** The request waits: for a calling window, a retry or carrier capacity. */
    DEFERRED("call.deferred"),
    /** The request's one final outcome. */
    FINAL("call.final"),
    /**
     * A cancel came too late ({@code reason=too_late}): the call had been answered, or the request had ended already.
     * {@code status} is the call's status when the cancel was applied ({@code in-progress} or the final status). The
     * request goes on (or stays ended) as if the cancel had not been sent; its {@code call.final} is unaffected.
     */
    CANCEL_REJECTED("call.cancel_rejected");

    private final String wire;

    EventType(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static EventType fromWire(String wire) {
        for (EventType type : values()) {
            if (type.wire.equals(wire)) {
                return type;
            }
        }
        throw new IllegalArgumentException("unknown event type: " + wire);
    }
}
