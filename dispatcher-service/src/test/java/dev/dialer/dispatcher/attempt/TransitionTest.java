package dev.dialer.dispatcher.attempt;

import static dev.dialer.common.contract.AttemptStatus.BUSY;
import static dev.dialer.common.contract.AttemptStatus.COMPLETED;
import static dev.dialer.common.contract.AttemptStatus.INITIATED;
import static dev.dialer.common.contract.AttemptStatus.IN_PROGRESS;
import static dev.dialer.common.contract.AttemptStatus.QUEUED;
import static dev.dialer.common.contract.AttemptStatus.RINGING;
import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import org.junit.jupiter.api.Test;

class TransitionTest {

    @Test
    void initiatedFollowsOnlyQueued() {
        assertThat(Transition.predecessorsOf(INITIATED)).containsExactly(QUEUED);
    }

    @Test
    void ringingDoesNotFollowRingingSoARepeatedRingingChangesNothing() {
        assertThat(Transition.predecessorsOf(RINGING)).containsExactly(QUEUED, INITIATED);
    }

    @Test
    void inProgressMayFollowAnyEarlierStatusBecauseCallbacksCanBeLost() {
        assertThat(Transition.predecessorsOf(IN_PROGRESS)).containsExactly(QUEUED, INITIATED, RINGING);
    }

    @Test
    void terminalStatusEndsAnyAttemptThatHasNotEnded() {
        for (AttemptStatus terminal : new AttemptStatus[] {COMPLETED, BUSY, AttemptStatus.NO_ANSWER,
                AttemptStatus.FAILED, AttemptStatus.CANCELED}) {
            assertThat(Transition.predecessorsOf(terminal)).containsExactly(QUEUED, INITIATED, RINGING, IN_PROGRESS);
        }
    }

    @Test
    void aChangeDecidedFromAStatusMayStartOnlyFromItAndNotAtAllWhenItCannotMoveThere() {
        assertThat(change(AttemptStatus.NO_ANSWER, null).allowedFrom())
                .containsExactly(QUEUED, INITIATED, RINGING, IN_PROGRESS);
        assertThat(change(AttemptStatus.NO_ANSWER, RINGING).allowedFrom()).containsExactly(RINGING);
        assertThat(change(RINGING, IN_PROGRESS).allowedFrom()).isEmpty();
        assertThat(change(AttemptStatus.FAILED, COMPLETED).allowedFrom()).isEmpty();
    }

    private static Transition change(AttemptStatus to, AttemptStatus from) {
        return new Transition("t-1", 1, to, null, null, null, null, 1, true, from);
    }
}
