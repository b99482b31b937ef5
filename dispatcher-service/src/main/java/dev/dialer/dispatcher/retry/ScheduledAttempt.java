package dev.dialer.dispatcher.retry;

import dev.dialer.common.contract.CallCommand;
import java.time.Instant;

/**
 * A claimed {@code dispatch.schedule} row.
 *
 * @param command    the request's command, as first received
 * @param attempt    the attempt to run
 * @param dueAt      its due time now
 * @param reason     why it waited: {@code retry}, {@code capacity} (a requeued attempt), {@code parked}, {@code window}…
 * @param firstDueAt when this wait first became due: {@code dueAt}, or earlier when the row was held since (a hold
 *                   moves {@code dueAt} ahead); how late the row fires is counted from here
 * @param traceparent the request's W3C {@code traceparent}, which the re-injected command carries; null if none
 * @param leaseUntil  the lease this claim set: what the claim's remove or hold matches, so a wait written into the
 *                    row meanwhile (every such write clears the lease) stays, even when due at the very same instant
 */
record ScheduledAttempt(CallCommand command, int attempt, Instant dueAt, String reason, Instant firstDueAt,
                        String traceparent, Instant leaseUntil) {

    ScheduledAttempt(CallCommand command, int attempt, Instant dueAt, String reason, Instant firstDueAt,
                     String traceparent) {
        this(command, attempt, dueAt, reason, firstDueAt, traceparent, null);
    }

    ScheduledAttempt(CallCommand command, int attempt, Instant dueAt, String reason, Instant firstDueAt) {
        this(command, attempt, dueAt, reason, firstDueAt, null);
    }

    /** An attempt that was requeued after the carrier took no call: it goes back to the front of its lane. */
    boolean requeued() {
        return "capacity".equals(reason);
    }
}
