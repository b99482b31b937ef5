package dev.dialer.dispatcher.command;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.dispatcher.pacing.LaneWork.Placement;
import org.junit.jupiter.api.Test;

class CommandPlacementTest {

    @Test
    void onlyACommandThatClaimedItsDialAndPlacedNoCallFreesASlotACountFoundIt() {
        assertThat(CommandConsumer.placement(CommandOutcome.DIALLED)).isEqualTo(Placement.PLACED);
        assertThat(CommandConsumer.placement(CommandOutcome.FAILED)).isEqualTo(Placement.NONE_IN_FLIGHT);
        assertThat(CommandConsumer.placement(CommandOutcome.REQUEUED)).isEqualTo(Placement.NONE_IN_FLIGHT);
        // Failed after its claim: the carrier may have the call, whose slot stays taken; counted as any error.
        assertThat(CommandConsumer.placement(CommandOutcome.ERROR_AFTER_CLAIM)).isEqualTo(Placement.PLACED);
        assertThat(CommandOutcome.ERROR_AFTER_CLAIM.wire()).isEqualTo("error");
        assertThat(CommandOutcome.ERROR_AFTER_CLAIM.keptAside()).isTrue();
        // A copy of an attempt in flight, or a command the policy or the contract stopped: a call the count found
        // holding the slot may be that attempt's, and keeps it.
        for (CommandOutcome outcome : new CommandOutcome[] {CommandOutcome.DUPLICATE, CommandOutcome.HELD_BY_POLICY,
                CommandOutcome.DLQ, CommandOutcome.REROUTED, CommandOutcome.ERROR}) {
            assertThat(CommandConsumer.placement(outcome)).as(outcome.wire()).isEqualTo(Placement.NOT_PLACED);
        }
    }
}
