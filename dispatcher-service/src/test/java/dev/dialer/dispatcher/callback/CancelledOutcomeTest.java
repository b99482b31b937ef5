package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.dispatcher.outcome.Outcome;
import dev.dialer.dispatcher.outcome.Verdict;
import org.junit.jupiter.api.Test;

class CancelledOutcomeTest {

    @Test
    void noAnswerAfterOurCancelIsCanceledNotRetried() {
        assertThat(CallbackApplier.cancelledOutcome(AttemptStatus.NO_ANSWER))
                .isEqualTo(new Outcome(Verdict.CANCELED, AttemptStatus.CANCELED));
    }

    @Test
    void answeredCallHungUpByTheCancelStaysCompletedAndEndsTheRequestCanceled() {
        assertThat(CallbackApplier.cancelledOutcome(AttemptStatus.COMPLETED))
                .isEqualTo(new Outcome(Verdict.CANCELED, AttemptStatus.COMPLETED));
    }

    @Test
    void anyOtherEndAfterACancelIsCanceled() {
        assertThat(CallbackApplier.cancelledOutcome(AttemptStatus.BUSY).verdict()).isEqualTo(Verdict.CANCELED);
        assertThat(CallbackApplier.cancelledOutcome(AttemptStatus.FAILED).attemptStatus())
                .isEqualTo(AttemptStatus.CANCELED);
    }
}
