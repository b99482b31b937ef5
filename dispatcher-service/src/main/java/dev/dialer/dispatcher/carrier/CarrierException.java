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
    private final Integer httpStatus;

    public CarrierException(Reason reason, String message, Throwable cause) {
        this(reason, null, message, cause);
    }

    public CarrierException(Reason reason, Integer httpStatus, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.httpStatus = httpStatus;
    }

    public Reason reason() {
        return reason;
    }

    /** The HTTP status the carrier's API answered with, when it answered at all. */
    public Integer httpStatus() {
        return httpStatus;
    }

    /**
     * A failure of the carrier rather than an answer about the callee, after which another carrier may be tried
     * without ringing anyone twice: no connection, or a 5xx from the API. A timeout is not one: the call may have been
     * placed (it is reconciled instead).
     */
    public boolean isTechnical() {
        return reason == Reason.UNREACHABLE || (reason == Reason.REJECTED && httpStatus != null && httpStatus >= 500);
    }
}
