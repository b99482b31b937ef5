package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.dispatcher.outcome.Outcome;
import dev.dialer.dispatcher.outcome.Verdict;
import org.junit.jupiter.api.Test;

class CancelledOutcomeTest {

    @Test
    void anEndAfterOurCancelIsCanceledNotRetried() {
        assertThat(CallbackApplier.CANCELLED).isEqualTo(new Outcome(Verdict.CANCELED, AttemptStatus.CANCELED));
        assertThat(CallbackApplier.endsCanceled(true, AttemptStatus.NO_ANSWER)).isTrue();
        assertThat(CallbackApplier.endsCanceled(true, AttemptStatus.BUSY)).isTrue();
        assertThat(CallbackApplier.endsCanceled(true, AttemptStatus.FAILED)).isTrue();
    }

    @Test
    void aCallAnsweredBeforeTheCancelReachedTheCarrierEndsAsAnsweredCallsEnd() {
        assertThat(CallbackApplier.endsCanceled(true, AttemptStatus.COMPLETED)).isFalse();
    }

    @Test
    void withoutACancelTheCarriersWordDecides() {
        assertThat(CallbackApplier.endsCanceled(false, AttemptStatus.NO_ANSWER)).isFalse();
    }
}
