package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import org.junit.jupiter.api.Test;

class CancelledOutcomeTest {

    /** That such an end is not retried is CarrierCancelIT's: a cancelled ringing call leaves nothing scheduled. */
    @Test
    void anEndAfterOurCancelIsDecidedByTheCancel() {
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
