package dev.dialer.dispatcher.attempt;

import dev.dialer.common.contract.AttemptStatus;

/**
 * An attempt that reached the carrier, has not ended, and has had no news for a while.
 *
 * @param requestId      the request
 * @param attempt        the attempt number
 * @param status         its status on record
 * @param providerCallId the carrier's id of the call, if the carrier ever named it
 */
public record QuietAttempt(String requestId, int attempt, AttemptStatus status, String providerCallId) {
}
