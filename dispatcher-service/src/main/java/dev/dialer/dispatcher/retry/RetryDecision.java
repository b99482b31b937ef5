package dev.dialer.dispatcher.retry;

import java.time.Instant;

/**
 * Whether an ended attempt gets another one.
 *
 * @param nextAttempt the attempt to run, when one follows; 0 otherwise
 * @param dueAt       when it may run, never earlier; {@code null} when none follows
 */
public record RetryDecision(int nextAttempt, Instant dueAt) {

    private static final RetryDecision NONE = new RetryDecision(0, null);

    /** No further attempt: the request ends now. */
    public static RetryDecision none() {
        return NONE;
    }

    public boolean willRetry() {
        return dueAt != null;
    }
}
