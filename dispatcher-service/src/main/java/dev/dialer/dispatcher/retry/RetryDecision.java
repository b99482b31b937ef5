package dev.dialer.dispatcher.retry;

import java.time.Instant;

/**
 * Whether an ended attempt gets another one.
 *
 * @param nextAttempt the attempt to run, when one follows; 0 otherwise
 * @param dueAt       when it may run, never earlier; {@code null} when none follows
 * @param expires     whether none follows because the request's {@code valid_until} comes before the next would be
 *                    due: the request ends {@code expired}, not {@code exhausted}
 */
public record RetryDecision(int nextAttempt, Instant dueAt, boolean expires) {

    private static final RetryDecision NONE = new RetryDecision(0, null, false);
    private static final RetryDecision EXPIRES = new RetryDecision(0, null, true);

    public RetryDecision(int nextAttempt, Instant dueAt) {
        this(nextAttempt, dueAt, false);
    }

    /** No further attempt: the request ends now. */
    public static RetryDecision none() {
        return NONE;
    }

    /** No further attempt, because the request's {@code valid_until} passes before it would be due. */
    public static RetryDecision expiresFirst() {
        return EXPIRES;
    }

    public boolean willRetry() {
        return dueAt != null;
    }
}
