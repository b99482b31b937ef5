package dev.dialer.dispatcher.pacing;

import dev.dialer.common.contract.CallCommand;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.ObjLongConsumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The trunks this dispatcher dials over, one per carrier of the route table, each with its own {@link TrunkGate}: its
 * own calls per second, calls in progress and AIMD limit, so that a capacity rejection from one carrier shrinks that
 * carrier's limit only. A start is paced by the trunk of the carrier its call would be tried on first now (the first
 * of its route that can address it and whose breaker lets it through); a call that fails over and is placed by another
 * carrier moves its slot there ({@link #placedOn}). Everything else (a release, a rejection, a lapse) goes to the
 * trunk holding the slot.
 *
 * <p>Each trunk's limits are its own figures ({@code dialer.dispatcher.pacing.trunks.<name>}) or else the default ones
 * ({@code trunk-cps}, {@code trunk-concurrency}), divided by this dispatcher's share of the partitions like them. Its
 * gate is made at the first use of its name, or with the others at the first use of any. Thread-safe.
 */
public final class Trunks {

    /** The trunk's name where no carrier names it (a dispatcher built without one, in tests). */
    public static final String DEFAULT = "default";

    private final Function<String, TrunkGate> gateFactory;
    private final Function<CallCommand, String> trunkOf;
    private final Supplier<List<String>> names;
    private final BiConsumer<String, TrunkGate> created;
    private final ObjLongConsumer<String> started;
    /** Copy-on-write: read on every start and status, written once per trunk. */
    private volatile Map<String, TrunkGate> gates = Map.of();
    private volatile boolean allMade;
    private double share = 1.0;
    /** Held while a slot changes: a move between trunks is one step for every other change. */
    private final Object moves = new Object();

    /**
     * @param gateFactory a trunk's gate, by its name, at the full share
     * @param trunkOf     the trunk that paces a command's start
     * @param names       every trunk's name, the first the one a call counted without one is held on; asked once, at
     *                    the first use (the carriers are known only once built)
     * @param created     told of each gate as it is made (its metrics)
     * @param started     told of each start a trunk let happen: the trunk's name, and when the start was decided
     */
    Trunks(Function<String, TrunkGate> gateFactory, Function<CallCommand, String> trunkOf,
           Supplier<List<String>> names, BiConsumer<String, TrunkGate> created,
           ObjLongConsumer<String> started) {
        this.gateFactory = gateFactory;
        this.trunkOf = trunkOf;
        this.names = names;
        this.created = created;
        this.started = started;
    }

    /** The gate of the trunk named {@code name}, made now if it was not. */
    public TrunkGate gate(String name) {
        makeAll();
        TrunkGate gate = gates.get(name);
        return gate != null ? gate : make(name);
    }

    /** The trunk that paces {@code command}'s start now. */
    String trunkOf(CallCommand command) {
        String name = trunkOf.apply(command);
        return name == null ? first() : name;
    }

    private String first() {
        List<String> all = names.get();
        return all.isEmpty() ? DEFAULT : all.get(0);
    }

    private void makeAll() {
        if (!allMade) {
            synchronized (this) {
                if (!allMade) {
                    names.get().forEach(this::make);
                    allMade = true;
                }
            }
        }
    }

    private synchronized TrunkGate make(String name) {
        TrunkGate gate = gates.get(name);
        if (gate != null) {
            return gate;
        }
        gate = gateFactory.apply(name);
        gate.share(share);
        Map<String, TrunkGate> next = new LinkedHashMap<>(gates);
        next.put(name, gate);
        gates = next;
        created.accept(name, gate);
        return gate;
    }

    /** The gates made so far, by name. */
    Map<String, TrunkGate> gates() {
        makeAll();
        return gates;
    }

    /** The first trunk whose gate {@code test} accepts, with its name; null when none does. */
    private Map.Entry<String, TrunkGate> find(Predicate<TrunkGate> test) {
        for (Map.Entry<String, TrunkGate> each : gates().entrySet()) {
            if (test.test(each.getValue())) {
                return each;
            }
        }
        return null;
    }

    /** The gate holding a slot for {@code slotKey}, or else one with an unclaimed grant for it; null when none. */
    private TrunkGate holding(String slotKey) {
        Map.Entry<String, TrunkGate> holder = find(gate -> gate.holds(slotKey));
        return holder != null ? holder.getValue() : granting(slotKey);
    }

    /** The gate with an unclaimed grant for {@code slotKey}; null when none. */
    private TrunkGate granting(String slotKey) {
        Map.Entry<String, TrunkGate> grantor = find(gate -> gate.isGranted(slotKey));
        return grantor == null ? null : grantor.getValue();
    }

    /** Whether some trunk granted a start to {@code slotKey} ({@link TrunkGate#isGranted}). */
    boolean isGranted(String slotKey) {
        return granting(slotKey) != null;
    }

    /**
     * {@link TrunkGate#acquireOrWait} at the trunk that granted {@code slotKey} a start or holds a slot for it (another
     * start of the same attempt shares that slot), or else at the trunk that paces {@code command} now.
     */
    long acquireOrWait(String slotKey, CallCommand command, int partition, long now, long holdNanos,
                       Runnable wake) {
        String name;
        Map<String, TrunkGate> all = gates();
        if (all.size() == 1) {
            name = all.keySet().iterator().next();
        } else {
            Map.Entry<String, TrunkGate> known = find(gate -> gate.isGranted(slotKey));
            if (known == null) {
                known = find(gate -> gate.holds(slotKey));
            }
            name = known != null ? known.getKey() : trunkOf(command);
        }
        long result = gate(name).acquireOrWait(slotKey, command.accountId(), partition, now, holdNanos, wake);
        if (result == now) {
            started.accept(name, now);
        }
        return result;
    }

    /**
     * {@link TrunkGate#unplaced} at the trunk that granted the start (or else holds the slot); when none does, at every
     * trunk, so that a count of calls in flight it overtook leaves the call out wherever it counts it.
     */
    public void unplaced(String slotKey) {
        slotChange(slotKey, (gate, toWake) -> gate.unplaced(slotKey, toWake), true);
    }

    /**
     * {@link TrunkGate#unusedGrant} at the trunk that granted {@code slotKey} a start: the start will not be made, and
     * its slot and (while it can be) its rate token go back to that trunk's other waiters.
     *
     * @return the trunk and whether its token went back; null when no trunk granted {@code slotKey} a start
     */
    UnusedGrant unusedGrant(String slotKey) {
        List<Runnable> toWake = new ArrayList<>();
        UnusedGrant unused = null;
        synchronized (moves) {
            Map.Entry<String, TrunkGate> grantor = find(gate -> gate.isGranted(slotKey));
            if (grantor != null) {
                TrunkGate.GrantToken token = grantor.getValue().unusedGrant(slotKey, toWake);
                unused = token == null ? null : new UnusedGrant(grantor.getKey(), token);
            }
        }
        toWake.forEach(Runnable::run);
        return unused;
    }

    /**
     * {@link TrunkGate#release} at the trunk holding the slot; when none does, at every trunk, so that a count of
     * calls in flight it overtook leaves the call out wherever it counts it.
     */
    public void release(String slotKey, boolean success) {
        slotChange(slotKey, (gate, toWake) -> gate.release(slotKey, success, Long.MIN_VALUE, toWake), false);
    }

    /** {@link TrunkGate#releaseTakenBefore} at the trunk holding the slot, or else at every trunk, as a release. */
    public void releaseTakenBefore(String slotKey, long agoNanos) {
        slotChange(slotKey, (gate, toWake) -> gate.release(slotKey, false, agoNanos, toWake), false);
    }

    /**
     * {@link TrunkGate#capacityRejected} at the trunk named {@code trunk}, the carrier that refused the call for its
     * capacity: a route that failed over asked another carrier than the one whose trunk holds the slot, and the limit
     * to shrink is the refusing one's. The slot moves there first ({@link #placedOn}), in the same step: it belongs
     * to that trunk's congestion episode. A null {@code trunk}, or one that names no trunk of this dispatcher (a
     * callback's tag written before the route table changed), is the trunk holding the slot. One held nowhere (no
     * longer: it lapsed, or its partition moved) changes no limit; it is counted on the first trunk, and every trunk
     * keeps a count of calls in flight it overtook from holding it.
     */
    public void capacityRejected(String slotKey, String trunk) {
        String first = first();
        TrunkGate refusing = trunk == null ? null : gates().get(trunk);
        List<Runnable> toWake = new ArrayList<>();
        synchronized (moves) {
            TrunkGate gate = refusing != null && moveTo(refusing, slotKey, toWake) ? refusing : holding(slotKey);
            if (gate != null) {
                gate.capacityRejected(slotKey, toWake);
            } else {
                gates().forEach((name, each) -> {
                    if (name.equals(first)) {
                        each.capacityRejected(slotKey, toWake);
                    } else {
                        each.release(slotKey, false, Long.MIN_VALUE, toWake);
                    }
                });
            }
        }
        toWake.forEach(Runnable::run);
    }

    /**
     * {@link TrunkGate#sendAwayWaiting} at the trunk named {@code trunk}, if it was made; the lanes woken after.
     *
     * @return how many of the lanes woken were not back from the last time
     */
    int sendAwayWaiting(String trunk) {
        TrunkGate gate = gates().get(trunk);
        if (gate == null) {
            return 0;
        }
        List<Runnable> toWake = new ArrayList<>();
        int woken = gate.sendAwayWaiting(toWake);
        toWake.forEach(Runnable::run);
        return woken;
    }

    /**
     * A change of the slot of {@code slotKey} at the trunk holding it (granting it first, when {@code grantFirst}),
     * or at every trunk when none does; made while no slot moves between trunks ({@link #placedOn}), and the lanes
     * it frees woken after.
     */
    private void slotChange(String slotKey, BiConsumer<TrunkGate, List<Runnable>> change, boolean grantFirst) {
        List<Runnable> toWake = new ArrayList<>();
        synchronized (moves) {
            TrunkGate gate = grantFirst ? granting(slotKey) : null;
            if (gate == null) {
                gate = holding(slotKey);
            }
            if (gate != null) {
                change.accept(gate, toWake);
            } else {
                gates().values().forEach(each -> change.accept(each, toWake));
            }
        }
        toWake.forEach(Runnable::run);
    }

    /**
     * The call of {@code slotKey} was placed by the carrier named {@code trunk}: when its slot is held on another
     * trunk (the route failed over), it moves there, even above that trunk's limit, since the call is placed already
     * ({@link TrunkGate#adopt}). A trunk's name not yet known is made a trunk of its own. The move is one step for
     * every other change of a slot: a release or rejection never falls between the two trunks.
     */
    public void placedOn(String slotKey, String trunk) {
        if (trunk == null) {
            return;
        }
        TrunkGate target = gate(trunk);
        List<Runnable> toWake = new ArrayList<>();
        synchronized (moves) {
            moveTo(target, slotKey, toWake);
        }
        toWake.forEach(Runnable::run);
    }

    /**
     * Moves the slot of {@code slotKey} to {@code target} from the other trunk holding it, if one does; under
     * {@code moves}. Whether {@code target} holds it now.
     */
    private boolean moveTo(TrunkGate target, String slotKey, List<Runnable> toWake) {
        for (TrunkGate gate : gates().values()) {
            if (gate != target && gate.holds(slotKey)) {
                TrunkGate.HeldSlot moved = gate.handOver(slotKey, toWake);
                if (moved != null) {
                    target.adopt(slotKey, moved);
                }
                break;
            }
        }
        return target.holds(slotKey);
    }

    /** {@link TrunkGate#share} for every trunk, now and as they are made. */
    void share(double fraction) {
        synchronized (this) {
            share = fraction;
        }
        gates().values().forEach(gate -> gate.share(fraction));
    }

    /** {@link TrunkGate#releasePartitions} at every trunk; how many slots were released in all. */
    int releasePartitions(Set<Integer> partitions) {
        int released = 0;
        List<Runnable> toWake = new ArrayList<>();
        synchronized (moves) {
            for (TrunkGate gate : gates().values()) {
                released += gate.releasePartitions(partitions, toWake);
            }
        }
        toWake.forEach(Runnable::run);
        return released;
    }

    /** {@link TrunkGate#countingStarts} at every trunk. */
    public void countingStarts() {
        gates().values().forEach(TrunkGate::countingStarts);
    }

    /** {@link TrunkGate#countingEnded} at every trunk. */
    void countingEnded() {
        gates().values().forEach(TrunkGate::countingEnded);
    }

    /**
     * {@link TrunkGate#holdCounted} at each trunk for the calls it carries, ending the count at every trunk. A call
     * whose slot a trunk holds already (a start of this dispatcher's under the same attempt, whose dial the count
     * read) is counted there, whatever carrier it names; one without a carrier on record (its create-call answer not
     * stored yet), or with one no longer configured, at the first trunk. Counted at the first while a start held it
     * on another, the call took a second slot, and the two became one slot of two holders once the call was placed:
     * held after its end, until it lapsed.
     *
     * @return how many slots were taken in all
     */
    public int holdCounted(Collection<TrunkGate.CountedCall> calls) {
        synchronized (moves) {
            Map<String, List<TrunkGate.CountedCall>> byTrunk = new LinkedHashMap<>();
            String first = first();
            Map<String, TrunkGate> known = gates();
            for (TrunkGate.CountedCall call : calls) {
                Map.Entry<String, TrunkGate> holder = find(gate -> gate.holds(call.slotKey()));
                String trunk = holder != null ? holder.getKey()
                        : call.trunk() != null && known.containsKey(call.trunk()) ? call.trunk() : first;
                byTrunk.computeIfAbsent(trunk, name -> new ArrayList<>()).add(call);
            }
            byTrunk.keySet().forEach(this::gate);
            int held = 0;
            for (Map.Entry<String, TrunkGate> entry : gates().entrySet()) {
                held += entry.getValue().holdCounted(byTrunk.getOrDefault(entry.getKey(), List.of()));
            }
            return held;
        }
    }

    /** {@link TrunkGate#heldByCountAlone} of every trunk. */
    List<String> heldByCountAlone() {
        List<String> keys = new ArrayList<>();
        gates().values().forEach(gate -> keys.addAll(gate.heldByCountAlone()));
        return keys;
    }

    /** {@link TrunkGate#releaseHeldByCountAlone} at every trunk; how many slots were released in all. */
    int releaseHeldByCountAlone(Collection<String> slotKeys) {
        int released = 0;
        List<Runnable> toWake = new ArrayList<>();
        synchronized (moves) {
            for (TrunkGate gate : gates().values()) {
                released += gate.releaseHeldByCountAlone(slotKeys, toWake);
            }
        }
        toWake.forEach(Runnable::run);
        return released;
    }

    /** Calls in progress on every trunk together. */
    public int inFlight() {
        int inFlight = 0;
        for (TrunkGate gate : gates().values()) {
            inFlight += gate.inFlight();
        }
        return inFlight;
    }

    /** Whether some trunk holds a slot for {@code slotKey}. */
    public boolean holds(String slotKey) {
        return find(gate -> gate.holds(slotKey)) != null;
    }

    /**
     * A granted start that was not made ({@link #unusedGrant}).
     *
     * @param trunk the trunk that granted it
     * @param token what became of its rate token
     */
    record UnusedGrant(String trunk, TrunkGate.GrantToken token) {
    }
}
