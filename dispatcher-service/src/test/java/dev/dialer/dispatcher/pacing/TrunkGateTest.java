package dev.dialer.dispatcher.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TrunkGateTest {

    private static final long HOUR = 3_600_000_000_000L;
    private final AtomicLong clock = new AtomicLong();

    @Test
    void holdsNoMoreCallsThanItsConcurrency() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, clock::get);

        assertThat(trunk.acquireOrWait("a", "acc", 0, () -> { })).isZero();
        assertThat(trunk.acquireOrWait("b", "acc", 0, () -> { })).isZero();
        assertThat(trunk.acquireOrWait("c", "acc", 0, () -> { })).isEqualTo(TrunkGate.QUEUED);
        assertThat(trunk.inFlight()).isEqualTo(2);
    }

    @Test
    void halvesItsLimitOnACapacityRejectionNeverBelowOneAndGrowsBackOnSuccess() {
        TrunkGate trunk = new TrunkGate(0, 8, HOUR, clock::get);
        for (int i = 0; i < 8; i++) {
            trunk.acquireOrWait("call" + i, "acc", 0, () -> { });
        }

        trunk.capacityRejected("call0");
        assertThat(trunk.currentLimit()).isEqualTo(4);
        for (int i = 1; i < 5; i++) {
            trunk.capacityRejected("call" + i);
        }
        assertThat(trunk.currentLimit()).isEqualTo(1);
        for (int i = 5; i < 8; i++) {
            trunk.release("call" + i, false);
        }
        assertThat(trunk.currentLimit()).isEqualTo(1);

        for (int round = 0; round < 100; round++) {
            trunk.acquireOrWait("ok" + round, "acc", 0, () -> { });
            trunk.release("ok" + round, true);
        }
        assertThat(trunk.currentLimit()).isBetween(2, 8);
    }

    @Test
    void wakesWaitingAccountsRoundRobinNotFirstComeFirstServed() {
        TrunkGate trunk = new TrunkGate(0, 1, HOUR, clock::get);
        trunk.acquireOrWait("held", "big", 0, () -> { });
        List<String> woken = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int n = i;
            trunk.acquireOrWait("big" + i, "big", 0, () -> woken.add("big" + n));
        }
        trunk.acquireOrWait("small0", "small", 0, () -> woken.add("small0"));

        for (int i = 0; i < 4; i++) {
            trunk.release(i == 0 ? "held" : "nothing-" + i, true);
            // Each wake takes the freed slot and gives it back, as a dial that ended would.
            if (!woken.isEmpty()) {
                trunk.acquireOrWait("x" + i, "any", 0, () -> { });
                trunk.release("x" + i, true);
            }
        }

        assertThat(woken).startsWith("big0", "small0");
    }

    @Test
    void givesBackASlotWhoseTerminalStatusNeverCameAfterTheTimeLimit() {
        TrunkGate trunk = new TrunkGate(0, 1, 1_000, clock::get);
        trunk.acquireOrWait("lost", "acc", 0, () -> { });

        assertThat(trunk.acquireOrWait("next", "acc", 500, () -> { })).isEqualTo(TrunkGate.QUEUED);
        assertThat(trunk.acquireOrWait("next", "acc", 1_001, () -> { })).isEqualTo(1_001);
    }

    @Test
    void refusesAStartItsRateDoesNotAllowYetAndSaysWhenToTryAgain() {
        TrunkGate trunk = new TrunkGate(10, 0, HOUR, clock::get);

        assertThat(trunk.acquireOrWait("a", "acc", 0, () -> { })).isZero();
        assertThat(trunk.acquireOrWait("b", "acc", 0, () -> { })).isEqualTo(100_000_000L);
        assertThat(trunk.inFlight()).isEqualTo(1);
    }

    @Test
    void dividesItsLimitsByThePartitionShare() {
        TrunkGate trunk = new TrunkGate(100, 30, HOUR, clock::get);
        trunk.share(1.0 / 3);

        assertThat(trunk.currentLimit()).isEqualTo(10);
        assertThat(trunk.currentCps()).isCloseTo(33.3, org.assertj.core.data.Offset.offset(0.1));
    }
}
