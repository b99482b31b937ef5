package dev.dialer.dispatcher.attempt;

import java.time.Instant;
import java.util.Map;

/**
 * An attempt the carrier was asked to place that has not ended: a call that may be in progress on the trunk.
 *
 * @param requestId      the request
 * @param attempt        the attempt number
 * @param callerId       the caller ID (the key of the request's commands and callbacks)
 * @param carrierAskedAt when the carrier was asked
 * @param carrierOptions the command's {@code carrier_options} (its ring timeout and time limit tell how long the call
 *                       may last)
 * @param carrier        the route name of the carrier that placed it; null when not on record (placed by a version
 *                       that did not record it, or its answer not stored yet)
 */
public record InFlightAttempt(String requestId, int attempt, String callerId, Instant carrierAskedAt,
                              Map<String, Object> carrierOptions, String carrier) {
}
