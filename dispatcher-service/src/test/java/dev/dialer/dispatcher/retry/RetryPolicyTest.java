package dev.dialer.dispatcher.retry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.outcome.Verdict;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Mono;

class RetryPolicyTest {

    private static final Instant ENDED = Instant.parse("2026-03-01T10:15:30Z");

    private final RetryPolicy policy = new RetryPolicy(Duration.ofMinutes(1));

    @Test
    void nextAttemptIsDueTheIntervalAfterTheAttemptEnded() {
        RetryDecision decision = policy.decide(command(15, 3), 1, Verdict.RETRYABLE, ENDED);

        assertThat(decision.willRetry()).isTrue();
        assertThat(decision.nextAttempt()).isEqualTo(2);
        assertThat(decision.dueAt()).isEqualTo(Instant.parse("2026-03-01T10:30:30Z"));
    }

    @Test
    void minuteLengthScalesTheInterval() {
        RetryPolicy fast = new RetryPolicy(Duration.ofMillis(200));

        assertThat(fast.decide(command(5, 3), 2, Verdict.RETRYABLE, ENDED).dueAt())
                .isEqualTo(ENDED.plusSeconds(1));
        assertThat(fast.dueAfter(ENDED, 60)).isEqualTo(ENDED.plusSeconds(12));
    }

    @Test
    void retriesWhileTheAttemptIsBelowMaxAttempts() {
        assertThat(policy.decide(command(5, 3), 2, Verdict.RETRYABLE, ENDED).nextAttempt()).isEqualTo(3);
        assertThat(policy.decide(command(5, 3), 3, Verdict.RETRYABLE, ENDED)).isEqualTo(RetryDecision.none());
        assertThat(policy.decide(command(5, 1), 1, Verdict.RETRYABLE, ENDED).willRetry()).isFalse();
    }

    @Test
    void aNextAttemptThePolicyWouldBlockNowIsNotScheduledTheRequestEndsBlocked() {
        List<String> counted = new ArrayList<>();
        RetryPolicy listed = new RetryPolicy(Duration.ofMinutes(1), CallCommand::expiredAt,
                (command, at) -> Mono.just(false), command -> "dnc", counted::add);

        assertThat(listed.decide(command(15, 3), 1, Verdict.RETRYABLE, ENDED)).isEqualTo(RetryDecision.blocked("dnc"));
        assertThat(listed.decide(command(15, 3), 1, Verdict.RETRYABLE, ENDED).willRetry()).isFalse();
        // Blocked before it could expire: the block is what the policy answers first.
        CallCommand endsAtHalfPast = validUntil(command(15, 3), Instant.parse("2026-03-01T10:30:00Z"));
        assertThat(listed.decide(endsAtHalfPast, 1, Verdict.RETRYABLE, ENDED).blockedBy()).isEqualTo("dnc");
        // The last attempt, or one not retried anyway, ends as its outcome says.
        assertThat(listed.decide(command(15, 3), 3, Verdict.RETRYABLE, ENDED)).isEqualTo(RetryDecision.none());
        assertThat(listed.decide(command(15, 3), 1, Verdict.ANSWERED, ENDED)).isEqualTo(RetryDecision.none());
        assertThat(policy.decide(command(15, 3), 1, Verdict.RETRYABLE, ENDED).blockedBy()).isNull();

        listed.countBlocked("dnc");
        assertThat(counted).containsExactly("dnc");
    }

    @Test
    void aNextAttemptThatWouldNotBeDueBeforeValidUntilIsNotScheduledTheRequestExpires() {
        // Ended 10:15:30, interval 15: the next would be due 10:30:30.
        CallCommand endsAtHalfPast = validUntil(command(15, 3), Instant.parse("2026-03-01T10:30:00Z"));
        CallCommand endsAtEleven = validUntil(command(15, 3), Instant.parse("2026-03-01T11:00:00Z"));
        CallCommand endsWhenDue = validUntil(command(15, 3), Instant.parse("2026-03-01T10:30:30Z"));

        assertThat(policy.decide(endsAtHalfPast, 1, Verdict.RETRYABLE, ENDED)).isEqualTo(RetryDecision.expiresFirst());
        assertThat(policy.decide(endsWhenDue, 1, Verdict.RETRYABLE, ENDED).expires()).isTrue();
        assertThat(policy.decide(endsAtEleven, 1, Verdict.RETRYABLE, ENDED).dueAt())
                .isEqualTo(Instant.parse("2026-03-01T10:30:30Z"));
        // The last attempt, or one not retried anyway, is exhausted or ended as its outcome says: not expired.
        assertThat(policy.decide(endsAtHalfPast, 3, Verdict.RETRYABLE, ENDED).expires()).isFalse();
        assertThat(policy.decide(endsAtHalfPast, 1, Verdict.ANSWERED, ENDED).expires()).isFalse();
    }

    @Test
    void intervalZeroNeverRetries() {
        RetryDecision decision = policy.decide(command(0, 3), 1, Verdict.RETRYABLE, ENDED);

        assertThat(decision.willRetry()).isFalse();
        assertThat(decision.dueAt()).isNull();
    }

    @ParameterizedTest
    @EnumSource(value = Verdict.class, names = "RETRYABLE", mode = EnumSource.Mode.EXCLUDE)
    void onlyRetryableOutcomesAreRetried(Verdict verdict) {
        assertThat(policy.decide(command(5, 3), 1, verdict, ENDED).willRetry()).isFalse();
    }

    private static CallCommand validUntil(CallCommand c, Instant validUntil) {
        return new CallCommand(c.version(), c.requestId(), c.accountId(), c.callerId(), c.to(), c.flowId(), c.audio(),
                c.campaign(), c.intervalMinutes(), c.maxAttempts(), c.attempt(), c.webhookId(), c.foreignId(),
                c.variables(), validUntil, c.priority(), c.notifyUrl(), c.actionHook(), c.carrierOptions(),
                c.createdAt());
    }

    private static CallCommand command(int intervalMinutes, int maxAttempts) {
        return new CallCommand(1, "req-1", "acc-1", "+4930123456", "+4915112345670", null, "welcome.wav", "c",
                intervalMinutes, maxAttempts, 1, null, null, null, null, null, null, null, null,
                Instant.parse("2026-03-01T10:00:00Z"));
    }
}
