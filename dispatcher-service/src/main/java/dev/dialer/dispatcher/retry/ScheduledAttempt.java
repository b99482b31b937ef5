package dev.dialer.dispatcher.retry;

import dev.dialer.common.contract.CallCommand;
import java.time.Instant;

/**
 * A claimed {@code dispatch.schedule} row.
 *
 * @param command the request's command, as first received
 * @param attempt the attempt to run
 * @param dueAt   when it became due
 * @param reason  why it waited: {@code retry}, {@code capacity} (a requeued attempt), {@code parked}, {@code window}…
 */
record ScheduledAttempt(CallCommand command, int attempt, Instant dueAt, String reason) {

    /** An attempt that was requeued after the carrier took no call: it goes back to the front of its lane. */
    boolean requeued() {
        return "capacity".equals(reason);
    }
}
