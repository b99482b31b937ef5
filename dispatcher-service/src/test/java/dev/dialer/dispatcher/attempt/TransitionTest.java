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
}
