package dev.dialer.dispatcher.carrier;

import java.util.Locale;

/** The carrier did not accept a call: it refused it, did not answer in time, or could not be reached. */
public final class CarrierException extends RuntimeException {

    /** Why; also the {@code outcome} tag of the carrier request timer. */
    public enum Reason {
        /** The carrier answered with a status other than 2xx, or with an answer that names no call. */
        REJECTED,
        /** No answer within the request timeout; the call may or may not have been placed. */
        TIMEOUT,
        /** No connection to the carrier. */
        UNREACHABLE;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Reason reason;

    public CarrierException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
