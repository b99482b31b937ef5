package dev.dialer.dispatcher.retry;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.outcome.Verdict;
import dev.dialer.dispatcher.policy.DialGate;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BiFunction;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import java.util.function.Function;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Decides whether an ended attempt gets another one, and when (ARCHITECTURE.md §5). {@link #decide} is pure: the
 * caller passes the instant the attempt ended, taken from the injected {@link java.time.Clock}; {@link #decideCounted}
 * also counts the callee's dials in PostgreSQL where the account has a per-callee cap.
 *
 * <p>Only a {@link Verdict#RETRYABLE} outcome (busy, no answer, transient failure) is retried, and only while the
 * attempt is below {@link CallCommand#allowedAttempts()} (one when {@code interval_minutes} is 0). The next attempt
 * is due {@code interval_minutes} after the attempt ended, never early. A next attempt that could not be dialled
 * before the request's {@code valid_until} is not scheduled: due after it, or due outside the calling window when the
 * window next opens after it ({@link DialGate#expiresBy}). The request ends {@code expired} now, rather than being
 * told it will be retried and then expiring when that retry comes due. Alike, a next attempt the dial-time policy
 * would block ({@link DialGate#blockedNow}: the number was put on the account's DNC list while the attempt ran, or
 * the caller ID taken off its allowed ones) is not scheduled: the request ends {@code blocked} now.
 */
@Component
public class RetryPolicy {

    private final Duration minuteLength;
    private final BiPredicate<CallCommand, Instant> expiresBy;
    private final BiFunction<CallCommand, Instant, Mono<Boolean>> capHoldsPastValidUntil;
    private final Function<CallCommand, String> blockedNow;
    private final Consumer<String> blockCounted;

    @Autowired
    public RetryPolicy(RetryProperties properties, DialGate gate) {
        this(properties.minuteLength(), gate::expiresBy, gate::capHoldsPastValidUntil, gate::blockedNow,
                gate::blockedAtAttemptEnd);
    }

    /**
     * Without a calling window or a policy that blocks: a retry expires only when due at or after
     * {@code valid_until}.
     */
    RetryPolicy(Duration minuteLength) {
        this(minuteLength, CallCommand::expiredAt, (command, at) -> Mono.just(false), command -> null,
                reason -> { });
    }

    RetryPolicy(Duration minuteLength, BiPredicate<CallCommand, Instant> expiresBy,
                BiFunction<CallCommand, Instant, Mono<Boolean>> capHoldsPastValidUntil,
                Function<CallCommand, String> blockedNow, Consumer<String> blockCounted) {
        this.minuteLength = minuteLength;
        this.expiresBy = expiresBy;
        this.capHoldsPastValidUntil = capHoldsPastValidUntil;
        this.blockedNow = blockedNow;
        this.blockCounted = blockCounted;
    }

    /**
     * Counts, among the dial-time policy's decisions, a request ended {@code blocked} because of a decision's
     * {@link RetryDecision#blockedBy}, once its end is committed.
     */
    public void countBlocked(String reason) {
        blockCounted.accept(reason);
    }

    /**
     * @param command the request's command (its interval and attempt limit)
     * @param attempt the attempt that ended
     * @param verdict what its outcome means
     * @param endedAt when it ended
     */
    public RetryDecision decide(CallCommand command, int attempt, Verdict verdict, Instant endedAt) {
        if (verdict != Verdict.RETRYABLE || attempt >= command.allowedAttempts()) {
            return RetryDecision.none();
        }
        String blocked = blockedNow.apply(command);
        if (blocked != null) {
            return RetryDecision.blocked(blocked);
        }
        Instant due = dueAfter(endedAt, command.intervalMinutes());
        if (expiresBy(command, due)) {
            return RetryDecision.expiresFirst();
        }
        return new RetryDecision(attempt + 1, due);
    }

    /**
     * {@link #decide}, and a retry it would announce put to the account's per-callee cap too
     * ({@link DialGate#capHoldsPastValidUntil}): one the cap would hold until past the request's {@code valid_until}
     * could never be made either, and the request ends {@code expired} now. The cap takes a count of the callee's
     * dials in PostgreSQL, made only for a retry of a request with a {@code valid_until} in an account with a cap.
     */
    public Mono<RetryDecision> decideCounted(CallCommand command, int attempt, Verdict verdict, Instant endedAt) {
        RetryDecision decision = decide(command, attempt, verdict, endedAt);
        if (!decision.willRetry()) {
            return Mono.just(decision);
        }
        return capHoldsPastValidUntil.apply(command, decision.dueAt())
                .map(expires -> expires ? RetryDecision.heldByCapPastValidUntil() : decision);
    }

    /**
     * Whether a call brought back at {@code at} could only end {@code expired} ({@link DialGate#expiresBy}): asked of
     * every wait a call is announced to come back from, not only of retries.
     */
    public boolean expiresBy(CallCommand command, Instant at) {
        return expiresBy.test(command, at);
    }

    /** {@code endedAt} plus {@code intervalMinutes} minutes of {@link RetryProperties#minuteLength()}. */
    Instant dueAfter(Instant endedAt, int intervalMinutes) {
        return endedAt.plus(minuteLength.multipliedBy(intervalMinutes));
    }
}
