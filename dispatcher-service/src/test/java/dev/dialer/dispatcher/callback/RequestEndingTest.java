package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.dispatcher.outcome.Outcome;
import dev.dialer.dispatcher.outcome.Verdict;
import org.junit.jupiter.api.Test;

class RequestEndingTest {

    @Test
    void answeredAttemptEndsRequestAnswered() {
        assertThat(end(Verdict.ANSWERED, AttemptStatus.COMPLETED))
                .isEqualTo(new CallbackApplier.RequestEnding(FinalStatus.ANSWERED, null, null));
    }

    @Test
    void retryableWithoutAttemptsLeftAndDeclinedEndExhausted() {
        assertThat(end(Verdict.RETRYABLE, AttemptStatus.BUSY).status()).isEqualTo(FinalStatus.EXHAUSTED);
        assertThat(end(Verdict.RETRYABLE, AttemptStatus.BUSY).errorCode()).isNull();
        assertThat(end(Verdict.DECLINED, AttemptStatus.BUSY).status()).isEqualTo(FinalStatus.EXHAUSTED);
    }

    @Test
    void capacityRejectionEndsExhaustedWithCapacityError() {
        CallbackApplier.RequestEnding ending = end(Verdict.CAPACITY, AttemptStatus.FAILED);

        assertThat(ending.status()).isEqualTo(FinalStatus.EXHAUSTED);
        assertThat(ending.errorCode()).isEqualTo("capacity");
    }

    @Test
    void unreachableNumberEndsFailed() {
        assertThat(end(Verdict.UNREACHABLE, AttemptStatus.FAILED).status()).isEqualTo(FinalStatus.FAILED);
    }

    @Test
    void aRetryThePolicyWouldBlockEndsBlockedAsTheGateSaysIt() {
        assertThat(CallbackApplier.RequestEnding.blocked("dnc")).isEqualTo(new CallbackApplier.RequestEnding(
                FinalStatus.BLOCKED, "dnc", "the number is on the account's do-not-call list"));
    }

    private static CallbackApplier.RequestEnding end(Verdict verdict, AttemptStatus status) {
        return CallbackApplier.RequestEnding.of(new Outcome(verdict, status));
    }
}
