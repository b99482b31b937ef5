package dev.dialer.dispatcher.retry;

import dev.dialer.common.contract.CallCommand;
import java.time.Instant;

/**
 * A claimed {@code dispatch.schedule} row.
 *
 * @param command the request's command, as first received
 * @param attempt the attempt to run
 * @param dueAt   when it became due
 */
record ScheduledAttempt(CallCommand command, int attempt, Instant dueAt) {
}
