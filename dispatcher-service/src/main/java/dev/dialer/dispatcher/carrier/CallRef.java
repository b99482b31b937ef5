package dev.dialer.dispatcher.carrier;

/**
 * One placed (or possibly placed) attempt, by our correlation ids and, when known, the carrier's id.
 *
 * @param requestId      the request
 * @param attempt        the attempt number
 * @param providerCallId the carrier's id of the call; {@code null} when the create-call answer never arrived
 */
public record CallRef(String requestId, int attempt, String providerCallId) {
}
