package dev.dialer.dispatcher.callback;

import dev.dialer.common.contract.AttemptStatus;

/**
 * A verified carrier status callback, in the dialer's words: what {@link CallbackApplier} applies, whether it came
 * over HTTP or, later, from a topic.
 *
 * @param requestId       the request, from the correlation tag
 * @param attempt         the attempt number, from the correlation tag
 * @param status          the attempt status the carrier's status maps to
 * @param providerStatus  the carrier's raw status
 * @param providerCallId  the carrier's id of the call
 * @param sipStatus       SIP response code, if reported
 * @param sipReason       SIP reason phrase, if reported
 * @param durationSeconds talk time, on a completed call
 */
public record CarrierCallback(String requestId, int attempt, AttemptStatus status, String providerStatus,
                              String providerCallId, Integer sipStatus, String sipReason, Integer durationSeconds) {
}
