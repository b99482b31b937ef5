package dev.dialer.dispatcher.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PaceBucketTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void spacesStartsEvenlyWithoutBurst() {
        PaceBucket bucket = new PaceBucket(10, 1);
        List<Long> starts = greedyStarts(bucket, 0, 30);

        assertThat(starts.get(1) - starts.get(0)).isEqualTo(SECOND / 10);
        assertThat(maxInAnyWindow(starts, SECOND)).isLessThanOrEqualTo(10 + 1);
    }

    @Test
    void allowsTheBurstBackToBackAfterAnIdleSpellThenTheRate() {
        PaceBucket bucket = new PaceBucket(5, 3);
        List<Long> starts = greedyStarts(bucket, 0, 8);

        assertThat(starts.subList(0, 3)).containsOnly(0L);
        assertThat(starts.get(3)).isEqualTo(SECOND / 5);
    }

    @Test
    void neverLetsMoreThanRatePlusBurstThroughAnyOneSecondWindowUnderRandomArrivals() {
        Random random = new Random(42);
        for (int round = 0; round < 50; round++) {
            double rate = 1 + random.nextInt(100);
            int burst = 1 + random.nextInt(10);
            PaceBucket bucket = new PaceBucket(rate, burst);
            List<Long> starts = new ArrayList<>();
            long now = 0;
            for (int i = 0; i < 2_000; i++) {
                // Arrivals in bursts and lulls: sometimes many at once, sometimes seconds apart.
                now += random.nextInt(10) == 0 ? random.nextLong(3 * SECOND) : random.nextLong(SECOND / 50 + 1);
                long at = bucket.earliest(now);
                bucket.take(at);
                starts.add(at);
                now = Math.max(now, at);
            }
            assertThat(maxInAnyWindow(starts, SECOND)).as("rate %s burst %s", rate, burst)
                    .isLessThanOrEqualTo((int) rate + burst);
        }
    }

    @Test
    void catchesUpOnLateTimersAndReachesTheRateWithoutEverExceedingRatePlusBurstInAnySecond() {
        Random random = new Random(7);
        PaceBucket bucket = new PaceBucket(100, 1);
        List<Long> starts = new ArrayList<>();
        long now = 0;
        while (now < 60 * SECOND) {
            long at = bucket.earliest(now);
            if (at > now) {
                // A timer set for the promised time fires late: by up to one and a half intervals, as on a busy machine.
                now = at + random.nextLong(15_000_000L);
                continue;
            }
            bucket.take(now);
            starts.add(now);
        }

        assertThat(starts).hasSizeBetween(5_990, 6_001);
        assertThat(maxInAnyWindow(starts, SECOND)).isLessThanOrEqualTo(100 + 1);
        assertThat(maxInAnyWindowClosed(starts, SECOND)).isLessThanOrEqualTo(100 + 1);
    }

    @Test
    void withoutCatchingUpALateTimerCostsTheRateItsLateness() {
        PaceBucket bucket = new PaceBucket(100, 1, 0);
        long now = 0;
        int count = 0;
        while (now < 10 * SECOND) {
            long at = bucket.earliest(now);
            if (at > now) {
                now = at + 10_000_000L;
                continue;
            }
            bucket.take(now);
            count++;
        }

        assertThat(count).isBetween(499, 501);
    }

    @Test
    void doesNotTurnAnIdleSpellIntoMoreThanTheBurst() {
        PaceBucket bucket = new PaceBucket(10, 2);
        greedyStarts(bucket, 0, 5);
        long afterIdle = 5 * SECOND;

        List<Long> starts = greedyStarts(bucket, afterIdle, 4);

        assertThat(starts.subList(0, 2)).containsOnly(afterIdle);
        assertThat(starts.get(2)).isEqualTo(afterIdle + SECOND / 10);
    }

    @Test
    void aStartCaughtUpLateIsStillHeldToRatePlusBurstInTheSecondBehindIt() {
        PaceBucket bucket = new PaceBucket(10, 1);
        List<Long> starts = new ArrayList<>(greedyStarts(bucket, 0, 10));
        // The eleventh start is promised at 1 s; the timer comes 200 ms late, so two are due at once: both may go,
        // then the next waits for its own time.
        long late = bucket.earliest(0) + 200_000_000L;
        starts.addAll(greedyStarts(bucket, late, 4));

        assertThat(starts.subList(10, 12)).containsOnly(late);
        assertThat(maxInAnyWindowClosed(starts, SECOND)).isLessThanOrEqualTo(10 + 1);
    }

    @Test
    void aRateChangedWhileStartsAreMadeKeepsTheLastStartsSoTheChangeLetsNoBurstThrough() {
        PaceBucket bucket = new PaceBucket(10, 2);
        List<Long> starts = new ArrayList<>(greedyStarts(bucket, 0, 20));

        PaceBucket slower = bucket.withRate(1, 2);
        long last = starts.get(19);
        List<Long> after = greedyStarts(slower, last, 5);
        starts.addAll(after);

        // Its tokens were spent at the old rate: none is left to spend back to back at the new one.
        assertThat(after.get(0)).isEqualTo(last + SECOND);
        assertThat(maxInAnyWindowClosed(starts.subList(19, starts.size()), SECOND)).isLessThanOrEqualTo(1 + 2);

        PaceBucket faster = slower.withRate(10, 1);
        assertThat(faster.earliest(after.get(4))).isEqualTo(after.get(4) + SECOND / 10);
        assertThat(new PaceBucket(10, 1).withRate(1, 1).earliest(5)).as("nothing started yet").isEqualTo(5);
    }

    @Test
    void aStartGivenBackLeavesTheBucketAsIfItHadNeverBeenTakenWhateverTheTimersDo() {
        // Two buckets see the same arrivals and late timers; one also takes starts it gives back at once, or after
        // starts taken at the same instant. Each answers as the other at every step, and keeps the window rule.
        Random random = new Random(11);
        for (int round = 0; round < 20; round++) {
            double rate = 1 + random.nextInt(100);
            int burst = 1 + random.nextInt(5);
            PaceBucket plain = new PaceBucket(rate, burst);
            PaceBucket givingBack = new PaceBucket(rate, burst);
            List<Long> starts = new ArrayList<>();
            long now = 0;
            for (int i = 0; i < 2_000; i++) {
                long at = plain.earliest(now);
                assertThat(givingBack.earliest(now)).as("rate %s burst %s step %s", rate, burst, i).isEqualTo(at);
                if (at > now) {
                    // Its timer fires on time, late, or not at all before another arrival.
                    now = random.nextBoolean() ? at + random.nextLong(SECOND / 20) : now + random.nextLong(SECOND);
                    continue;
                }
                boolean ghostFirst = random.nextInt(3) == 0;
                if (ghostFirst) {
                    givingBack.take(now);
                }
                plain.take(now);
                givingBack.take(now);
                starts.add(now);
                if (ghostFirst) {
                    assertThat(givingBack.giveBack(now)).as("one of the instant's starts goes back").isTrue();
                }
                if (random.nextInt(3) == 0) {
                    long next = plain.earliest(now);
                    assertThat(givingBack.earliest(now)).isEqualTo(next);
                    if (next <= now) {
                        givingBack.take(now);
                        assertThat(givingBack.giveBack(now)).isTrue();
                    }
                }
                if (random.nextInt(4) == 0) {
                    now += random.nextLong(SECOND / 10);
                }
            }
            assertThat(maxInAnyWindowClosed(starts, SECOND)).as("rate %s burst %s", rate, burst)
                    .isLessThanOrEqualTo((int) (rate + burst));
        }
    }

    @Test
    void aStartIsNotGivenBackOnceALaterOneWasTaken() {
        PaceBucket bucket = new PaceBucket(10, 1);
        bucket.take(0);
        bucket.take(SECOND / 10);

        assertThat(bucket.giveBack(0)).as("the start at 100 ms was paced after it: it stays spent").isFalse();
        assertThat(bucket.earliest(SECOND / 10)).isEqualTo(2 * SECOND / 10);
        assertThat(bucket.giveBack(SECOND / 10)).isTrue();
        assertThat(bucket.earliest(SECOND / 10)).isEqualTo(SECOND / 10);
        assertThat(bucket.giveBack(SECOND / 10)).as("given back once").isFalse();
    }

    @Test
    void aFastBucketHoldsRoomOnlyForTheStartsItMadeWithinASecondAndStillKeepsTheWindowRule() {
        PaceBucket fast = new PaceBucket(10_000, 1);
        for (int i = 0; i < 1_000; i++) {
            fast.take(i * (SECOND + SECOND / 10));
        }
        assertThat(fast.room()).as("a thousand starts, each over a second after the one before")
                .isEqualTo(PaceBucket.INITIAL_ROOM);

        PaceBucket bursting = new PaceBucket(100, 100);
        List<Long> starts = greedyStarts(bursting, 0, 600);

        assertThat(bursting.room()).as("grown to the starts one second allows, no further").isEqualTo(200);
        assertThat(starts.subList(0, 100)).as("the burst, back to back").containsOnly(0L);
        assertThat(maxInAnyWindowClosed(starts, SECOND)).isLessThanOrEqualTo(200);

        PaceBucket slowed = bursting.withRate(10, 1);
        assertThat(slowed.room()).as("the last starts the new rate's second allows").isEqualTo(11);
    }

    @Test
    void isIdleOnceItHasRefilledAndItsLastStartIsOutsideTheWindow() {
        PaceBucket bucket = new PaceBucket(2, 1);
        bucket.take(0);

        assertThat(bucket.idleAt(SECOND / 4)).isFalse();
        assertThat(bucket.idleAt(SECOND / 2)).as("refilled, its start still in the window").isFalse();
        assertThat(bucket.idleAt(SECOND + 1)).isTrue();
    }

    @Test
    void aBucketForgottenWhenItSaysItIsIdleLetsNoMoreThanTheWindowAllowsAfterALateRun() {
        // 10 a second, burst 1: at most 11 starts in any second. The start due at 0.1 s comes at 0.6 s, and the run
        // catches up: every start due by then goes at once.
        PaceBucket bucket = new PaceBucket(10, 1, SECOND);
        List<Long> starts = new ArrayList<>();
        bucket.take(0);
        starts.add(0L);
        assertThat(bucket.earliest(0)).as("the next start promised").isPositive();
        long late = SECOND * 6 / 10;
        while (bucket.earliest(late) <= late) {
            bucket.take(late);
            starts.add(late);
        }
        assertThat(starts.size()).as("a late run caught up").isGreaterThan(2);

        // From the first moment it says it is idle, a bucket made afresh takes its place, and starts at its pace.
        long now = late;
        while (!bucket.idleAt(now)) {
            now += SECOND / 100;
        }
        starts.addAll(greedyStarts(new PaceBucket(10, 1, SECOND), now, 20));

        assertThat(maxInAnyWindowClosed(starts, SECOND)).isLessThanOrEqualTo(11);
    }

    /** The most starts inside any closed window [t, t + length]. */
    static int maxInAnyWindowClosed(List<Long> starts, long length) {
        List<Long> sorted = starts.stream().sorted().toList();
        int best = 0;
        int tail = 0;
        for (int head = 0; head < sorted.size(); head++) {
            while (sorted.get(head) - sorted.get(tail) > length) {
                tail++;
            }
            best = Math.max(best, head - tail + 1);
        }
        return best;
    }

    private static List<Long> greedyStarts(PaceBucket bucket, long now, int count) {
        List<Long> starts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long at = bucket.earliest(now);
            bucket.take(at);
            starts.add(at);
        }
        return starts;
    }

    /** The most starts inside any half-open window [t, t + length), t ranging over the starts themselves. */
    static int maxInAnyWindow(List<Long> starts, long length) {
        List<Long> sorted = starts.stream().sorted().toList();
        int best = 0;
        int tail = 0;
        for (int head = 0; head < sorted.size(); head++) {
            while (sorted.get(head) - sorted.get(tail) >= length) {
                tail++;
            }
            best = Math.max(best, head - tail + 1);
        }
        return best;
    }
}
