package dev.dialer.dispatcher.attempt;

/**
 * The attempt whose current dial placed a call, found by the carrier's id of the call
 * ({@link AttemptLedger#attemptOfCall}).
 *
 * @param requestId the request
 * @param attempt   the attempt number
 * @param dial      which dial of the attempt placed the call
 * @param callerId  the request's caller ID, whose owner applies the call's callbacks
 */
public record AttemptOfCall(String requestId, int attempt, int dial, String callerId) {
}
