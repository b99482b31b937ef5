package dev.dialer.dispatcher.carrier;

import java.util.Locale;

/** The carrier did not accept a call: it refused it, did not answer in time, or could not be reached. */
public final class CarrierException extends RuntimeException {

    /** Why; also the {@code outcome} tag of the carrier request timer. */
    public enum Reason {
        /** The carrier answered with a status other than 2xx. */
        REJECTED,
        /** No answer within the request timeout; the call may or may not have been placed. */
        TIMEOUT,
        /** No connection to the carrier: the request never reached it. */
        UNREACHABLE,
        /**
         * The request was sent and no usable answer came: the connection failed before the answer (closed, reset),
         * or a 2xx answer named no call or could not be read. The call may or may not have been placed.
         */
        LOST;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** {@code error.code} of an attempt whose destination the carrier has no way to address. */
    public static final String UNSUPPORTED_TARGET = "unsupported_target";

    private final Reason reason;
    private final Integer httpStatus;
    private final String errorCode;
    private final String carrier;
    private final boolean credentialsRefused;

    public CarrierException(Reason reason, String message, Throwable cause) {
        this(reason, null, message, cause);
    }

    public CarrierException(Reason reason, Integer httpStatus, String message, Throwable cause) {
        this(reason, httpStatus, message, cause, null);
    }

    private CarrierException(Reason reason, Integer httpStatus, String message, Throwable cause, String errorCode) {
        this(reason, httpStatus, message, cause, errorCode, null, false);
    }

    private CarrierException(Reason reason, Integer httpStatus, String message, Throwable cause, String errorCode,
                             String carrier, boolean credentialsRefused) {
        super(message, cause);
        this.reason = reason;
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
        this.carrier = carrier;
        this.credentialsRefused = credentialsRefused;
    }

    /**
     * The carrier's API refused the dialer's credentials in an answer of another status than 401, 403 or 407: jambonz
     * answers a key of another account than the one the request names (a route's carrier given its own account sid
     * and the default carrier's key, a key pasted from another account, a service provider's key) with a 400.
     */
    public static CarrierException credentialsRefused(int httpStatus, String message) {
        return new CarrierException(Reason.REJECTED, httpStatus, message, null, null, null, true);
    }

    /**
     * The carrier cannot address this kind of destination at all (a registered user over a plain SIP trunk): a refusal
     * made before anything was sent, the same on every try: the attempt is not retried, but a route may hand it to its
     * next carrier.
     */
    public static CarrierException unsupportedTarget(String message) {
        return new CarrierException(Reason.REJECTED, null, message, null, UNSUPPORTED_TARGET);
    }

    /**
     * The same failure, naming the carrier whose answer it is (a route's carriers are tried in turn, and the one that
     * failed last is not the one whose trunk paced the call); the name it has already is kept.
     */
    public CarrierException from(String carrierName) {
        if (carrier != null || carrierName == null) {
            return this;
        }
        CarrierException named = new CarrierException(reason, httpStatus, getMessage(), getCause(), errorCode,
                carrierName, credentialsRefused);
        named.setStackTrace(getStackTrace());
        return named;
    }

    /** The name of the carrier (and its trunk) that failed, when a route said it ({@link #from}); else null. */
    public String carrier() {
        return carrier;
    }

    /** The {@code error.code} the attempt's failure carries, when more precise than {@code carrier_error}; or null. */
    public String errorCode() {
        return errorCode;
    }

    /** Whether the carrier refused the destination's kind before sending anything ({@link #UNSUPPORTED_TARGET}). */
    public boolean isUnsupportedTarget() {
        return UNSUPPORTED_TARGET.equals(errorCode);
    }

    public Reason reason() {
        return reason;
    }

    /** The HTTP status the carrier's API answered with, when it answered at all. */
    public Integer httpStatus() {
        return httpStatus;
    }

    /**
     * A failure of the carrier rather than an answer about the callee, after which the call was certainly not placed,
     * so another carrier (or a later try) may take it without ringing anyone twice: no connection, a 503 (the server
     * did not take the request on), another 5xx but those that {@link #mayHaveBeenPlaced may have placed} the call,
     * a 429 (the API's rate limit), jambonz's 480 (no feature server to place it), or a 401, 403 or 407: the API
     * refused the dialer's own credentials or their permissions (a key revoked or rotated, an account suspended), which
     * says nothing of the call and is mended at the carrier, as an outage is (decision 0152).
     */
    public boolean isTechnical() {
        if (reason == Reason.UNREACHABLE) {
            return true;
        }
        return reason == Reason.REJECTED && httpStatus != null && !mayHaveBeenPlaced()
                && (httpStatus >= 500 || httpStatus == 429 || httpStatus == 480 || isCredentialsRefusal());
    }

    /**
     * Whether the carrier's API refused the dialer's credentials or their permissions (HTTP 401, 403, 407, or an
     * answer that says so in other words: {@link #credentialsRefused}).
     */
    public boolean isCredentialsRefusal() {
        return reason == Reason.REJECTED && httpStatus != null
                && (credentialsRefused || httpStatus == 401 || httpStatus == 403 || httpStatus == 407);
    }

    /**
     * Whether the carrier's API refused the call for its capacity (HTTP 429: a rate or channel limit, which some
     * carriers answer to the create-call rather than report in a callback): not placed, and no sign that the carrier
     * fails. Technical all the same ({@link #isTechnical}): another carrier of the route may have room.
     */
    public boolean isCapacityRefusal() {
        return reason == Reason.REJECTED && httpStatus != null && httpStatus == 429;
    }

    /**
     * Whether this says the carrier fails, as its circuit breaker counts: a technical failure or one that may have
     * placed the call, but not a refusal for its capacity (a limit a few calls fewer keeps).
     */
    public boolean countsAgainstCarrier() {
        return !isCapacityRefusal() && (isTechnical() || mayHaveBeenPlaced());
    }

    /**
     * Whether the call may have been placed although no create-call answer said so: a timeout, a connection lost after
     * the request was sent (a proxy's 503 saying so included, {@link VoiceGatewayCarrier#placedCall}), or a 500, 502,
     * 504, 520 or 524 (the server, or the gateway in front of it, failed while the request was being handled; jambonz
     * answers 500 when its feature server did not confirm the call, which may have gone out; Cloudflare answers 520
     * when the origin's answer was empty or unreadable, 524 when the origin took the request and did not answer in
     * time). Such a call is reconciled (its callbacks, else the watchdog), never dialled again or elsewhere.
     */
    public boolean mayHaveBeenPlaced() {
        return reason == Reason.TIMEOUT || reason == Reason.LOST
                || (reason == Reason.REJECTED && httpStatus != null && (httpStatus == 500 || httpStatus == 502
                        || httpStatus == 504 || httpStatus == 520 || httpStatus == 524));
    }
}
