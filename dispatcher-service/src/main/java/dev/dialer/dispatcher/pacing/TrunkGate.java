package dev.dialer.dispatcher.pacing;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

/**
 * The trunk's limits as this dispatcher applies them: calls per second and calls in progress, each the configured
 * figure times this dispatcher's share of the commands partitions (so the group as a whole stays within the trunk),
 * re-divided when partitions move.
 *
 * <p>A concurrency slot is taken when a dial starts and held until the attempt's terminal status is applied; a slot
 * whose status never comes is released once its call cannot be going on any more (its hold, {@link SlotHold}: the
 * call's own ring timeout and time limit and a margin, never less than {@code slotTimeLimit}), so slots never leak and
 * a long call keeps its slot while it talks. Slots follow their partition:
 * when a partition is revoked its calls' statuses go to the new owner, so their slots are released here at once
 * ({@link #releasePartitions}), and the new owner counts the calls in flight on the partitions it gains as held
 * ({@link #holdCounted}) until their terminal statuses arrive; while such a count runs, starts wait for it when a
 * concurrency limit applies (their slots are not seen yet). The concurrency limit is additive-increase,
 * multiplicative-decrease: a capacity rejection halves it (never below 1), once per congestion episode (rejections of
 * slots taken before the last decrease make no further one), each call that ends otherwise grows it by
 * {@code 1/limit}, back up to the configured share. With no configured concurrency the first rejection starts the limit
 * at half the calls then in progress.
 *
 * <p>Fairness: when either limit binds (no rate token now, or every slot held), the lane asking waits in its account's
 * queue, and so does every lane that asks while anyone waits. As tokens and slots come (the gate's own timer for the
 * rate, a release for a slot), the gate serves the queues round robin by account: it takes the token and the slot for
 * the next account's first waiter and wakes it, and the woken lane finds its start granted. So one account's backlog
 * cannot crowd out another sharing the trunk, whichever limit binds. A grant the lane never claims (its partition went
 * away) is given back after {@link #GRANT_TIMEOUT_NANOS}. A grant the lane cannot use ({@link #unusedGrant}: its
 * campaign is not due, or its command is cancelled) gives its slot back at once, and its token too while the rate
 * has taken no start since, so the next account's waiter starts in its place. Thread-safe.
 */
public final class TrunkGate {

    /** {@link #acquireOrWait} queued the waiter: it is woken when its start is granted. */
    static final long QUEUED = Long.MAX_VALUE;

    /** The longest starts wait for a count of the calls in flight on gained partitions (a query's time, normally). */
    static final long COUNT_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** A woken lane claims its grant within milliseconds; one that has not after this is gone. */
    static final long GRANT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final double configuredCps;
    private final int configuredConcurrency;
    private final long slotTimeLimitNanos;
    private final long catchUpNanos;
    private final LongSupplier nanoTime;
    private final Scheduler scheduler;

    private double share = 1.0;
    private PaceBucket bucket;
    /**
     * The concurrency limit learned, before the floor of 1 that a small share puts under it ({@link #limit}): rescaled
     * with the share, and halved and grown by the calls' outcomes, in its place, so that a limit of 1 learned on all
     * the partitions, held at 1 on a quarter of them, comes back as 1, not 4, when the partitions do. Infinite while
     * none applies.
     */
    private double learned;
    private final Map<String, Slot> slots = new HashMap<>();
    private final Map<String, Grant> granted = new HashMap<>();
    private final LinkedHashMap<String, ArrayDeque<Waiter>> waiting = new LinkedHashMap<>();
    private int waiters;
    private Disposable rateTimer;
    private long rateTimerAt = Long.MAX_VALUE;
    private int counting;
    /** When the counts under way began (the first of them, while any runs). */
    private long countingSince;
    private final Set<String> releasedWhileCounting = new HashSet<>();
    /** The starts the last {@link #sendAwayWaiting} woke. */
    private Set<String> sentAway = Set.of();
    private long capacityRejections;
    /** How many times capacity rejections have decreased the limit: the episode a slot taken now belongs to. */
    private long decreases;
    /** When the last of those decreases was made, on the gate's clock. */
    private long lastDecreaseAt = Long.MIN_VALUE;
    /**
     * No held slot or unclaimed grant lapses before this: a lower bound, kept as they are taken (one released or
     * claimed since may have set it) and made exact by each scan for lapsed ones ({@link #expire}).
     */
    private long earliestLapse = Long.MAX_VALUE;

    /** On the scheduler's clock (a virtual one in tests). */
    TrunkGate(double configuredCps, int configuredConcurrency, long slotTimeLimitNanos, Scheduler scheduler) {
        this(configuredCps, configuredConcurrency, slotTimeLimitNanos, scheduler,
                () -> scheduler.now(TimeUnit.NANOSECONDS), PaceBucket.DEFAULT_CATCH_UP_NANOS);
    }

    /**
     * @param scheduler where the rate's timer runs
     * @param nanoTime  the clock, in nanoseconds
     */
    TrunkGate(double configuredCps, int configuredConcurrency, long slotTimeLimitNanos, Scheduler scheduler,
              LongSupplier nanoTime, long catchUpNanos) {
        this.catchUpNanos = catchUpNanos;
        this.nanoTime = nanoTime;
        this.configuredCps = configuredCps;
        this.configuredConcurrency = configuredConcurrency;
        this.slotTimeLimitNanos = slotTimeLimitNanos;
        this.scheduler = scheduler;
        resize(1.0);
    }

    /**
     * This dispatcher's share of the partitions, in (0, 1]; the limits are rescaled at once. A concurrency limit learned
     * from capacity rejections is rescaled with the share, not reset to the configured figure: the carrier's real limit
     * did not change because partitions moved, and resetting it would bring on a burst of rejections at every
     * rebalance. The same share again changes nothing. Lanes waiting for a slot or a token are served under the new
     * limits at once: a larger share has room for them now, not when a call ends or a slot lapses.
     */
    public void share(double fraction) {
        List<Runnable> toWake = new ArrayList<>();
        synchronized (this) {
            double next = Math.max(Math.min(fraction, 1.0), 0.0001);
            if (next == share) {
                return;
            }
            double before = share;
            double kept = learned;
            resize(next);
            if (kept != Double.POSITIVE_INFINITY) {
                learned = Math.min(ceiling(), kept * next / before);
            }
            serve(now(), toWake);
        }
        toWake.forEach(Runnable::run);
    }

    /** The limits at {@code fraction} of the configured ones; the rate's last starts carry over to the new rate. */
    private void resize(double fraction) {
        share = fraction;
        if (configuredCps <= 0) {
            bucket = null;
        } else {
            bucket = bucket == null ? new PaceBucket(configuredCps * fraction, 1, catchUpNanos)
                    : bucket.withRate(configuredCps * fraction, 1);
        }
        learned = configuredConcurrency > 0 ? Math.max(1, configuredConcurrency * fraction)
                : Double.POSITIVE_INFINITY;
    }

    /** Whether a start was granted to {@code slotKey} (its token and slot are taken): no other limit may stop it. */
    synchronized boolean isGranted(String slotKey) {
        return granted.containsKey(slotKey);
    }

    /** As {@link #acquireOrWait(String, String, int, long, long, Runnable)}, for a call held {@code slotTimeLimit}. */
    long acquireOrWait(String slotKey, String account, int partition, long now, Runnable wake) {
        return acquireOrWait(slotKey, account, partition, now, slotTimeLimitNanos, wake);
    }

    /**
     * Takes the rate token and a concurrency slot at {@code now} for {@code slotKey}, as one step, or claims the start
     * granted to it; or, when a limit binds or others wait before it, queues {@code wake} under {@code account} and
     * takes nothing.
     *
     * @param partition the commands partition the call belongs to (its slot is released if the partition is revoked)
     * @param holdNanos how long the slot is held at most without the call's terminal status ({@link SlotHold})
     * @return {@code now} when taken; {@link #QUEUED} when queued ({@code wake} runs once the start is granted)
     */
    long acquireOrWait(String slotKey, String account, int partition, long now, long holdNanos, Runnable wake) {
        List<Runnable> toWake = new ArrayList<>();
        long result;
        synchronized (this) {
            expire(now, toWake);
            if (granted.remove(slotKey) != null) {
                result = now;
            } else if (waiters == 0 && rateAllows(now) && slots.size() < currentLimit() && !countingBinds(now)) {
                take(slotKey, partition, now, holdNanos);
                result = now;
            } else {
                waiting.computeIfAbsent(account, key -> new ArrayDeque<>())
                        .add(new Waiter(slotKey, partition, holdNanos, wake));
                waiters++;
                serve(now, toWake);
                result = QUEUED;
            }
        }
        toWake.forEach(Runnable::run);
        return result;
    }

    /** The attempt ended (or was never placed): its slot frees; {@code success} grows the limit back. */
    public void release(String slotKey, boolean success) {
        release(slotKey, success, Long.MIN_VALUE);
    }

    /**
     * As {@link #release release(slotKey, false)}, only for a slot taken at least {@code agoNanos} ago: one whose dial
     * was no longer in flight since then, and whose release was lost. A slot taken since (for the next dial of the
     * same attempt) stays.
     */
    public void releaseTakenBefore(String slotKey, long agoNanos) {
        release(slotKey, false, agoNanos);
    }

    private void release(String slotKey, boolean success, long agoNanos) {
        List<Runnable> toWake = new ArrayList<>();
        release(slotKey, success, agoNanos, toWake);
        toWake.forEach(Runnable::run);
    }

    /**
     * {@link #release(String, boolean)} of a slot taken at least {@code agoNanos} ago ({@code MIN_VALUE}: any),
     * adding the lanes to wake to {@code toWake} for the caller to run once it holds no lock.
     */
    void release(String slotKey, boolean success, long agoNanos, List<Runnable> toWake) {
        synchronized (this) {
            Slot held = slots.get(slotKey);
            if (held != null && agoNanos != Long.MIN_VALUE && held.takenAt > now() - agoNanos) {
                return;
            }
            Slot slot = slots.get(slotKey);
            if (slot != null && --slot.holders > 0) {
                // Another start of the attempt holds it still: one granted to it keeps its grant, which it has not
                // claimed yet (taken away, it would take the slot again, and its release as a duplicate would leave
                // the slot held by nobody until it lapsed).
                return;
            }
            granted.remove(slotKey);
            if (counting > 0) {
                // The call ended while calls in flight on a gained partition were being counted, and the count may
                // have read it before (a dial of ours claimed, or the gained partition's call): it must not be
                // counted, or its slot would be held with nobody left to free it.
                releasedWhileCounting.add(slotKey);
            }
            if (slot == null) {
                return;
            }
            slots.remove(slotKey);
            if (success && learned != Double.POSITIVE_INFINITY) {
                // Below the floor (a small share of a small limit) a success counts as one at the whole trunk's would:
                // a call more across every partition.
                learned = Math.min(ceiling(), learned < 1 ? learned + share : learned + 1.0 / learned);
            }
            serve(now(), toWake);
        }
    }

    /**
     * A start was not placed (a duplicate of a call in progress, refused by policy, or failed before the carrier was
     * asked): its hold goes, but not the slot of a call in flight that {@link #holdCounted} found holding it with this
     * start.
     */
    public void unplaced(String slotKey) {
        List<Runnable> toWake = new ArrayList<>();
        unplaced(slotKey, toWake);
        toWake.forEach(Runnable::run);
    }

    /** {@link #unplaced(String)}, adding the lanes to wake to {@code toWake}. */
    void unplaced(String slotKey, List<Runnable> toWake) {
        synchronized (this) {
            Slot slot = slots.get(slotKey);
            if (slot != null && slot.counted && slot.holders == 1) {
                // The counted call in flight is now the slot's only holder; its terminal status releases it.
                slot.counted = false;
                slot.countAlone = true;
                granted.remove(slotKey);
                return;
            }
            release(slotKey, false, Long.MIN_VALUE, toWake);
        }
    }

    /**
     * The start granted to {@code slotKey} will not be made: its lane's campaign cannot use it yet, or its command is
     * cancelled. Its slot goes, as an {@link #unplaced} start's does, and so does its rate token, given back to the
     * bucket ({@link PaceBucket#giveBack}) while no start was taken here at a later time; then the next waiter is
     * served with it. A token spent for a start nobody made would be a start less for everyone sharing the trunk:
     * a trunk whose waiting lanes are mostly a slow campaign's would dial far below its rate for the others. Later,
     * the token stays spent: the bucket cannot tell what a later start would have been without it.
     *
     * @param toWake the lanes to wake, for the caller to run once it holds no lock
     * @return what became of its token; null when no start was granted to {@code slotKey}
     */
    GrantToken unusedGrant(String slotKey, List<Runnable> toWake) {
        synchronized (this) {
            Grant grant = granted.get(slotKey);
            if (grant == null) {
                return null;
            }
            GrantToken token = grant.tokenFrom() == null || grant.tokenFrom() != bucket ? GrantToken.NONE
                    : bucket.giveBack(grant.at()) ? GrantToken.GIVEN_BACK : GrantToken.SPENT;
            // The grant goes with its start, whoever else holds the slot (a call of the attempt in progress keeps it).
            granted.remove(slotKey);
            unplaced(slotKey, toWake);
            serve(now(), toWake);
            return token;
        }
    }

    /**
     * The call holding {@code slotKey} was placed on another trunk than the one whose slot it took (its route failed
     * over to the next carrier): the slot leaves this gate, freeing it for the lanes waiting here, to be
     * {@link #adopt adopted} by the other, so that each trunk counts the calls it carries.
     *
     * @param toWake the lanes to wake, for the caller to run once it holds no lock
     * @return the slot as the other trunk adopts it; null when none is held here
     */
    synchronized HeldSlot handOver(String slotKey, List<Runnable> toWake) {
        Slot slot = slots.remove(slotKey);
        if (slot == null) {
            return null;
        }
        // A grant to another start of the attempt (a duplicate the ledger will recognise) goes with the slot it holds.
        Grant grant = granted.remove(slotKey);
        serve(now(), toWake);
        return new HeldSlot(slot.partition, slot.holders, slot.takenAt, slot.lapsesAt, slot.counted,
                slot.countAlone, grant == null ? null : grant.at());
    }

    /**
     * Holds a slot another trunk {@link #handOver handed over}, whatever the limit: its call is placed already. It
     * spends a rate token, as a start here would have (the rate runs into debt: the next starts wait the longer), and
     * belongs to the congestion episode of this trunk in force when it was taken on the other: a call started before
     * this trunk's last decrease belongs to the episode that decrease answered, so that a burst of such calls a route
     * failed over to this trunk's carrier, each refused for its capacity, halves its limit once, not once per call.
     * Merged with a slot of the same attempt held here already (another start of it).
     */
    synchronized void adopt(String slotKey, HeldSlot held) {
        long now = now();
        if (bucket != null) {
            bucket.take(now);
        }
        if (held.grantedAt() != null) {
            // Its token was taken on the other trunk: the adoption's token here is the placed call's, never given back.
            granted.put(slotKey, new Grant(held.grantedAt(), null));
            lapsesBy(grantLapse(held.grantedAt()));
        }
        Slot existing = slots.get(slotKey);
        if (existing != null) {
            existing.holders += held.holders();
            existing.lapsesAt = Math.max(existing.lapsesAt, held.lapsesAt());
            existing.counted |= held.counted();
            existing.countAlone = false;
            return;
        }
        long episode = decreases > 0 && held.takenAt() <= lastDecreaseAt ? decreases - 1 : decreases;
        Slot slot = new Slot(held.partition(), episode, held.takenAt(), held.lapsesAt());
        slot.holders = held.holders();
        slot.counted = held.counted();
        slot.countAlone = held.countAlone();
        slots.put(slotKey, slot);
        lapsesBy(held.lapsesAt());
    }

    /**
     * The carrier rejected the attempt for capacity: its slot frees, and the limit halves (never below 1) once per
     * congestion episode. A rejection of a slot taken before the last decrease belongs to the episode that decrease
     * answered (a burst of rejections of calls started together, "Max Account Calls In Progress" for each) and
     * changes the limit no further: only a slot taken under the reduced limit tells that it is still too high, as TCP
     * halves its window once per window of data lost. A slot not held here (never, or no longer) tells nothing.
     */
    public void capacityRejected(String slotKey) {
        List<Runnable> toWake = new ArrayList<>();
        capacityRejected(slotKey, toWake);
        toWake.forEach(Runnable::run);
    }

    /** {@link #capacityRejected(String)}, adding the lanes to wake to {@code toWake}. */
    void capacityRejected(String slotKey, List<Runnable> toWake) {
        synchronized (this) {
            capacityRejections++;
            Slot slot = slots.get(slotKey);
            if (counting > 0) {
                // As for a release: the count of calls in flight on a gained partition may have read the call before
                // it was requeued; counted, it would hold a slot nobody frees.
                releasedWhileCounting.add(slotKey);
            }
            if (slot != null && slot.takenAfterDecrease == decreases) {
                double base = learned == Double.POSITIVE_INFINITY ? slots.size() : learned;
                learned = base / 2;
                decreases++;
                lastDecreaseAt = now();
            }
            granted.remove(slotKey);
            slots.remove(slotKey);
            serve(now(), toWake);
        }
    }

    /**
     * The partitions went to another dispatcher, which now receives their calls' statuses: their slots (and grants,
     * and waiting lanes, which are dropped with the partition) are let go here, or they would stay held until the
     * slot time limit.
     *
     * @return how many slots were released
     */
    public int releasePartitions(Set<Integer> partitions) {
        List<Runnable> toWake = new ArrayList<>();
        int released = releasePartitions(partitions, toWake);
        toWake.forEach(Runnable::run);
        return released;
    }

    /** {@link #releasePartitions(Set)}, adding the lanes to wake to {@code toWake}. */
    int releasePartitions(Set<Integer> partitions, List<Runnable> toWake) {
        int released;
        synchronized (this) {
            int before = slots.size();
            slots.entrySet().removeIf(entry -> {
                boolean gone = partitions.contains(entry.getValue().partition());
                if (gone) {
                    granted.remove(entry.getKey());
                }
                return gone;
            });
            released = before - slots.size();
            for (Iterator<ArrayDeque<Waiter>> queues = waiting.values().iterator(); queues.hasNext(); ) {
                ArrayDeque<Waiter> queue = queues.next();
                int size = queue.size();
                queue.removeIf(waiter -> partitions.contains(waiter.partition()));
                waiters -= size - queue.size();
                if (queue.isEmpty()) {
                    queues.remove();
                }
            }
            serve(now(), toWake);
        }
        return released;
    }

    /**
     * Every lane queued here is woken with no start granted, and asks again where to start: the trunk's carrier takes
     * no calls (its breaker open), and a lane whose route has another carrier is paced by that carrier's trunk now
     * ({@link Trunks#acquireOrWait}). Queued, it would wait here for a slot that frees only when a call of the carrier
     * ends, which a carrier gone silent never reports: an hour, until the slots lapse. Grants already made stay.
     *
     * @return how many of the lanes woken were not back from the last time: a lane whose route has no other carrier
     *         that can address its call (a {@code user:} call over a Voice Gateway and a SIP trunk) queues here again
     */
    synchronized int sendAwayWaiting(List<Runnable> toWake) {
        int first = 0;
        Set<String> woken = new HashSet<>();
        for (ArrayDeque<Waiter> queue : waiting.values()) {
            for (Waiter waiter : queue) {
                toWake.add(waiter.wake());
                woken.add(waiter.slotKey());
                if (!sentAway.contains(waiter.slotKey())) {
                    first++;
                }
            }
        }
        sentAway = woken;
        waiting.clear();
        waiters = 0;
        return first;
    }

    /**
     * A count of the calls in flight on gained partitions is starting: terminal statuses applied until
     * {@link #holdCounted} must keep their calls out of the count.
     */
    public synchronized void countingStarts() {
        if (counting++ == 0) {
            countingSince = now();
        }
    }

    /**
     * Holds a slot for each call found in flight on partitions this dispatcher gained (their terminal statuses now
     * come here and release them), except those whose end was applied while they were being counted.
     *
     * @return how many slots were taken
     */
    public int holdCounted(Collection<CountedCall> calls) {
        int held = 0;
        List<Runnable> toWake = new ArrayList<>();
        synchronized (this) {
            long now = now();
            for (CountedCall call : calls) {
                if (releasedWhileCounting.contains(call.slotKey())) {
                    continue;
                }
                Slot existing = slots.get(call.slotKey());
                if (existing != null) {
                    // A start of the same attempt holds it now: a live dial of ours, or a redelivered copy the ledger
                    // will call a duplicate. The call in flight keeps the slot if that start turns out unplaced.
                    existing.counted = true;
                } else {
                    long hold = call.holdNanos() > 0 ? call.holdNanos() : slotTimeLimitNanos;
                    long age = Math.max(0, Math.min(call.ageNanos(), hold));
                    Slot counted = new Slot(call.partition(), decreases, now - age, now - age + hold + 1);
                    counted.countAlone = true;
                    slots.put(call.slotKey(), counted);
                    lapsesBy(counted.lapsesAt);
                    held++;
                }
            }
            endCounting(now, toWake);
        }
        toWake.forEach(Runnable::run);
        return held;
    }

    /** A count of the calls in flight on gained partitions failed or was abandoned: nothing is held for it. */
    public void countingEnded() {
        List<Runnable> toWake = new ArrayList<>();
        synchronized (this) {
            endCounting(now(), toWake);
        }
        toWake.forEach(Runnable::run);
    }

    /** A count ended; once none is under way, the starts it held back are served. */
    private void endCounting(long now, List<Runnable> toWake) {
        counting = Math.max(0, counting - 1);
        if (counting == 0) {
            releasedWhileCounting.clear();
            serve(now, toWake);
        }
    }

    /**
     * The slots held for calls a count of gained partitions found in flight, and for no start of this dispatcher's:
     * their calls' ends come here, unless the previous owner ended them itself (a dial it had under way when it lost
     * the partition, refused by the carrier or never placed), which tells only its own gates.
     */
    synchronized List<String> heldByCountAlone() {
        List<String> keys = new ArrayList<>();
        slots.forEach((slotKey, slot) -> {
            if (slot.countAlone) {
                keys.add(slotKey);
            }
        });
        return keys;
    }

    /**
     * Releases those of {@code slotKeys} still held for a count alone ({@link #heldByCountAlone}): their attempts are
     * no longer in flight. One a start of this dispatcher's holds since (the attempt dialled again here) stays.
     *
     * @param toWake the lanes to wake, for the caller to run once it holds no lock
     * @return how many were released
     */
    int releaseHeldByCountAlone(Collection<String> slotKeys, List<Runnable> toWake) {
        int released = 0;
        synchronized (this) {
            for (String slotKey : slotKeys) {
                Slot slot = slots.get(slotKey);
                if (slot != null && slot.countAlone) {
                    release(slotKey, false, Long.MIN_VALUE, toWake);
                    released++;
                }
            }
        }
        return released;
    }

    /**
     * Whether starts wait for a count of the calls in flight on gained partitions: with a concurrency limit, those
     * calls hold slots the gate does not see yet, and a start let through now could take the trunk past its limit
     * for as long as the call lasts (every partition is revoked and assigned again at a rebalance, and their slots
     * go with them). A count takes a query's time; they wait at most {@link #COUNT_WAIT_NANOS} for it, and a failed
     * one ends the wait too.
     */
    private boolean countingBinds(long now) {
        return counting > 0 && learned != Double.POSITIVE_INFINITY && now - countingSince < COUNT_WAIT_NANOS;
    }

    /** Whether a slot is held for {@code slotKey}. */
    synchronized boolean holds(String slotKey) {
        return slots.containsKey(slotKey);
    }

    synchronized int inFlight() {
        return slots.size();
    }

    /** Lanes queued for a token or a slot. */
    synchronized int waiting() {
        return waiters;
    }

    /** The concurrency limit now in force ({@link Integer#MAX_VALUE} when unlimited). */
    synchronized int currentLimit() {
        return learned == Double.POSITIVE_INFINITY ? Integer.MAX_VALUE : (int) Math.floor(limit());
    }

    /** The concurrency limit in force: what was learned, never below one call (infinite while none applies). */
    private double limit() {
        return Math.max(1, learned);
    }

    /** The rate limit now in force, calls per second; 0 when unlimited. */
    synchronized double currentCps() {
        return configuredCps * share;
    }

    synchronized long capacityRejections() {
        return capacityRejections;
    }

    /** How many times capacity rejections halved the limit (once per congestion episode); a rebalance is not one. */
    synchronized long limitDecreases() {
        return decreases;
    }

    private double ceiling() {
        return configuredConcurrency > 0 ? Math.max(1, configuredConcurrency * share) : Double.POSITIVE_INFINITY;
    }

    private boolean rateAllows(long now) {
        return bucket == null || bucket.earliest(now) <= now;
    }

    private void take(String slotKey, int partition, long now, long holdNanos) {
        Slot held = slots.get(slotKey);
        long lapsesAt = now + holdNanos + 1;
        if (held != null && held.countAlone) {
            // The attempt a count found in flight is dialled again here (its earlier dial ended, refused for capacity
            // at the previous owner): as if the count had found this start holding the slot, which the start's end
            // frees, and which stays held if the start is not placed. Taken now, by this start: a late callback of the
            // earlier dial, refused, frees only a slot taken before that dial was requeued (releaseTakenBefore), and
            // must not free this one.
            Slot taken = new Slot(held.partition, decreases, now, Math.max(held.lapsesAt, lapsesAt));
            taken.holders = held.holders;
            taken.counted = true;
            slots.put(slotKey, taken);
            lapsesBy(taken.lapsesAt);
        } else if (held != null) {
            // Another start of the same attempt (a redelivered or re-published command, which the ledger will find
            // a duplicate): it shares the call's slot, so its release must not free the slot of the call in progress.
            held.holders++;
            held.lapsesAt = Math.max(held.lapsesAt, lapsesAt);
        } else {
            slots.put(slotKey, new Slot(partition, decreases, now, lapsesAt));
            lapsesBy(lapsesAt);
        }
        if (bucket != null) {
            bucket.take(now);
        }
    }

    /**
     * Grants starts to waiting lanes, one account after another (a served account goes to the back), while a token
     * and a slot are there; when the rate is what binds, sets the timer for the next token, and when concurrency
     * binds, for the first held slot or grant to lapse.
     */
    private void serve(long now, List<Runnable> toWake) {
        while (waiters > 0 && slots.size() < currentLimit() && !countingBinds(now)) {
            long at = bucket == null ? now : bucket.earliest(now);
            if (at > now) {
                armRateTimer(now, at);
                return;
            }
            Iterator<Map.Entry<String, ArrayDeque<Waiter>>> first = waiting.entrySet().iterator();
            Map.Entry<String, ArrayDeque<Waiter>> entry = first.next();
            first.remove();
            Waiter next = entry.getValue().poll();
            waiters--;
            if (!entry.getValue().isEmpty()) {
                waiting.put(entry.getKey(), entry.getValue());
            }
            take(next.slotKey(), next.partition(), now, next.holdNanos());
            granted.put(next.slotKey(), new Grant(now, bucket));
            lapsesBy(grantLapse(now));
            toWake.add(next.wake());
        }
        if (waiters > 0 && countingBinds(now)) {
            // Starts wait for the count, at most COUNT_WAIT_NANOS: a count that takes longer (a database that hangs,
            // retried) lets them go then, as a failed count does.
            armRateTimer(now, countingSince + COUNT_WAIT_NANOS);
            return;
        }
        if (waiters > 0 && slots.size() >= currentLimit()) {
            // Concurrency binds. A slot held past its time limit (its terminal status was lost) or a grant never
            // claimed frees one with no release to say so: look again when the first of them lapses, or the waiting
            // lanes would wait for traffic that may never come.
            // Early at worst (a bound that a release or a claimed grant has made stale): the timer then finds nothing
            // lapsed, and the scan it makes sets the bound right.
            if (earliestLapse != Long.MAX_VALUE) {
                armRateTimer(now, Math.max(earliestLapse, now + 1));
            }
        }
    }

    private void armRateTimer(long now, long at) {
        if (rateTimer != null && !rateTimer.isDisposed() && rateTimerAt <= at) {
            return;
        }
        if (rateTimer != null) {
            rateTimer.dispose();
        }
        rateTimerAt = at;
        rateTimer = scheduler.schedule(this::rateTimerFired, at - now, TimeUnit.NANOSECONDS);
    }

    private void rateTimerFired() {
        List<Runnable> toWake = new ArrayList<>();
        synchronized (this) {
            rateTimerAt = Long.MAX_VALUE;
            long now = now();
            expire(now, toWake);
            serve(now, toWake);
        }
        toWake.forEach(Runnable::run);
    }

    /** Slots held past their hold are given back (their terminal status was lost), and grants never claimed. */
    private void expire(long now, List<Runnable> toWake) {
        if (now < earliestLapse) {
            // Nothing can have lapsed yet: no scan of every slot on every start.
            return;
        }
        int before = slots.size();
        long next = Long.MAX_VALUE;
        for (Iterator<Slot> held = slots.values().iterator(); held.hasNext(); ) {
            long lapse = held.next().lapsesAt;
            if (now >= lapse) {
                held.remove();
            } else {
                next = Math.min(next, lapse);
            }
        }
        for (Iterator<Map.Entry<String, Grant>> grants = granted.entrySet().iterator(); grants.hasNext(); ) {
            Map.Entry<String, Grant> grant = grants.next();
            long lapse = grantLapse(grant.getValue().at());
            if (now >= lapse) {
                // The start granted never came for it: its hold goes, not that of another start of the attempt (a
                // call in progress) that shares the slot.
                Slot slot = slots.get(grant.getKey());
                if (slot != null && --slot.holders <= 0) {
                    slots.remove(grant.getKey());
                }
                grants.remove();
            } else {
                next = Math.min(next, lapse);
            }
        }
        earliestLapse = next;
        if (slots.size() < before) {
            serve(now, toWake);
        }
    }

    /** When a grant made at {@code grantedAt} is given back unless claimed first. */
    private static long grantLapse(long grantedAt) {
        return grantedAt + GRANT_TIMEOUT_NANOS + 1;
    }

    /** A slot or grant that lapses at {@code at} unless released or claimed first. */
    private void lapsesBy(long at) {
        earliestLapse = Math.min(earliestLapse, at);
    }

    private long now() {
        return nanoTime.getAsLong();
    }

    /**
     * The key of an attempt's slot, whoever takes, counts or frees it: one slot an attempt, however often it is
     * dialled.
     */
    public static String slotKey(String requestId, int attempt) {
        return requestId + "#" + attempt;
    }

    /**
     * A call found in flight on a gained partition: its slot key, partition, time since it was placed, how long its
     * slot may be held in all ({@link SlotHold}; 0 for {@code slot-time-limit}), and the trunk that carries it (null
     * when not on record: {@link Trunks} counts it on its first trunk).
     */
    public record CountedCall(String slotKey, int partition, long ageNanos, long holdNanos, String trunk) {

        /** Held for {@code slot-time-limit} from its placing, on the first trunk. */
        public CountedCall(String slotKey, int partition, long ageNanos) {
            this(slotKey, partition, ageNanos, 0, null);
        }
    }

    /**
     * A held slot on its way from one trunk to another ({@link #handOver}, {@link #adopt}), with the time of a start
     * granted under it and not yet claimed (null when none).
     */
    record HeldSlot(int partition, int holders, long takenAt, long lapsesAt, boolean counted, boolean countAlone,
                    Long grantedAt) {
    }

    /** A held slot: for which partition it was taken, when it lapses, and how many starts of its attempt hold it. */
    private static final class Slot {
        private final int partition;
        /** The number of decreases made before the slot was taken ({@link #capacityRejected}). */
        private final long takenAfterDecrease;
        /** When it was taken, on the gate's clock; for a counted call, when the call was placed. */
        private final long takenAt;
        private int holders = 1;
        /** When it is given back unless released first: once past its hold. */
        private long lapsesAt;
        /** Found in flight by a count of a gained partition while a start held it (see {@link #unplaced}). */
        private boolean counted;
        /** Held for a call a count found in flight, for no start of this dispatcher (see {@link #heldByCountAlone}). */
        private boolean countAlone;

        Slot(int partition, long takenAfterDecrease, long takenAt, long lapsesAt) {
            this.partition = partition;
            this.takenAfterDecrease = takenAfterDecrease;
            this.takenAt = takenAt;
            this.lapsesAt = lapsesAt;
        }

        int partition() {
            return partition;
        }
    }

    private record Waiter(String slotKey, int partition, long holdNanos, Runnable wake) {
    }

    /** What became of the rate token of a start granted and not made ({@link #unusedGrant}). */
    enum GrantToken {
        /** Given back: the next start takes it. */
        GIVEN_BACK,
        /** Spent: the rate had taken a start at a later time. */
        SPENT,
        /**
         * None to give: the trunk has no rate limit, the grant came with a slot another trunk handed over, or the
         * bucket was rebuilt at a new share since.
         */
        NONE
    }

    /**
     * A start granted and not yet claimed: when, and the bucket its rate token was taken from (null when none was
     * taken here: no rate limit, or it came with a slot another trunk handed over). A bucket rebuilt since, at a new
     * share, holds no token of it.
     */
    private record Grant(long at, PaceBucket tokenFrom) {
    }
}
