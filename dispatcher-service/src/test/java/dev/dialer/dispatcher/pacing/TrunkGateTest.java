package dev.dialer.dispatcher.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

class TrunkGateTest {

    private static final long HOUR = 3_600_000_000_000L;
    private static final long SECOND = 1_000_000_000L;
    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();

    @AfterEach
    void stop() {
        time.dispose();
    }

    @Test
    void holdsNoMoreCallsThanItsConcurrency() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, time);

        assertThat(trunk.acquireOrWait("a", "acc", 0, 0, () -> { })).isZero();
        assertThat(trunk.acquireOrWait("b", "acc", 0, 0, () -> { })).isZero();
        assertThat(trunk.acquireOrWait("c", "acc", 0, 0, () -> { })).isEqualTo(TrunkGate.QUEUED);
        assertThat(trunk.inFlight()).isEqualTo(2);
    }

    @Test
    void lanesSentAwayAreWokenWithNoStartGrantedAndAreNoLongerServedHere() {
        TrunkGate trunk = new TrunkGate(0, 1, HOUR, time);
        trunk.acquireOrWait("a", "acc", 0, 0, () -> { });
        List<String> woken = new ArrayList<>();
        assertThat(trunk.acquireOrWait("b", "acc", 0, 0, () -> woken.add("b"))).isEqualTo(TrunkGate.QUEUED);
        assertThat(trunk.acquireOrWait("c", "other", 1, 0, () -> woken.add("c"))).isEqualTo(TrunkGate.QUEUED);

        List<Runnable> toWake = new ArrayList<>();
        assertThat(trunk.sendAwayWaiting(toWake)).isEqualTo(2);
        toWake.forEach(Runnable::run);

        assertThat(woken).containsExactlyInAnyOrder("b", "c");
        assertThat(trunk.waiting()).isZero();
        assertThat(trunk.isGranted("b")).isFalse();
        assertThat(trunk.isGranted("c")).isFalse();
        // One comes back (its route has no other carrier for it): woken again, not counted again.
        trunk.acquireOrWait("b", "acc", 0, 0, () -> woken.add("b again"));
        List<Runnable> again = new ArrayList<>();
        assertThat(trunk.sendAwayWaiting(again)).isZero();
        again.forEach(Runnable::run);
        assertThat(woken).contains("b again");
        // The slot that frees goes to nobody sent away: the next to ask takes it.
        trunk.release("a", true);
        assertThat(woken).hasSize(3);
        assertThat(trunk.inFlight()).isZero();
        assertThat(trunk.acquireOrWait("d", "acc", 0, 0, () -> { })).isZero();
    }

    @Test
    void aSecondStartOfTheSameAttemptSharesItsSlotAndItsReleaseLeavesTheCallInProgressCounted() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, time);
        trunk.acquireOrWait("req-1#1", "acc", 0, 0, () -> { });
        // A redelivered copy of the command: the ledger will call it a duplicate and the lane releases its start.
        trunk.acquireOrWait("req-1#1", "acc", 0, 0, () -> { });
        assertThat(trunk.inFlight()).isEqualTo(1);

        trunk.release("req-1#1", false);
        assertThat(trunk.holds("req-1#1")).as("the call in progress still holds its slot").isTrue();
        assertThat(trunk.inFlight()).isEqualTo(1);

        trunk.release("req-1#1", true);
        assertThat(trunk.inFlight()).isZero();
    }

    @Test
    void theEndOfACallWhoseSlotWasJustGrantedToAnotherStartOfItsAttemptLeavesThatGrantToBeClaimed() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, time);
        trunk.acquireOrWait("req-1#1", "acc", 0, 0, () -> { });
        trunk.acquireOrWait("other#1", "acc", 0, 0, () -> { });
        // A copy of the command read again after a rebalance waits at the full trunk, and is granted the next slot.
        List<String> woken = new ArrayList<>();
        assertThat(trunk.acquireOrWait("req-1#1", "acc", 0, 0, () -> woken.add("copy")))
                .isEqualTo(TrunkGate.QUEUED);
        trunk.release("other#1", true);
        assertThat(woken).containsExactly("copy");

        // The call ends before the copy's lane claims its start.
        trunk.release("req-1#1", true);
        assertThat(trunk.acquireOrWait("req-1#1", "acc", 0, 0, () -> { })).as("the grant claimed").isZero();
        // The ledger calls the copy a duplicate: its start is not placed.
        trunk.unplaced("req-1#1");

        assertThat(trunk.holds("req-1#1")).as("held by no call").isFalse();
        assertThat(trunk.inFlight()).isZero();
    }

    @Test
    void aGrantGivenUpOrLapsedWhileACallOfItsAttemptHoldsTheSlotLeavesThatCallsHold() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, time);
        trunk.acquireOrWait("req-1#1", "acc", 0, 0, () -> { });
        trunk.acquireOrWait("other#1", "acc", 0, 0, () -> { });
        trunk.acquireOrWait("req-1#1", "acc", 0, 0, () -> { });
        trunk.release("other#1", true);
        assertThat(trunk.isGranted("req-1#1")).isTrue();

        // The copy's lane cannot use its start (its campaign's token, a dial permit): it gives the grant up.
        trunk.unusedGrant("req-1#1", new ArrayList<>());

        assertThat(trunk.isGranted("req-1#1")).isFalse();
        assertThat(trunk.holds("req-1#1")).as("the call in progress").isTrue();
        // Asked again, the copy takes no grant it gave up: it shares the slot anew, and its release as a duplicate
        // leaves the call's hold.
        trunk.acquireOrWait("req-1#1", "acc", 0, 0, () -> { });
        trunk.unplaced("req-1#1");
        assertThat(trunk.holds("req-1#1")).isTrue();

        // A grant never claimed lapses without taking the call's hold with it.
        trunk.acquireOrWait("other#2", "acc", 0, 0, () -> { });
        trunk.acquireOrWait("req-1#1", "acc", 0, time.now(TimeUnit.NANOSECONDS), () -> { });
        trunk.release("other#2", true);
        assertThat(trunk.isGranted("req-1#1")).isTrue();
        time.advanceTimeBy(Duration.ofSeconds(11));
        // The next start looks at what lapsed first.
        trunk.acquireOrWait("next#1", "acc", 0, time.now(TimeUnit.NANOSECONDS), () -> { });
        assertThat(trunk.isGranted("req-1#1")).isFalse();
        assertThat(trunk.holds("req-1#1")).as("the call in progress").isTrue();
        assertThat(trunk.inFlight()).as("the call and the next start").isEqualTo(2);
    }

    @Test
    void aReleaseOfSlotsTakenBeforeSomeTimeLeavesOneTakenSince() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, time);
        trunk.acquireOrWait("old#1", "acc", 0, time.now(TimeUnit.NANOSECONDS), () -> { });
        time.advanceTimeBy(Duration.ofSeconds(5));
        trunk.acquireOrWait("new#1", "acc", 0, time.now(TimeUnit.NANOSECONDS), () -> { });
        time.advanceTimeBy(Duration.ofSeconds(1));

        // No dial of either has been in flight for the last 3 s.
        trunk.releaseTakenBefore("old#1", 3 * SECOND);
        trunk.releaseTakenBefore("new#1", 3 * SECOND);

        assertThat(trunk.holds("old#1")).isFalse();
        assertThat(trunk.holds("new#1")).as("taken 1 s ago, for a dial since").isTrue();
        assertThat(trunk.inFlight()).isEqualTo(1);
    }

    @Test
    void halvesItsLimitOnACapacityRejectionNeverBelowOneAndGrowsBackOnSuccess() {
        TrunkGate trunk = new TrunkGate(0, 8, HOUR, time);
        for (int i = 0; i < 8; i++) {
            trunk.acquireOrWait("call" + i, "acc", 0, 0, () -> { });
        }

        trunk.capacityRejected("call0");
        assertThat(trunk.currentLimit()).isEqualTo(4);
        for (int i = 1; i < 8; i++) {
            trunk.release("call" + i, false);
        }
        // Each rejected in an episode of its own: a call started after the last decrease.
        for (int episode = 0; episode < 4; episode++) {
            trunk.acquireOrWait("again" + episode, "acc", 0, 0, () -> { });
            trunk.capacityRejected("again" + episode);
        }
        assertThat(trunk.currentLimit()).isEqualTo(1);

        for (int round = 0; round < 100; round++) {
            trunk.acquireOrWait("ok" + round, "acc", 0, 0, () -> { });
            trunk.release("ok" + round, true);
        }
        assertThat(trunk.currentLimit()).isBetween(2, 8);
    }

    @Test
    void aBurstOfRejectionsOfCallsStartedTogetherHalvesTheLimitOnceAndAStartUnderTheNewLimitHalvesItAgain() {
        TrunkGate trunk = new TrunkGate(0, 100, HOUR, time);
        for (int i = 0; i < 100; i++) {
            trunk.acquireOrWait("call" + i, "acc", 0, 0, () -> { });
        }

        // "Max Account Calls In Progress" for twenty of them, at once: one congestion episode.
        for (int i = 0; i < 20; i++) {
            trunk.capacityRejected("call" + i);
        }
        assertThat(trunk.currentLimit()).isEqualTo(50);
        assertThat(trunk.capacityRejections()).isEqualTo(20);
        assertThat(trunk.limitDecreases()).isEqualTo(1);

        for (int i = 20; i < 60; i++) {
            trunk.release("call" + i, false);
        }
        assertThat(trunk.acquireOrWait("later", "acc", 0, 0, () -> { })).isZero();
        trunk.capacityRejected("later");
        assertThat(trunk.currentLimit()).as("still too high: a new episode").isEqualTo(25);

        trunk.capacityRejected("call60");
        trunk.capacityRejected("unknown#1");
        assertThat(trunk.currentLimit()).as("started before the last decrease, or not held here").isEqualTo(25);
        assertThat(trunk.limitDecreases()).isEqualTo(2);
        trunk.share(0.5);
        assertThat(trunk.limitDecreases()).as("a rebalance's re-division is no decrease").isEqualTo(2);
    }

    @Test
    void grantsFreedSlotsToWaitingAccountsRoundRobinNotFirstComeFirstServed() {
        TrunkGate trunk = new TrunkGate(0, 1, HOUR, time);
        trunk.acquireOrWait("held", "big", 0, 0, () -> { });
        List<String> woken = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String key = "big" + i;
            trunk.acquireOrWait(key, "big", 0, 0, () -> woken.add(key));
        }
        trunk.acquireOrWait("small0", "small", 0, 0, () -> woken.add("small0"));

        String ending = "held";
        for (int i = 0; i < 4; i++) {
            trunk.release(ending, true);
            ending = woken.get(woken.size() - 1);
            // The woken lane finds its start granted: it runs without asking any limit again.
            assertThat(trunk.acquireOrWait(ending, "whoever", 0, 0, () -> { })).isZero();
        }

        assertThat(woken).containsExactly("big0", "small0", "big1", "big2");
    }

    @Test
    void aNewcomerQueuesBehindTheWaitingInsteadOfTakingAFreedSlot() {
        TrunkGate trunk = new TrunkGate(0, 1, HOUR, time);
        trunk.acquireOrWait("held", "big", 0, 0, () -> { });
        List<String> woken = new ArrayList<>();
        trunk.acquireOrWait("waiting", "small", 0, 0, () -> woken.add("waiting"));

        trunk.release("held", true);

        assertThat(trunk.acquireOrWait("newcomer", "big", 0, 0, () -> woken.add("newcomer")))
                .isEqualTo(TrunkGate.QUEUED);
        assertThat(woken).containsExactly("waiting");
        assertThat(trunk.isGranted("waiting")).isTrue();
    }

    @Test
    void givesBackASlotWhoseTerminalStatusNeverCameAfterTheTimeLimit() {
        TrunkGate trunk = new TrunkGate(0, 1, SECOND, time);
        trunk.acquireOrWait("lost", "acc", 0, 0, () -> { });
        List<String> woken = new ArrayList<>();

        assertThat(trunk.acquireOrWait("next", "acc", 0, SECOND / 2, () -> woken.add("next")))
                .isEqualTo(TrunkGate.QUEUED);
        assertThat(trunk.acquireOrWait("other", "acc", 0, SECOND + 1, () -> { })).isEqualTo(TrunkGate.QUEUED);

        assertThat(woken).containsExactly("next");
        assertThat(trunk.acquireOrWait("next", "acc", 0, SECOND + 2, () -> { })).isEqualTo(SECOND + 2);
    }

    @Test
    void aSlotHeldForALongCallOutlastsTheTimeLimitAndLapsesAfterItsOwnHold() {
        TrunkGate trunk = new TrunkGate(0, 1, SECOND, time);
        trunk.acquireOrWait("long", "acc", 0, now(), 3 * SECOND, () -> { });
        List<String> woken = new ArrayList<>();
        assertThat(trunk.acquireOrWait("next", "acc", 0, now(), () -> woken.add("next")))
                .isEqualTo(TrunkGate.QUEUED);

        time.advanceTimeBy(Duration.ofMillis(2_900));
        assertThat(woken).isEmpty();
        assertThat(trunk.holds("long")).isTrue();
        time.advanceTimeBy(Duration.ofMillis(200));

        assertThat(woken).containsExactly("next");
        assertThat(trunk.holds("long")).isFalse();
    }

    @Test
    void aSlotReleasedInTimeDoesNotTakeALaterOneWithItWhenItsTimeLimitWouldHaveCome() {
        TrunkGate trunk = new TrunkGate(0, 1, SECOND, time);
        trunk.acquireOrWait("early", "acc", 0, now(), () -> { });
        time.advanceTimeBy(Duration.ofMillis(400));
        trunk.release("early", true);
        trunk.acquireOrWait("later", "acc", 0, now(), () -> { });
        List<String> woken = new ArrayList<>();
        assertThat(trunk.acquireOrWait("next", "acc", 0, now(), () -> woken.add("next")))
                .isEqualTo(TrunkGate.QUEUED);

        // When the released slot would have lapsed, the later one has 400 ms to go.
        time.advanceTimeBy(Duration.ofMillis(700));
        assertThat(woken).isEmpty();
        assertThat(trunk.holds("later")).isTrue();
        time.advanceTimeBy(Duration.ofMillis(400));

        assertThat(woken).containsExactly("next");
        assertThat(trunk.holds("later")).isFalse();
    }

    @Test
    void aWaitingStartIsGrantedWhenAHeldSlotLapsesThoughNothingElseHappens() {
        TrunkGate trunk = new TrunkGate(0, 1, SECOND, time);
        trunk.acquireOrWait("lost", "acc", 0, now(), () -> { });
        List<String> woken = new ArrayList<>();
        assertThat(trunk.acquireOrWait("next", "acc", 0, now(), () -> woken.add("next")))
                .isEqualTo(TrunkGate.QUEUED);

        // No release, no other start: only the lost call's time limit frees the trunk.
        time.advanceTimeBy(Duration.ofMillis(900));
        assertThat(woken).isEmpty();
        time.advanceTimeBy(Duration.ofMillis(200));

        assertThat(woken).containsExactly("next");
        assertThat(trunk.holds("lost")).isFalse();
        assertThat(trunk.holds("next")).isTrue();
    }

    @Test
    void queuesAStartItsRateDoesNotAllowYetAndGrantsItWhenTheTokenComes() {
        TrunkGate trunk = new TrunkGate(10, 0, HOUR, time);
        List<Long> woken = new ArrayList<>();

        assertThat(trunk.acquireOrWait("a", "acc", 0, 0, () -> { })).isZero();
        assertThat(trunk.acquireOrWait("b", "acc", 0, 0, () -> woken.add(now()))).isEqualTo(TrunkGate.QUEUED);
        assertThat(trunk.inFlight()).isEqualTo(1);

        time.advanceTimeBy(Duration.ofMillis(99));
        assertThat(woken).isEmpty();
        time.advanceTimeBy(Duration.ofMillis(1));
        assertThat(woken).containsExactly(100_000_000L);
        assertThat(trunk.inFlight()).isEqualTo(2);
    }

    @Test
    void aGrantNotMadeGivesItsTokenToTheNextAccountsWaiterAtOnce() {
        TrunkGate trunk = new TrunkGate(10, 0, HOUR, time);
        List<String> woken = new ArrayList<>();
        assertThat(trunk.acquireOrWait("first#1", "slow", 0, 0, () -> { })).isZero();
        trunk.acquireOrWait("slow#1", "slow", 0, 0, () -> woken.add("slow#1@" + now()));
        trunk.acquireOrWait("other#1", "other", 0, 0, () -> woken.add("other#1@" + now()));

        time.advanceTimeBy(Duration.ofMillis(100));
        assertThat(woken).containsExactly("slow#1@100000000");
        // The slow account's lane cannot use it (its campaign is not due).
        assertThat(trunk.unusedGrant("slow#1", new ArrayList<>())).isEqualTo(TrunkGate.GrantToken.GIVEN_BACK);
        Runnable none = () -> { };

        assertThat(trunk.isGranted("other#1")).as("granted with the token given back, not 100 ms later").isTrue();
        assertThat(trunk.holds("slow#1")).isFalse();
        assertThat(trunk.inFlight()).isEqualTo(2);
        assertThat(trunk.acquireOrWait("other#1", "other", 0, now(), none)).isEqualTo(now());
        assertThat(trunk.acquireOrWait("late#1", "other", 0, now(), none)).as("one token, one start")
                .isEqualTo(TrunkGate.QUEUED);
        assertThat(trunk.unusedGrant("slow#1", new ArrayList<>())).as("nothing granted any more").isNull();
    }

    @Test
    void aGrantNotMadeAfterTheTrunkTookALaterStartLeavesItsTokenSpent() {
        TrunkGate trunk = new TrunkGate(10, 0, HOUR, time);
        List<String> woken = new ArrayList<>();
        trunk.acquireOrWait("first#1", "slow", 0, 0, () -> { });
        trunk.acquireOrWait("slow#1", "slow", 0, 0, () -> woken.add("slow#1"));
        trunk.acquireOrWait("other#1", "other", 0, 0, () -> woken.add("other#1"));
        time.advanceTimeBy(Duration.ofMillis(200));
        assertThat(woken).containsExactly("slow#1", "other#1");

        assertThat(trunk.unusedGrant("slow#1", new ArrayList<>())).isEqualTo(TrunkGate.GrantToken.SPENT);
        assertThat(trunk.holds("slow#1")).as("its slot goes all the same").isFalse();
        assertThat(trunk.acquireOrWait("next#1", "other", 0, now(), () -> { })).isEqualTo(TrunkGate.QUEUED);

        TrunkGate unlimited = new TrunkGate(0, 1, HOUR, time);
        unlimited.acquireOrWait("held#1", "acc", 0, now(), () -> { });
        unlimited.acquireOrWait("granted#1", "acc", 0, now(), () -> { });
        unlimited.release("held#1", true);
        assertThat(unlimited.unusedGrant("granted#1", new ArrayList<>())).as("no rate: no token")
                .isEqualTo(TrunkGate.GrantToken.NONE);
        assertThat(unlimited.inFlight()).isZero();
    }

    /**
     * Two accounts share a trunk whose rate binds: one with a backlog across many lanes, one with three calls. The small
     * account's calls are interleaved with the large one's, each within a couple of tokens, not behind its backlog.
     */
    @Test
    void servesTheTrunkRateRoundRobinByAccountWhenItBinds() {
        TrunkGate trunk = new TrunkGate(10, 0, HOUR, time);
        List<String> starts = Collections.synchronizedList(new ArrayList<>());
        for (int lane = 0; lane < 20; lane++) {
            new Caller(trunk, "big", "big-lane" + lane, 5, starts).ask();
        }
        new Caller(trunk, "small", "small-lane", 3, starts).ask();

        time.advanceTimeBy(Duration.ofSeconds(20));

        assertThat(starts).hasSize(103);
        List<Integer> smallAt = new ArrayList<>();
        for (int i = 0; i < starts.size(); i++) {
            if (starts.get(i).startsWith("small")) {
                smallAt.add(i);
            }
        }
        // The first start went to the first asker; after that the accounts alternate while both wait.
        assertThat(smallAt).hasSize(3).allMatch(position -> position <= 6);
        assertThat(PaceBucketTest.maxInAnyWindow(starts.stream().map(s -> Long.parseLong(s.split("@")[1])).toList(),
                SECOND)).isLessThanOrEqualTo(10 + 1);
    }

    @Test
    void releasesTheSlotsOfRevokedPartitionsAndWakesTheWaiting() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, time);
        trunk.acquireOrWait("p1-call", "acc", 1, 0, () -> { });
        trunk.acquireOrWait("p2-call", "acc", 2, 0, () -> { });
        List<String> woken = new ArrayList<>();
        trunk.acquireOrWait("p2-waiting", "acc", 2, 0, () -> woken.add("p2-waiting"));
        trunk.acquireOrWait("p3-waiting", "acc", 3, 0, () -> woken.add("p3-waiting"));

        assertThat(trunk.releasePartitions(Set.of(1, 2))).isEqualTo(2);

        // The revoked partition's waiting lane is dropped with it; the other one's is granted a slot.
        assertThat(woken).containsExactly("p3-waiting");
        assertThat(trunk.inFlight()).isEqualTo(1);
        assertThat(trunk.waiting()).isZero();
    }

    @Test
    void aNewShareOfTheRateKeepsTheLastStartsSoARebalanceLetsNoStartThroughEarly() {
        TrunkGate trunk = new TrunkGate(10, 0, HOUR, time);
        Runnable none = () -> { };
        assertThat(trunk.acquireOrWait("first#1", "acc", 0, 0, none)).isZero();

        trunk.share(0.5);

        // 5 a second now: the next start one new interval after the last one, not at once on a fresh bucket.
        assertThat(trunk.acquireOrWait("second#1", "acc", 0, 0, none)).isEqualTo(TrunkGate.QUEUED);
        time.advanceTimeBy(Duration.ofMillis(199));
        assertThat(trunk.isGranted("second#1")).isFalse();
        time.advanceTimeBy(Duration.ofMillis(1));
        assertThat(trunk.isGranted("second#1")).isTrue();
    }

    @Test
    void aLargerShareGrantsTheWaitingLanesAtOnceThoughNoCallEnds() {
        TrunkGate trunk = new TrunkGate(0, 4, HOUR, time);
        trunk.share(0.5);
        trunk.acquireOrWait("call-1", "acc", 1, 0, () -> { });
        trunk.acquireOrWait("call-2", "acc", 1, 0, () -> { });
        List<String> woken = new ArrayList<>();
        trunk.acquireOrWait("waiting-1", "acc", 1, 0, () -> woken.add("waiting-1"));
        trunk.acquireOrWait("waiting-2", "other", 2, 0, () -> woken.add("waiting-2"));
        trunk.acquireOrWait("waiting-3", "acc", 1, 0, () -> woken.add("waiting-3"));

        trunk.share(1.0);

        // Two more slots: the two accounts' first waiting lanes, one each; the third waits for a call to end.
        assertThat(woken).containsExactly("waiting-1", "waiting-2");
        assertThat(trunk.inFlight()).isEqualTo(4);
        assertThat(trunk.waiting()).isEqualTo(1);
    }

    @Test
    void countsCallsInFlightOnGainedPartitionsAsHeldUntilTheirTerminalStatus() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, time);
        trunk.countingStarts();
        // One of the counted calls ended while the count ran: it must not hold a slot.
        trunk.release("ended-meanwhile#1", true);
        int held = trunk.holdCounted(List.of(new TrunkGate.CountedCall("r1#1", 4, SECOND),
                new TrunkGate.CountedCall("r2#1", 4, SECOND),
                new TrunkGate.CountedCall("ended-meanwhile#1", 4, SECOND)));

        assertThat(held).isEqualTo(2);
        assertThat(trunk.acquireOrWait("new", "acc", 4, 0, () -> { })).isEqualTo(TrunkGate.QUEUED);

        trunk.release("r1#1", true);
        assertThat(trunk.isGranted("new")).isTrue();
        assertThat(trunk.inFlight()).isEqualTo(2);
    }

    @Test
    void onlySlotsHeldForACountedCallAloneAreReleasedAsEndedElsewhere() {
        TrunkGate trunk = new TrunkGate(0, 10, HOUR, time);
        List<Runnable> toWake = new ArrayList<>();
        // A start of this dispatcher's holds "mine#1" when the count finds it in flight too.
        assertThat(trunk.acquireOrWait("mine#1", "acc", 4, 0, () -> { })).isZero();
        trunk.countingStarts();
        trunk.holdCounted(List.of(new TrunkGate.CountedCall("elsewhere#1", 4, SECOND),
                new TrunkGate.CountedCall("joined#1", 4, SECOND),
                new TrunkGate.CountedCall("mine#1", 4, SECOND)));
        assertThat(trunk.heldByCountAlone()).containsExactlyInAnyOrder("elsewhere#1", "joined#1");

        // The counted "joined#1" is dialled again here (its capacity requeue came due): a start holds it too.
        assertThat(trunk.acquireOrWait("joined#1", "acc", 4, 0, () -> { })).isZero();
        assertThat(trunk.heldByCountAlone()).containsExactly("elsewhere#1");

        assertThat(trunk.releaseHeldByCountAlone(List.of("elsewhere#1", "joined#1", "mine#1", "unknown#1"), toWake))
                .isEqualTo(1);
        assertThat(trunk.holds("elsewhere#1")).isFalse();
        assertThat(trunk.holds("joined#1")).isTrue();
        assertThat(trunk.holds("mine#1")).isTrue();
        // The dial of "joined#1" here ends: its slot frees with it, held for nothing else.
        trunk.release("joined#1", true);
        assertThat(trunk.holds("joined#1")).isFalse();

        // The start of "mine#1" ends unplaced: the counted call alone holds the slot now, and may be let go.
        trunk.unplaced("mine#1");
        assertThat(trunk.heldByCountAlone()).containsExactly("mine#1");
        assertThat(trunk.releaseHeldByCountAlone(List.of("mine#1"), toWake)).isEqualTo(1);
        assertThat(trunk.inFlight()).isZero();
    }

    @Test
    void aStartThatTakesOverACountedCallsSlotIsNotFreedByALateCallbackOfTheEarlierDial() {
        TrunkGate trunk = new TrunkGate(0, 10, HOUR, time);
        trunk.countingStarts();
        // The previous owner placed dial 1 ten seconds ago; it was requeued for capacity there five seconds ago.
        trunk.holdCounted(List.of(new TrunkGate.CountedCall("late#1", 4, 10 * SECOND)));
        assertThat(trunk.heldByCountAlone()).containsExactly("late#1");

        // The requeue comes back here: dial 2's start takes the slot over.
        assertThat(trunk.acquireOrWait("late#1", "acc", 4, 0, () -> { })).isZero();
        // A repeat of dial 1's callback, refused by the ledger, frees only a slot taken before the requeue.
        trunk.releaseTakenBefore("late#1", 5 * SECOND);

        assertThat(trunk.holds("late#1")).as("dial 2's slot").isTrue();
        assertThat(trunk.inFlight()).isEqualTo(1);
    }

    @Test
    void startsWaitWhileACountRunsSoTheCountedCallsAndNewStartsNeverPassTheLimit() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, time);
        AtomicInteger woken = new AtomicInteger();
        trunk.countingStarts();

        assertThat(trunk.acquireOrWait("new#1", "acc", 4, 0, woken::incrementAndGet)).isEqualTo(TrunkGate.QUEUED);
        assertThat(trunk.inFlight()).isZero();

        // The count finds the trunk full: the start waits on, for a slot.
        trunk.holdCounted(List.of(new TrunkGate.CountedCall("r1#1", 4, SECOND),
                new TrunkGate.CountedCall("r2#1", 4, SECOND)));
        assertThat(woken).hasValue(0);
        assertThat(trunk.inFlight()).isEqualTo(2);

        trunk.release("r1#1", true);
        assertThat(woken).hasValue(1);
        assertThat(trunk.isGranted("new#1")).isTrue();
        assertThat(trunk.inFlight()).isEqualTo(2);
    }

    @Test
    void aCountThatTakesLongerThanItsWaitLetsTheStartsGoThen() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, time);
        AtomicInteger woken = new AtomicInteger();
        trunk.countingStarts();
        long now = time.now(TimeUnit.NANOSECONDS);
        assertThat(trunk.acquireOrWait("new#1", "acc", 4, now, woken::incrementAndGet)).isEqualTo(TrunkGate.QUEUED);

        time.advanceTimeBy(Duration.ofNanos(TrunkGate.COUNT_WAIT_NANOS - 1));
        assertThat(woken).as("the count may still come in").hasValue(0);
        time.advanceTimeBy(Duration.ofNanos(1));

        assertThat(woken).hasValue(1);
        assertThat(trunk.isGranted("new#1")).isTrue();
        assertThat(trunk.acquireOrWait("new#2", "acc", 4, time.now(TimeUnit.NANOSECONDS), () -> { }))
                .as("nor waits a later start").isNotEqualTo(TrunkGate.QUEUED);
    }

    @Test
    void aCountThatFailedLetsTheStartsItHeldBackGoAndWithoutAConcurrencyLimitNoneWaits() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, time);
        AtomicInteger woken = new AtomicInteger();
        trunk.countingStarts();
        assertThat(trunk.acquireOrWait("new#1", "acc", 4, 0, woken::incrementAndGet)).isEqualTo(TrunkGate.QUEUED);

        trunk.countingEnded();

        assertThat(woken).hasValue(1);
        assertThat(trunk.isGranted("new#1")).isTrue();

        TrunkGate unlimited = new TrunkGate(0, 0, HOUR, time);
        unlimited.countingStarts();
        assertThat(unlimited.acquireOrWait("any#1", "acc", 4, 0, () -> { })).isZero();
    }

    @Test
    void aCallRefusedForCapacityWhileTheCountRunsIsNotCountedAsInFlight() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, time);
        trunk.countingStarts();
        // The count read the call while it rang; its capacity rejection was applied (and requeued) before it ended.
        trunk.capacityRejected("refused#1");
        int held = trunk.holdCounted(List.of(new TrunkGate.CountedCall("refused#1", 4, SECOND)));

        assertThat(held).isZero();
        assertThat(trunk.holds("refused#1")).isFalse();
        assertThat(trunk.inFlight()).isZero();
    }

    @Test
    void aDialOfOursTheCountReadAndThatEndedBeforeTheCountWasInHoldsNoSlot() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, time);
        // Our dials hold their slots; the count reads their claimed attempts; one ends before the count is in, the
        // other is refused for capacity meanwhile.
        trunk.acquireOrWait("mine#1", "acc", 4, 0, () -> { });
        trunk.acquireOrWait("refused#1", "acc", 4, 0, () -> { });
        trunk.countingStarts();
        trunk.release("mine#1", false);
        trunk.capacityRejected("refused#1");
        int held = trunk.holdCounted(List.of(new TrunkGate.CountedCall("mine#1", 4, SECOND),
                new TrunkGate.CountedCall("refused#1", 4, SECOND)));

        assertThat(held).isZero();
        assertThat(trunk.holds("mine#1")).isFalse();
        assertThat(trunk.holds("refused#1")).isFalse();
        assertThat(trunk.inFlight()).isZero();
    }

    @Test
    void aCountedCallKeepsItsSlotWhenARedeliveredCopyHoldingItTurnsOutADuplicate() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, time);
        // The gained partition's uncommitted window is read again: a copy of the call in flight starts as the count
        // begins.
        trunk.acquireOrWait("live#1", "acc", 4, 0, () -> { });
        trunk.countingStarts();
        trunk.holdCounted(List.of(new TrunkGate.CountedCall("live#1", 4, SECOND)));

        trunk.unplaced("live#1");
        assertThat(trunk.holds("live#1")).as("the ringing call still holds its slot").isTrue();
        assertThat(trunk.inFlight()).isEqualTo(1);

        trunk.release("live#1", true);
        assertThat(trunk.holds("live#1")).as("its terminal status frees it").isFalse();
    }

    @Test
    void aCountedCallThatIsOurOwnLiveDialHoldsOneSlotFreedByItsTerminalStatus() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, time);
        trunk.acquireOrWait("mine#1", "acc", 4, 0, () -> { });
        trunk.countingStarts();
        trunk.holdCounted(List.of(new TrunkGate.CountedCall("mine#1", 4, SECOND)));

        trunk.release("mine#1", false);
        assertThat(trunk.holds("mine#1")).as("not held twice").isFalse();
        assertThat(trunk.inFlight()).isZero();
    }

    @Test
    void anUnplacedStartOfACallNobodyCountedFreesItsSlot() {
        TrunkGate trunk = new TrunkGate(0, 2, HOUR, time);
        trunk.acquireOrWait("refused#1", "acc", 4, 0, () -> { });

        trunk.unplaced("refused#1");
        assertThat(trunk.holds("refused#1")).isFalse();
    }

    @Test
    void aCountedCallWhoseStatusNeverComesIsGivenBackAtTheTimeLimitCountedFromItsPlacement() {
        TrunkGate trunk = new TrunkGate(0, 1, 10 * SECOND, time);
        trunk.countingStarts();
        trunk.holdCounted(List.of(new TrunkGate.CountedCall("old#1", 0, 8 * SECOND)));

        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(trunk.acquireOrWait("a", "acc", 0, now(), () -> { })).isEqualTo(TrunkGate.QUEUED);
        time.advanceTimeBy(Duration.ofMillis(1_001));
        assertThat(trunk.acquireOrWait("b", "acc", 0, now(), () -> { })).isEqualTo(TrunkGate.QUEUED);
        assertThat(trunk.isGranted("a")).isTrue();
    }

    @Test
    void aCountedCallWithALongerHoldKeepsItsSlotPastTheSlotTimeLimit() {
        TrunkGate trunk = new TrunkGate(0, 1, 10 * SECOND, time);
        trunk.countingStarts();
        // Placed 12 s ago, past the 10 s slot time limit, but it may last 30 s.
        trunk.holdCounted(List.of(new TrunkGate.CountedCall("long#1", 0, 12 * SECOND, 30 * SECOND, null)));

        time.advanceTimeBy(Duration.ofSeconds(17));
        assertThat(trunk.acquireOrWait("a", "acc", 0, now(), () -> { })).isEqualTo(TrunkGate.QUEUED);
        time.advanceTimeBy(Duration.ofMillis(1_001));
        assertThat(trunk.isGranted("a")).isTrue();
    }

    @Test
    void givesBackAGrantNobodyClaims() {
        TrunkGate trunk = new TrunkGate(0, 1, HOUR, time);
        trunk.acquireOrWait("held", "acc", 0, 0, () -> { });
        trunk.acquireOrWait("gone", "acc", 0, 0, () -> { });
        trunk.release("held", true);
        assertThat(trunk.isGranted("gone")).isTrue();

        long later = TrunkGate.GRANT_TIMEOUT_NANOS + 1;
        assertThat(trunk.acquireOrWait("next", "acc", 0, later, () -> { })).isEqualTo(later);
        assertThat(trunk.isGranted("gone")).isFalse();
    }

    @Test
    void dividesItsLimitsByThePartitionShare() {
        TrunkGate trunk = new TrunkGate(100, 30, HOUR, time);
        trunk.share(1.0 / 3);

        assertThat(trunk.currentLimit()).isEqualTo(10);
        assertThat(trunk.currentCps()).isCloseTo(33.3, org.assertj.core.data.Offset.offset(0.1));
    }

    @Test
    void keepsTheConcurrencyItLearnedFromCapacityRejectionsWhenPartitionsMove() {
        TrunkGate trunk = new TrunkGate(0, 40, HOUR, time);
        trunk.share(0.5);
        for (int i = 0; i < 20; i++) {
            trunk.acquireOrWait("call" + i, "acc", 0, 0, () -> { });
        }
        trunk.capacityRejected("call0");
        for (int i = 1; i < 20; i++) {
            trunk.release("call" + i, false);
        }
        trunk.acquireOrWait("later", "acc", 0, 0, () -> { });
        trunk.capacityRejected("later");
        assertThat(trunk.currentLimit()).isEqualTo(5);

        trunk.share(0.5);
        assertThat(trunk.currentLimit()).as("the same share: nothing learned is lost").isEqualTo(5);

        trunk.share(1.0);
        assertThat(trunk.currentLimit()).as("twice the partitions: twice what was learned, not the configured 40")
                .isEqualTo(10);
        trunk.share(0.25);
        assertThat(trunk.currentLimit()).isEqualTo(2);
    }

    @Test
    void aLimitOfOneLearnedOnEveryPartitionComesBackAsOneWhenThePartitionsDo() {
        TrunkGate trunk = new TrunkGate(0, 4, HOUR, time);
        for (int i = 0; i < 4; i++) {
            trunk.acquireOrWait("call" + i, "acc", 0, 0, () -> { });
        }
        trunk.capacityRejected("call0");
        trunk.release("call1", false);
        trunk.release("call2", false);
        trunk.release("call3", false);
        trunk.acquireOrWait("later", "acc", 0, 0, () -> { });
        trunk.capacityRejected("later");
        assertThat(trunk.currentLimit()).as("halved twice: the carrier takes one call").isEqualTo(1);

        trunk.share(0.25);
        assertThat(trunk.currentLimit()).as("never below one call").isEqualTo(1);
        trunk.acquireOrWait("refused at a quarter", "acc", 0, 0, () -> { });
        trunk.capacityRejected("refused at a quarter");
        assertThat(trunk.currentLimit()).isEqualTo(1);
        trunk.share(1.0);
        assertThat(trunk.currentLimit()).as("what was learned on every partition, not four times it").isEqualTo(1);

        trunk.share(0.25);
        trunk.acquireOrWait("answered at a quarter", "acc", 0, 0, () -> { });
        trunk.release("answered at a quarter", true);
        trunk.share(1.0);
        assertThat(trunk.currentLimit()).as("a call more, as a success on every partition would give").isEqualTo(1);
    }

    @Test
    void aLimitLearnedWithoutAConfiguredConcurrencyIsRescaledToo() {
        TrunkGate trunk = new TrunkGate(0, 0, HOUR, time);
        trunk.share(0.5);
        for (int i = 0; i < 16; i++) {
            trunk.acquireOrWait("call" + i, "acc", 0, 0, () -> { });
        }
        trunk.capacityRejected("call0");
        assertThat(trunk.currentLimit()).as("half the calls then in progress").isEqualTo(8);

        trunk.share(1.0);
        assertThat(trunk.currentLimit()).isEqualTo(16);
    }

    private long now() {
        return time.now(TimeUnit.NANOSECONDS);
    }

    /** A lane as the gate sees it: asks for its head, and when woken (granted) starts it and asks for the next. */
    private final class Caller {
        private final TrunkGate trunk;
        private final String account;
        private final String name;
        private final List<String> starts;
        private int left;

        Caller(TrunkGate trunk, String account, String name, int calls, List<String> starts) {
            this.trunk = trunk;
            this.account = account;
            this.name = name;
            this.left = calls;
            this.starts = starts;
        }

        void ask() {
            while (left > 0) {
                String key = name + "#" + left;
                long result = trunk.acquireOrWait(key, account, 0, now(), () -> time.schedule(this::ask));
                if (result == TrunkGate.QUEUED) {
                    return;
                }
                starts.add(name + "@" + now());
                left--;
            }
        }
    }
}
