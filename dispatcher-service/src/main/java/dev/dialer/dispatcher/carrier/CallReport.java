package dev.dialer.dispatcher.carrier;

import dev.dialer.common.contract.AttemptStatus;

/**
 * A carrier's answer about one call.
 *
 * @param status          the attempt status the carrier's state maps to
 * @param providerStatus  the carrier's raw status
 * @param providerCallId  the carrier's id of the call
 * @param sipStatus       SIP response code, if known: 100 to 699 (RFC 3261), anything else the carrier's status query
 *                        gives is none, as in its callbacks, rather than one the events' schema refuses
 * @param sipReason       SIP reason phrase, if known
 * @param durationSeconds talk time of a completed call: 0 or more, a negative one is none
 */
public record CallReport(AttemptStatus status, String providerStatus, String providerCallId, Integer sipStatus,
                         String sipReason, Integer durationSeconds) {

    public CallReport {
        sipStatus = sipStatus(sipStatus);
        durationSeconds = duration(durationSeconds);
    }

    /**
     * A SIP status code is 100 to 699 (RFC 3261); anything else from the carrier is no code, and the events made of
     * it carry none rather than one their schema refuses. For its callbacks as for its status query.
     */
    public static Integer sipStatus(Integer value) {
        return value != null && value >= 100 && value <= 699 ? value : null;
    }

    /** A call's duration is 0 seconds or more; a negative one from the carrier is none. */
    public static Integer duration(Integer value) {
        return value != null && value >= 0 ? value : null;
    }
}
