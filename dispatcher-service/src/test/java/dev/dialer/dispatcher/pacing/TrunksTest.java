package dev.dialer.dispatcher.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/** Two carriers' trunks, "a" and "b": the account id names the trunk a command's route tries first. */
class TrunksTest {

    private static final long HOUR = 3_600_000_000_000L;
    private static final long SECOND = 1_000_000_000L;
    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final List<String> startedOn = new ArrayList<>();

    @AfterEach
    void stop() {
        time.dispose();
    }

    private Trunks trunks(int concurrencyA, int concurrencyB) {
        Map<String, Integer> concurrency = Map.of("a", concurrencyA, "b", concurrencyB);
        return new Trunks(name -> new TrunkGate(0, concurrency.getOrDefault(name, 0), HOUR, time),
                CallCommand::accountId, () -> List.of("a", "b"), (name, gate) -> { },
                (name, decidedAt) -> startedOn.add(name));
    }

    private static CallCommand command(String requestId, String trunk) {
        return new CallCommand(CallCommand.VERSION, requestId, trunk, "+4930555000", "+4915112345678", null,
                "welcome.wav", null, 0, 0, 1, null, null, Map.of(), null, null, null, null, Map.of(), Instant.now());
    }

    private static long start(Trunks trunks, String requestId, String trunk, Runnable wake) {
        return trunks.acquireOrWait(TrunkGate.slotKey(requestId, 1), command(requestId, trunk), 0, 0, HOUR, wake);
    }

    @Test
    void aCountedCallWhoseSlotAStartHoldsOnAnotherTrunkIsCountedThereAndFreedWithItsEnd() {
        Trunks trunks = trunks(5, 5);
        String slot = TrunkGate.slotKey("r1", 1);
        // A start on b, the route's first carrier; a count of a gained partition reads its claimed dial before the
        // carrier's answer is stored: no carrier on record.
        assertThat(start(trunks, "r1", "b", () -> { })).isZero();
        trunks.countingStarts();
        assertThat(trunks.holdCounted(List.of(new TrunkGate.CountedCall(slot, 0, SECOND)))).isZero();
        assertThat(trunks.gate("a").holds(slot)).as("no second slot on the first trunk").isFalse();

        trunks.placedOn(slot, "b");
        trunks.release(slot, true);

        assertThat(trunks.gate("a").inFlight() + trunks.gate("b").inFlight()).as("the call's end frees it").isZero();
    }

    @Test
    void eachTrunkHoldsNoMoreCallsThanItsOwnLimit() {
        Trunks trunks = trunks(1, 2);

        assertThat(start(trunks, "r1", "a", () -> { })).isZero();
        assertThat(start(trunks, "r2", "a", () -> { })).as("a is full").isEqualTo(TrunkGate.QUEUED);
        assertThat(start(trunks, "r3", "b", () -> { })).as("b has room of its own").isZero();
        assertThat(start(trunks, "r4", "b", () -> { })).isZero();
        assertThat(start(trunks, "r5", "b", () -> { })).isEqualTo(TrunkGate.QUEUED);

        assertThat(trunks.gate("a").inFlight()).isEqualTo(1);
        assertThat(trunks.gate("b").inFlight()).isEqualTo(2);
        assertThat(startedOn).containsExactly("a", "b", "b");
    }

    @Test
    void aCapacityRejectionShrinksOnlyTheTrunkOfTheCarrierThatRejected() {
        Trunks trunks = trunks(8, 8);
        for (int i = 0; i < 4; i++) {
            start(trunks, "a" + i, "a", () -> { });
            start(trunks, "b" + i, "b", () -> { });
        }

        trunks.capacityRejected(TrunkGate.slotKey("a0", 1), null);

        assertThat(trunks.gate("a").currentLimit()).isEqualTo(4);
        assertThat(trunks.gate("a").capacityRejections()).isEqualTo(1);
        assertThat(trunks.gate("b").currentLimit()).isEqualTo(8);
        assertThat(trunks.gate("b").capacityRejections()).isZero();
    }

    @Test
    void aCapacityRefusalByTheCarrierARouteFailedOverToShrinksThatCarriersTrunkAndFreesTheSlotWhereItWasTaken() {
        Trunks trunks = trunks(8, 8);
        for (int i = 0; i < 4; i++) {
            start(trunks, "a" + i, "a", () -> { });
            start(trunks, "b" + i, "b", () -> { });
        }

        // a failed a0 technically; b refused it for its capacity.
        trunks.capacityRejected(TrunkGate.slotKey("a0", 1), "b");

        assertThat(trunks.gate("b").currentLimit()).as("the refusing carrier's trunk").isEqualTo(4);
        assertThat(trunks.gate("b").capacityRejections()).isEqualTo(1);
        assertThat(trunks.gate("b").inFlight()).as("b's own calls").isEqualTo(4);
        assertThat(trunks.gate("a").currentLimit()).isEqualTo(8);
        assertThat(trunks.gate("a").capacityRejections()).isZero();
        assertThat(trunks.gate("a").inFlight()).as("a0's slot freed").isEqualTo(3);
    }

    @Test
    void aBurstOfCallsARouteFailedOverThatTheCarrierRefusesForItsCapacityHalvesItsTrunkOnce() {
        Trunks trunks = trunks(8, 8);
        for (int i = 0; i < 4; i++) {
            start(trunks, "a" + i, "a", () -> { });
        }

        // a failed each technically; b refused each for its capacity ("Max Account Calls In Progress").
        for (int i = 0; i < 3; i++) {
            trunks.capacityRejected(TrunkGate.slotKey("a" + i, 1), "b");
        }

        assertThat(trunks.gate("b").capacityRejections()).isEqualTo(3);
        assertThat(trunks.gate("b").currentLimit()).as("halved once for the burst, not to 1").isEqualTo(4);
        assertThat(trunks.gate("b").limitDecreases()).isEqualTo(1);
        // A call started after the decrease and refused tells the limit is still too high.
        time.advanceTimeBy(java.time.Duration.ofSeconds(1));
        trunks.acquireOrWait(TrunkGate.slotKey("a4", 1), command("a4", "a"), 0, time.now(TimeUnit.NANOSECONDS),
                HOUR, () -> { });
        trunks.capacityRejected(TrunkGate.slotKey("a4", 1), "b");
        assertThat(trunks.gate("b").currentLimit()).isEqualTo(2);
    }

    @Test
    void aCapacityRefusalNamingACarrierThisDispatcherDoesNotKnowShrinksTheTrunkHoldingTheSlot() {
        Trunks trunks = trunks(8, 8);
        start(trunks, "a0", "a", () -> { });

        // A callback's tag written before the route table changed.
        trunks.capacityRejected(TrunkGate.slotKey("a0", 1), "gone");

        assertThat(trunks.gate("a").currentLimit()).isEqualTo(4);
        assertThat(trunks.gate("a").inFlight()).isZero();
        assertThat(trunks.gates()).as("no trunk made for the name").containsOnlyKeys("a", "b");
    }

    @Test
    void aCallPlacedByTheNextCarrierOfItsRouteMovesItsSlotThereAndFreesTheFirst() {
        Trunks trunks = trunks(1, 1);
        start(trunks, "r1", "a", () -> { });
        AtomicInteger woken = new AtomicInteger();
        assertThat(start(trunks, "r2", "a", woken::incrementAndGet)).isEqualTo(TrunkGate.QUEUED);

        // a failed r1 technically; b placed it.
        trunks.placedOn(TrunkGate.slotKey("r1", 1), "b");

        assertThat(trunks.gate("b").holds(TrunkGate.slotKey("r1", 1))).isTrue();
        assertThat(woken).as("a's slot went to the lane waiting there").hasValue(1);
        assertThat(trunks.gate("a").isGranted(TrunkGate.slotKey("r2", 1))).isTrue();
        assertThat(start(trunks, "r3", "b", () -> { })).as("b is full: it carries r1, over its limit or not")
                .isEqualTo(TrunkGate.QUEUED);

        trunks.release(TrunkGate.slotKey("r1", 1), true);
        assertThat(trunks.gate("b").holds(TrunkGate.slotKey("r1", 1))).isFalse();
        assertThat(trunks.gate("b").inFlight()).as("r3 was granted r1's slot").isEqualTo(1);
    }

    @Test
    void aStartGrantedUnderASlotThatMovesIsClaimedWhereTheSlotWentAndLeavesNothingHeld() {
        Trunks trunks = trunks(2, 5);
        start(trunks, "r0", "a", () -> { });
        start(trunks, "r1", "a", () -> { });
        // A redelivered copy of r1's command waits at a, which is full, and is granted a start under r1's slot when
        // r0 ends.
        AtomicInteger woken = new AtomicInteger();
        assertThat(start(trunks, "r1", "a", woken::incrementAndGet)).isEqualTo(TrunkGate.QUEUED);
        trunks.release(TrunkGate.slotKey("r0", 1), true);
        assertThat(woken).hasValue(1);

        trunks.placedOn(TrunkGate.slotKey("r1", 1), "b");
        assertThat(start(trunks, "r1", "a", () -> { })).as("the copy claims its grant").isZero();
        trunks.unplaced(TrunkGate.slotKey("r1", 1));
        trunks.release(TrunkGate.slotKey("r1", 1), true);

        assertThat(trunks.gate("b").inFlight()).as("the call's end freed the slot").isZero();
        assertThat(trunks.gate("a").inFlight()).isZero();
    }

    @Test
    void aCallPlacedByTheCarrierWhoseSlotItHoldsStaysThere() {
        Trunks trunks = trunks(2, 2);
        start(trunks, "r1", "a", () -> { });

        trunks.placedOn(TrunkGate.slotKey("r1", 1), "a");
        trunks.placedOn(TrunkGate.slotKey("r1", 1), null);

        assertThat(trunks.gate("a").holds(TrunkGate.slotKey("r1", 1))).isTrue();
        assertThat(trunks.gate("b").inFlight()).isZero();
    }

    @Test
    void callsCountedOnAGainedPartitionHoldSlotsOnTheTrunkThatCarriesThem() {
        Trunks trunks = trunks(5, 5);
        trunks.countingStarts();
        // Its end overtook the count.
        trunks.release("ended#1", true);

        int held = trunks.holdCounted(List.of(
                new TrunkGate.CountedCall("on-b#1", 0, SECOND, 0, "b"),
                new TrunkGate.CountedCall("unrecorded#1", 0, SECOND, 0, null),
                new TrunkGate.CountedCall("renamed#1", 0, SECOND, 0, "gone"),
                new TrunkGate.CountedCall("ended#1", 0, SECOND, 0, "b")));

        assertThat(held).isEqualTo(3);
        assertThat(trunks.gate("b").holds("on-b#1")).isTrue();
        assertThat(trunks.gate("a").holds("unrecorded#1")).as("not on record: the first trunk").isTrue();
        assertThat(trunks.gate("a").holds("renamed#1")).as("a carrier no longer configured: the first").isTrue();
        assertThat(trunks.holds("ended#1")).isFalse();
        assertThat(trunks.gates()).containsOnlyKeys("a", "b");
    }

    @Test
    void aStartNotPlacedWhileCallsInFlightAreCountedIsLeftOutOfTheCountOnEveryTrunk() {
        Trunks trunks = trunks(5, 5);
        trunks.countingStarts();
        // Its slot went with a revoked partition; the count of the gained ones reads it before the carrier refuses it.
        trunks.unplaced("refused#1");

        assertThat(trunks.holdCounted(List.of(new TrunkGate.CountedCall("refused#1", 0, SECOND, 0, "b")))).isZero();
        assertThat(trunks.holds("refused#1")).isFalse();
    }

    @Test
    void anotherStartOfAnAttemptSharesTheSlotItHoldsOnItsTrunkWhicheverTrunkItsRouteNamesNow() {
        Trunks trunks = trunks(5, 5);
        start(trunks, "r1", "a", () -> { });

        // A redelivered copy, while the route's first carrier is now b.
        assertThat(trunks.acquireOrWait(TrunkGate.slotKey("r1", 1), command("r1", "b"), 0, 0, HOUR, () -> { }))
                .isZero();

        assertThat(trunks.gate("a").inFlight()).isEqualTo(1);
        assertThat(trunks.gate("b").inFlight()).isZero();
        trunks.release(TrunkGate.slotKey("r1", 1), false);
        assertThat(trunks.holds(TrunkGate.slotKey("r1", 1))).as("the call in progress keeps it").isTrue();
    }

    @Test
    void aSlotMovedToTheCarrierThatPlacedTheCallSpendsThatTrunksRateToo() {
        Trunks trunks = new Trunks(name -> new TrunkGate(1, 0, HOUR, time), CallCommand::accountId,
                () -> List.of("a", "b"), (name, gate) -> { }, (name, decidedAt) -> { });
        assertThat(start(trunks, "r1", "a", () -> { })).isZero();

        trunks.placedOn(TrunkGate.slotKey("r1", 1), "b");

        assertThat(start(trunks, "r2", "b", () -> { })).as("b's token went to r1").isEqualTo(TrunkGate.QUEUED);
    }

    @Test
    void aTrunkMadeAfterThePartitionsMovedTakesTheSameShare() {
        Trunks trunks = new Trunks(name -> new TrunkGate(10, 10, HOUR, time), CallCommand::accountId,
                () -> List.of("a"), (name, gate) -> { }, (name, decidedAt) -> { });
        trunks.share(0.5);

        assertThat(trunks.gate("a").currentLimit()).isEqualTo(5);
        assertThat(trunks.gate("c").currentLimit()).as("a carrier's trunk not named at start").isEqualTo(5);
        assertThat(trunks.gate("c").currentCps()).isEqualTo(5.0);
    }
}
