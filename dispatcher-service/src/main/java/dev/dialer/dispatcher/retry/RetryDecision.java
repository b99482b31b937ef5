package dev.dialer.dispatcher.retry;

import java.time.Instant;

/**
 * Whether an ended attempt gets another one.
 *
 * @param nextAttempt the attempt to run, when one follows; 0 otherwise
 * @param dueAt       when it may run, never earlier; {@code null} when none follows
 * @param expires     whether none follows because the request's {@code valid_until} comes before the next could be
 *                    made: the request ends {@code expired}, not {@code exhausted}
 * @param heldByCap   whether it is the callee's per-callee cap that would hold the next past {@code valid_until}
 * @param blockedBy   the dial-time policy's reason to block the next attempt ({@code dnc}: the number was put on the
 *                    DNC list while the attempt ran), if that is why none follows: the request ends {@code blocked}
 */
public record RetryDecision(int nextAttempt, Instant dueAt, boolean expires, boolean heldByCap, String blockedBy) {

    private static final RetryDecision NONE = new RetryDecision(0, null, false, false, null);
    private static final RetryDecision EXPIRES = new RetryDecision(0, null, true, false, null);
    private static final RetryDecision HELD_BY_CAP = new RetryDecision(0, null, true, true, null);

    public RetryDecision(int nextAttempt, Instant dueAt) {
        this(nextAttempt, dueAt, false, false, null);
    }

    /** No further attempt, because the dial-time policy would block it now, for {@code reason}. */
    public static RetryDecision blocked(String reason) {
        return new RetryDecision(0, null, false, false, reason);
    }

    /** No further attempt: the request ends now. */
    public static RetryDecision none() {
        return NONE;
    }

    /**
     * No further attempt, because the request's {@code valid_until} passes before it would be due, or before the
     * calling window opens after that.
     */
    public static RetryDecision expiresFirst() {
        return EXPIRES;
    }

    /** No further attempt, because the callee's per-callee cap would hold it until past the request's valid_until. */
    public static RetryDecision heldByCapPastValidUntil() {
        return HELD_BY_CAP;
    }

    public boolean willRetry() {
        return dueAt != null;
    }
}
