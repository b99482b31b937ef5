package dev.dialer.dispatcher.carrier;

import dev.dialer.common.contract.AttemptStatus;

/**
 * A carrier's answer about one call.
 *
 * @param status          the attempt status the carrier's state maps to
 * @param providerStatus  the carrier's raw status
 * @param providerCallId  the carrier's id of the call
 * @param sipStatus       SIP response code, if known
 * @param sipReason       SIP reason phrase, if known
 * @param durationSeconds talk time of a completed call
 */
public record CallReport(AttemptStatus status, String providerStatus, String providerCallId, Integer sipStatus,
                         String sipReason, Integer durationSeconds) {
}
