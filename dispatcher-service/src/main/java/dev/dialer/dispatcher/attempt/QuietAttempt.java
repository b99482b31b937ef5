package dev.dialer.dispatcher.attempt;

import dev.dialer.common.contract.AttemptStatus;
import java.time.Instant;
import java.util.Map;

/**
 * An attempt that reached the carrier, has not ended, and has had no news for a while.
 *
 * @param requestId      the request
 * @param attempt        the attempt number
 * @param dial           which dial of the attempt it was claimed on ({@code dial_no}): what the watchdog asks the
 *                       carrier about, and all its answer may change
 * @param status         its status on record
 * @param providerCallId the carrier's id of the call, if the carrier ever named it
 * @param carrierAskedAt when the carrier was asked for its current dial; null when not known
 * @param carrierOptions the command's {@code carrier_options} (its own ring timeout and time limit, if any)
 */
public record QuietAttempt(String requestId, int attempt, int dial, AttemptStatus status, String providerCallId,
                           Instant carrierAskedAt, Map<String, Object> carrierOptions) {

    /** An attempt whose dial's time and options are not known: how long its call may last is not either. */
    public QuietAttempt(String requestId, int attempt, int dial, AttemptStatus status, String providerCallId) {
        this(requestId, attempt, dial, status, providerCallId, null, Map.of());
    }
}
