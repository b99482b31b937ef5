package dev.dialer.dispatcher.pacing;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The trunk's limits as this dispatcher applies them: calls per second and calls in progress, each the configured
 * figure times this dispatcher's share of the commands partitions (so the group as a whole stays within the trunk),
 * re-divided when partitions move.
 *
 * <p>A concurrency slot is taken when a dial starts and held until the attempt's terminal status is applied; a slot
 * whose status never comes is released after {@code slotTimeLimit}, so slots never leak. The concurrency limit is
 * additive-increase, multiplicative-decrease: a capacity rejection halves it (never below 1), each call that ends
 * otherwise grows it by {@code 1/limit}, back up to the configured share. With no configured concurrency the first
 * rejection starts the limit at half the calls then in progress.
 *
 * <p>Lanes that find the trunk full wait in per-account queues and are woken round robin by account as slots free,
 * so one account's backlog cannot starve another sharing the trunk. Thread-safe.
 */
public final class TrunkGate {

    private final double configuredCps;
    private final int configuredConcurrency;
    private final long slotTimeLimitNanos;
    private final LongSupplier clock;

    private double share = 1.0;
    private PaceBucket bucket;
    private double limit;
    private final Map<String, Long> slots = new HashMap<>();
    private final LinkedHashMap<String, ArrayDeque<Runnable>> waiting = new LinkedHashMap<>();
    private long capacityRejections;

    TrunkGate(double configuredCps, int configuredConcurrency, long slotTimeLimitNanos, LongSupplier clock) {
        this.configuredCps = configuredCps;
        this.configuredConcurrency = configuredConcurrency;
        this.slotTimeLimitNanos = slotTimeLimitNanos;
        this.clock = clock;
        resize(1.0);
    }

    /** This dispatcher's share of the partitions, in (0, 1]; the limits are rescaled at once. */
    public synchronized void share(double fraction) {
        resize(Math.max(Math.min(fraction, 1.0), 0.0001));
    }

    private void resize(double fraction) {
        share = fraction;
        bucket = configuredCps > 0 ? new PaceBucket(configuredCps * fraction, 1) : null;
        limit = configuredConcurrency > 0 ? Math.max(1, configuredConcurrency * fraction) : Double.POSITIVE_INFINITY;
    }

    /** The earliest start the trunk's rate allows, given {@code now}. */
    synchronized long earliest(long now) {
        return bucket == null ? now : bucket.earliest(now);
    }

    /** {@link #acquireOrWait} found every slot held and queued the waiter. */
    static final long QUEUED = Long.MAX_VALUE;

    /**
     * Takes the rate slot and a concurrency slot at {@code now} for {@code slotKey}, as one step; or, when every
     * concurrency slot is held, queues {@code wake} under {@code account} and takes nothing.
     *
     * @return {@code now} when taken; {@link #QUEUED} when queued for a slot; otherwise the earliest time the trunk's
     *         rate allows another start (nothing taken, nothing queued)
     */
    long acquireOrWait(String slotKey, String account, long now, Runnable wake) {
        List<Runnable> toWake;
        long result;
        synchronized (this) {
            toWake = expire(now);
            long rate = bucket == null ? now : bucket.earliest(now);
            if (rate > now) {
                result = rate;
            } else if (slots.size() < currentLimit()) {
                slots.put(slotKey, now);
                if (bucket != null) {
                    bucket.take(now);
                }
                result = now;
            } else {
                waiting.computeIfAbsent(account, key -> new ArrayDeque<>()).add(wake);
                result = QUEUED;
            }
        }
        toWake.forEach(Runnable::run);
        return result;
    }

    /** The attempt ended (or was never placed): its slot frees; {@code success} grows the limit back. */
    public void release(String slotKey, boolean success) {
        List<Runnable> toWake;
        synchronized (this) {
            if (slots.remove(slotKey) == null) {
                return;
            }
            if (success && limit != Double.POSITIVE_INFINITY) {
                limit = Math.min(ceiling(), limit + 1.0 / Math.max(limit, 1));
            }
            toWake = wakeable(1);
        }
        toWake.forEach(Runnable::run);
    }

    /** The carrier rejected the attempt for capacity: its slot frees and the limit halves, never below 1. */
    public void capacityRejected(String slotKey) {
        List<Runnable> toWake;
        synchronized (this) {
            capacityRejections++;
            double base = limit == Double.POSITIVE_INFINITY ? slots.size() : limit;
            limit = Math.max(1, base / 2);
            slots.remove(slotKey);
            toWake = wakeable(Math.max(0, currentLimit() - slots.size()));
        }
        toWake.forEach(Runnable::run);
    }

    synchronized int inFlight() {
        return slots.size();
    }

    /** The concurrency limit now in force ({@link Integer#MAX_VALUE} when unlimited). */
    synchronized int currentLimit() {
        return limit == Double.POSITIVE_INFINITY ? Integer.MAX_VALUE : (int) Math.floor(limit);
    }

    /** The rate limit now in force, calls per second; 0 when unlimited. */
    synchronized double currentCps() {
        return configuredCps * share;
    }

    synchronized long capacityRejections() {
        return capacityRejections;
    }

    private double ceiling() {
        return configuredConcurrency > 0 ? Math.max(1, configuredConcurrency * share) : Double.POSITIVE_INFINITY;
    }

    /** Slots held past the time limit are given back: their terminal status was lost. */
    private List<Runnable> expire(long now) {
        int before = slots.size();
        slots.values().removeIf(acquired -> now - acquired > slotTimeLimitNanos);
        return wakeable(before - slots.size());
    }

    /** Up to {@code count} waiters, one account after another (round robin: a served account goes to the back). */
    private List<Runnable> wakeable(int count) {
        List<Runnable> result = new ArrayList<>();
        while (result.size() < count && !waiting.isEmpty()) {
            Iterator<Map.Entry<String, ArrayDeque<Runnable>>> first = waiting.entrySet().iterator();
            Map.Entry<String, ArrayDeque<Runnable>> entry = first.next();
            first.remove();
            result.add(entry.getValue().poll());
            if (!entry.getValue().isEmpty()) {
                waiting.put(entry.getKey(), entry.getValue());
            }
        }
        return result;
    }
}
