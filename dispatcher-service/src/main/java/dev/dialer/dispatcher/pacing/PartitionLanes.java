package dev.dialer.dispatcher.pacing;

import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.PartitionFlow;
import dev.dialer.dispatcher.pacing.PacingMetrics.Unpaced;
import dev.dialer.dispatcher.resilience.InfraRetry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.ListIterator;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * One partition's records in per-caller-ID lanes. Lanes proceed independently: a caller ID waiting for its rate
 * never holds another one up. A lane starts its records in offset order, each when every limit allows (its caller
 * ID's rate, its campaign's, the trunk's rate and a trunk concurrency slot), and keeps up to
 * {@code inFlightPerLane} of them running.
 *
 * <p>Memory is bounded: at most {@code maxInFlightPerPartition} records are held (plus one poll's worth fetched before
 * a pause takes effect); at that mark the partition stops fetching, below half of it it fetches again. A record
 * arriving at a lane that already holds {@code parkAfter} of waiting is parked (stored in {@code dispatch.schedule},
 * then acknowledged) with a due time spaced at the lane's rate, so a long backlog of one caller ID neither fills the
 * window nor holds the partition's commits or a rebalance. A requeued attempt ({@link #FRONT_OF_LANE_HEADER}) goes to
 * the front of its lane instead.
 *
 * <p>A command the dial-time gate will end {@code canceled} or {@code expired} ({@link Lanes#endsAtTheGate}) is never
 * paced: it takes no token, permit or slot and is never parked, not even in a lane held for its carrier, but goes to
 * the work at once, which still decides. Ending when it arrives, it goes past its lane (it is not dialled, so the
 * order of the lane's dials does not change); cancelled or expired while it waits, it goes in the lane's order when it
 * reaches the head, and the lane's next dial starts after it.
 *
 * <p>Delivery: at least once per record. A record is acknowledged only through its {@link OffsetWindow}, which
 * commits no further than the first unfinished record. The work (and so the ledger) keeps a redelivered record from
 * dialling twice.
 *
 * <p>Every state change happens under this object's lock and only ever emits work to {@link #jobs()}; the caller
 * subscribes to that once and runs the jobs.
 */
public final class PartitionLanes {

    /**
     * Marks a command the retry scheduler publishes for an attempt requeued after the carrier took no call (a capacity
     * rejection, no carrier reachable): it goes to the front of its lane, never parked for the lane's backlog, since
     * it had reached the head of the lane once already (only a lane held for its carrier parks it, with the rest).
     */
    public static final String FRONT_OF_LANE_HEADER = "dialer.front-of-lane";

    /**
     * Marks a command the retry scheduler publishes again when its parking ended: it is in its lane's turn (what came
     * after it was parked after it), so it joins the lane whatever the lane holds, never parked behind later records.
     */
    public static final String PARKED_HEADER = "dialer.parked";

    private static final Logger log = LoggerFactory.getLogger(PartitionLanes.class);
    private static final int PARK_BATCH = 500;
    /** A lane holds at most the partition's window divided by this; the rest of its backlog is parked. */
    static final int LANE_SHARE_DIVISOR = 4;
    /** How long a parking batch refused by something other than an outage waits before it is tried again. */
    static final Duration PARK_RETRY = Duration.ofSeconds(5);
    /** How long a look at a lane's parked backlog may take before what arrived meanwhile parks as it would have. */
    static final Duration RECOUNT_TIMEOUT = Duration.ofSeconds(10);
    private static final int TRACKED_FACTOR = 20;
    private static final long NOT_HELD = Long.MIN_VALUE;

    private final String topic;
    private final int partition;
    private final Lanes lanes;
    private final PartitionFlow flow;
    private final LaneWork work;
    private final Scheduler scheduler;
    private final Scheduler timers;

    private final OffsetWindow window = new OffsetWindow();
    private final Map<String, Lane> byCallerId = new HashMap<>();
    private final Flux<Mono<Void>> jobs;
    private FluxSink<Mono<Void>> sink;
    private final ArrayDeque<ToPark> toPark = new ArrayDeque<>();
    private final Set<AtomicBoolean> permitsHeld = ConcurrentHashMap.newKeySet();
    /**
     * Lanes whose head is a call of a campaign with a rate, by campaign ({@link #countCampaign}): written under this
     * object's lock, read by every partition's lanes ({@link Lanes#campaignShareIntervalNanos}) without it.
     */
    private final Map<Lanes.CampaignKey, Integer> waitingOn = new ConcurrentHashMap<>();
    private boolean parking;
    private int parkingNow;
    /** The batch being written ({@link #parkBatch}); empty when none is. */
    private List<ToPark> writing = List.of();
    private boolean paused;
    private long generation;
    /**
     * Emits when the current generation is revoked: its timers, each holding a place in the job stream while it waits
     * (up to {@code park-after} for a trunk wait's check), end then instead of when they would have fired.
     */
    private Sinks.One<Boolean> revoked = Sinks.one();
    private int admittedSinceSweep;

    PartitionLanes(String topic, int partition, Lanes lanes, PartitionFlow flow, LaneWork work, Scheduler scheduler,
                   Scheduler timers) {
        this.topic = topic;
        this.partition = partition;
        this.lanes = lanes;
        this.flow = flow;
        this.work = work;
        this.scheduler = scheduler;
        this.timers = timers;
        this.jobs = Flux.<Mono<Void>>create(created -> {
            synchronized (this) {
                sink = created;
            }
        }, FluxSink.OverflowStrategy.BUFFER);
    }

    /**
     * The work this partition's lanes hand out (dials, parkings, timers, pause and resume), to be run concurrently;
     * its size is bounded by the window, so the caller's concurrency only needs to be as large.
     */
    public Flux<Void> jobs(int concurrency) {
        return jobs.flatMap(job -> job, concurrency);
    }

    /**
     * Takes a record in. {@code ticket} null means it will not be dialled (a bad record, one to re-route): it runs
     * at once, outside any lane.
     */
    public synchronized void admit(InboundRecord raw, LaneTicket ticket) {
        if (flow != null && flow.fetchedBeforeRevocation(raw)) {
            log.debug("{}-{} offset {} was fetched before the partition was revoked; left to its owner", topic,
                    partition, raw.offset());
            return;
        }
        OffsetWindow.Slot slot = window.track(raw);
        InboundRecord record = withAcknowledger(raw, slot);
        boolean handedOver = false;
        PacingMetrics.Ends ends;
        try {
            if (ticket == null) {
                emit(whileOwned(generation, () -> work.handle(record, null)).subscribeOn(scheduler).then());
                handedOver = true;
            } else if ((ends = lanes.endsAtTheGate(ticket)) != null) {
                handOverUnpaced(new Pending(record, ticket, slot, now()), ends, Unpaced.ADMISSION);
                handedOver = true;
            } else {
                Lane lane = byCallerId.computeIfAbsent(ticket.lane(), this::laneOf);
                lanes.joins(lane, ticket);
                if (raw.headers().containsKey(FRONT_OF_LANE_HEADER)) {
                    // An attempt that was already at the head of its lane once: it goes before the lane's backlog, but
                    // after a head the trunk is about to grant a start to, or has granted one, or that waits for a dial
                    // permit (to start as soon as it has one).
                    Pending front = new Pending(record, ticket, slot, now());
                    Pending first = lane.queue.peekFirst();
                    Pending head = first != null && (lane.waitingForSlot || lane.waitingForPermit
                            || lanes.trunkGranted(first.ticket)) ? lane.queue.pollFirst() : null;
                    lane.queue.addFirst(front);
                    handedOver = true;
                    if (head != null) {
                        lane.queue.addFirst(head);
                    }
                    pump(lane);
                } else if (raw.headers().containsKey(PARKED_HEADER)) {
                    // Due times were spaced so that it comes back as the lane makes room for it.
                    lane.lastReturn = lanes.clock().instant();
                    lane.enqueue(new Pending(record, ticket, slot, now()));
                    handedOver = true;
                    pump(lane);
                    if (spedUp(lane)) {
                        recount(lane, false);
                    } else if (slowedDown(lane)) {
                        recount(lane, true);
                    }
                } else if (lane.recounting) {
                    // Where it goes depends on what the recount finds left of the lane's parked backlog.
                    lane.heldForRecount.add(new Pending(record, ticket, slot, now()));
                    handedOver = true;
                } else {
                    Pending pending = new Pending(record, ticket, slot, now());
                    ParkAt parkAt;
                    ReadAgain again = lane.readAgain(raw.offset(), lanes.clock().instant(),
                            lanes.properties().parkAfter());
                    if (again != null) {
                        readAgain(lane, pending, again);
                        handedOver = true;
                    } else if (recountDue(lane)) {
                        lane.heldForRecount.add(pending);
                        handedOver = true;
                        recount(lane, false);
                    } else if ((parkAt = parkAt(lane, ticket)) != null) {
                        // Taken in once it is queued to be parked, not before: a failure reckoning its due time
                        // leaves it to be kept aside, not in neither the lane nor the parking queue.
                        handedOver = true;
                        park(lane, pending, parkAt.due(), parkAt.reason());
                    } else {
                        lane.enqueue(pending);
                        handedOver = true;
                        pump(lane);
                    }
                }
            }
            if (!paused && full()) {
                paused = true;
                lanes.metrics().paused(1);
                log.debug("{}-{} holds {} records; fetching paused", topic, partition, window.unfinished());
                emit(flow.pause(topic, partition));
            }
            if (++admittedSinceSweep >= 1_000) {
                admittedSinceSweep = 0;
                Instant wallNow = lanes.clock().instant();
                byCallerId.values().removeIf(idle -> idle.idle(now(), wallNow, lanes.properties().parkAfter()));
            }
        } catch (RuntimeException defect) {
            failedTakingIn(record, handedOver, defect);
        }
    }

    /**
     * A defect of the lanes while taking a record in, not the record's: it must not end the consumer (every partition
     * of this dispatcher would stop, and its next owner would stop on the same record). A record taken in already
     * (the lane's own work failed after, for it or another record) stays there; one not taken in yet is handed over
     * to be kept aside.
     */
    private void failedTakingIn(InboundRecord record, boolean takenIn, RuntimeException defect) {
        if (takenIn) {
            log.error("{}-{}: the lanes failed after taking offset {} in", topic, partition, record.offset(), defect);
        } else {
            log.error("{}-{} offset {} could not be taken into its lane; handed over to be kept aside", topic,
                    partition, record.offset(), defect);
            emit(whileOwned(generation, () -> work.reject(record, defect)).subscribeOn(scheduler).onErrorComplete());
        }
    }

    /**
     * A lane made for the caller ID, going on from what this dispatcher or the parked lanes knew of it. One that goes
     * on from a parked backlog counts its backlog's silence from now ({@link #recountDue}): the backlog's earliest due
     * time, which it knows, may be hours ago for a backlog still coming back at its pace.
     */
    private Lane laneOf(String callerId) {
        Kept kept = lanes.kept(callerId);
        Lane lane = new Lane(callerId, kept, partition);
        if (kept != null) {
            lane.lastReturn = lanes.clock().instant();
        }
        return lane;
    }

    /** The partition went to another consumer: forget its records; jobs still running finish into nothing. */
    public synchronized void revoke() {
        generation++;
        Sinks.One<Boolean> ended = revoked;
        revoked = Sinks.one();
        window.clear();
        forgetUnwritten();
        lanes.keep(byCallerId.values(), now());
        byCallerId.clear();
        waitingOn.clear();
        toPark.clear();
        writing = List.of();
        parking = false;
        parkingNow = 0;
        if (paused) {
            paused = false;
            lanes.metrics().paused(-1);
        }
        // Last: the revoked generation's timers end now; jobs queued behind them may start on this thread.
        ended.tryEmitValue(Boolean.TRUE);
    }

    /**
     * Takes the due times of the records queued for parking back from their lanes: dropped unwritten at a revocation,
     * they are read again as new arrivals, and spaced after the lane's last due time, which must not count their
     * places (a lane parking a backlog at 1 CPS would otherwise dial nothing for as many seconds as records were
     * dropped). The batch being written may still be written, after the revocation: its due times stay counted.
     */
    private void forgetUnwritten() {
        Map<Lane, Instant> lastWriting = new HashMap<>();
        writing.forEach(done -> lastWriting.merge(done.lane(), done.parked().dueAt(), PartitionLanes::later));
        toPark.stream().map(ToPark::lane).distinct()
                .forEach(lane -> lane.unwrittenDropped(lastWriting.getOrDefault(lane, Instant.MIN)));
    }

    private static Instant later(Instant one, Instant other) {
        return one.isAfter(other) ? one : other;
    }

    /**
     * The partition came back to this consumer after a revocation. A pause set before it was revoked may have
     * survived in the consumer; the window is empty now, so fetching resumes.
     */
    public synchronized void reassigned() {
        emit(flow.resume(topic, partition));
    }

    /**
     * When and why a record arriving at the lane is parked ({@link #parkedOnArrival}); null to queue it. A lane with
     * no head takes the arriving record's share of its campaign's rate as its parked records' spacing: the share it
     * kept from its last head may be another campaign's (or one since shared by fewer lanes), and would space every
     * record parked behind that many seconds apart.
     */
    private ParkAt parkAt(Lane lane, LaneTicket arriving) {
        PacingMetrics.Parked reason = parkedOnArrival(lane);
        if (reason == null) {
            return null;
        }
        countCampaign(lane);
        if (lane.queue.isEmpty()) {
            lane.campaignSpacing = lanes.campaignShareIntervalNanos(arriving);
        }
        return new ParkAt(lane.nextParkDue(lanes.clock().instant(), lanes.properties().parkAfter(),
                lane.parkSpacing(now())), reason);
    }

    private record ParkAt(Instant due, PacingMetrics.Parked reason) {
    }

    /**
     * Whether to look at what is left of the lane's parked backlog before parking what arrives behind it (decision
     * 0154): its records parked far ahead have stopped coming back (none for twice {@code park-after} and one start
     * interval after the earliest was due), which is what a cancel or a calling window that took them out of the
     * schedule leaves; the lane would otherwise park its caller ID's new calls behind the due times it handed out,
     * hours ahead for a long backlog. Only while the partition writes no parking batch (one being written may hold
     * the lane's own records, whose due times a recount would not see).
     */
    private boolean recountDue(Lane lane) {
        Duration parkAfter = lanes.properties().parkAfter();
        Instant wallNow = lanes.clock().instant();
        if (parking || !lane.lastParkDue.isAfter(wallNow.plus(parkAfter))) {
            return false;
        }
        Instant heard = lane.lastReturn.isAfter(lane.firstParkDue) ? lane.lastReturn : lane.firstParkDue;
        return wallNow.isAfter(heard.plus(parkAfter.multipliedBy(2)).plusNanos(lane.parkSpacing(now())));
    }

    /**
     * Whether to move the lane's parked backlog up to its pace now that it starts far faster than the backlog was
     * spaced for (its caller ID's rate raised in the account's settings, its campaign's share grown): more than
     * {@code park-after} of the backlog is still to come, each record due a start interval of the old rate after the
     * one before; the lane would otherwise start each as it comes back and sit idle until the next, the campaign taking
     * as long as at the old rate. Only while the partition writes no parking batch, and once a recount at this pace.
     */
    private boolean spedUp(Lane lane) {
        if (parking || lane.recounting
                || !lane.lastParkDue.isAfter(lanes.clock().instant().plus(lanes.properties().parkAfter()))) {
            return false;
        }
        return lane.parkedSpacingNanos / 2 > recountSpacing(lane);
    }

    /**
     * Whether the lane's rate fell well below what its parked backlog was spaced for (its caller ID's rate lowered in
     * the account's settings, its campaign's share shrunk): more than {@code park-after} of the backlog is still to
     * come, each record due a start interval of the old rate after the one before, at half the new one or less. They
     * would come back far faster than the lane starts them, and fill the partition's window for as long as the backlog
     * lasts at the new rate, every other caller ID of the partition held behind it. Only while the partition writes
     * no parking batch, and once at this pace (a recount spaces the backlog at it).
     */
    private boolean slowedDown(Lane lane) {
        if (parking || lane.recounting || lane.bucket == null || lane.parkedSpacingNanos == 0
                || !lane.lastParkDue.isAfter(lanes.clock().instant().plus(lanes.properties().parkAfter()))) {
            return false;
        }
        return Math.max(lane.bucket.intervalNanos(), lane.campaignSpacing) / 2 > lane.parkedSpacingNanos;
    }

    /**
     * How far apart a recount spaces the lane's parked records: at its pace, and never closer than the widest spacing
     * the lane parks at without a rate of its own: a lane whose rate or wait at the trunk is not known yet would
     * otherwise make its whole backlog due at once.
     */
    private long recountSpacing(Lane lane) {
        return Math.max(lane.parkSpacing(now()),
                lane.bucket == null ? MAX_TRUNK_PARK_SPACING_NANOS : MIN_PARK_SPACING_NANOS);
    }

    /**
     * Moves the lane's parked records still to come up to the lane's pace from half of {@code park-after} on, in
     * their order ({@link ParkingLot#recount}), and parks what arrived meanwhile behind what is left. The partition's
     * parking waits meanwhile (what is shed from the lane then is due before all of it, as always). When the lane
     * {@code slowed} down ({@link #slowedDown}), its records are spaced anew at its pace, later as much as sooner, and
     * behind room for what the lane holds beyond its budget, which it parks there once they are ({@link #recounted}).
     */
    private void recount(Lane lane, boolean slowed) {
        lane.recounting = true;
        lane.slowedDown = slowed;
        parking = true;
        long owner = generation;
        Instant wallNow = lanes.clock().instant();
        Duration step = Duration.ofNanos(recountSpacing(lane));
        lane.spacingBeforeRecount = lane.parkedSpacingNanos;
        lane.parkedSpacingNanos = step.toNanos();
        Instant handedOut = lane.lastParkDue;
        long room = slowed ? Math.max(0, lane.queue.size() - budget(lane, now())) : 0;
        Instant start = wallNow.plus(lanes.properties().parkAfter().dividedBy(2)).plus(step.multipliedBy(room));
        emit(Mono.defer(() -> lanes.parking().recount(lane.callerId, wallNow, start, step, handedOut, slowed))
                .timeout(RECOUNT_TIMEOUT, timers)
                .map(Optional::of)
                .defaultIfEmpty(Optional.empty())
                .doOnNext(left -> recounted(lane, left.orElse(null), owner))
                .onErrorResume(error -> Mono.fromRunnable(() -> recountFailed(lane, owner, error)))
                .then());
    }

    private synchronized void recountFailed(Lane lane, long owner, Throwable error) {
        if (owner != generation || !lane.recounting) {
            return;
        }
        // The backlog keeps the spacing it had: a record coming back later looks at it again.
        lane.parkedSpacingNanos = lane.spacingBeforeRecount;
        lane.slowedDown = false;
        log.warn("{}-{}: the parked backlog of caller ID lane {} could not be looked at; what arrives parks behind it "
                + "as handed out: {}", topic, partition, masked(lane.callerId), error.toString());
        lanes.metrics().recounted(PacingMetrics.Recount.FAILED);
        lane.lastReturn = lanes.clock().instant();
        afterRecount(lane);
    }

    private synchronized void recounted(Lane lane, ParkingLot.Backlog left, long owner) {
        if (owner != generation) {
            return;
        }
        Instant wallNow = lanes.clock().instant();
        lane.lastReturn = wallNow;
        Instant before = lane.lastParkDue;
        if (left == null) {
            // Records due before the recount may still be on their way back: what arrives waits for them.
            lane.lastParkDue = before.isBefore(wallNow) ? before : wallNow;
            lane.firstParkDue = lane.lastParkDue;
        } else {
            lane.lastParkDue = left.lastDueAt();
            lane.firstParkDue = left.firstDueAt();
        }
        lane.writtenParkDue = lane.lastParkDue;
        lanes.metrics().recounted(lane.slowedDown ? PacingMetrics.Recount.SLOWED
                : lane.lastParkDue.isBefore(before) ? PacingMetrics.Recount.MOVED : PacingMetrics.Recount.KEPT);
        log.info("{}-{}: caller ID lane {} parked behind {}; its parked backlog left ends at {}", topic, partition,
                masked(lane.callerId), before, left == null ? "none" : left.lastDueAt());
        if (lane.slowedDown) {
            shedBeyondBudget(lane);
        }
        afterRecount(lane);
    }

    /**
     * Parks what the lane holds beyond the {@code park-after} of waiting it may hold at its pace, in its order, ahead
     * of its parked records (a recount spaced those anew at the lane's slower pace and left room before them).
     */
    private void shedBeyondBudget(Lane lane) {
        int keep = budget(lane, now());
        if (lane.queue.size() <= keep) {
            return;
        }
        int parked = parkBeyond(lane, keep, PacingMetrics.Parked.BACKLOG);
        log.info("{}-{}: caller ID lane {} starts calls more slowly than its parked backlog was spaced for; {} "
                + "record(s) it held parked again, the backlog spaced anew", topic, partition, masked(lane.callerId),
                parked);
    }

    /** Lets the partition's parking go on, and what arrived during the recount join the lane or park behind it. */
    private void afterRecount(Lane lane) {
        lane.recounting = false;
        if (toPark.isEmpty()) {
            parking = false;
        } else {
            emit(parkBatch(generation));
        }
        List<Pending> held = new ArrayList<>(lane.heldForRecount);
        lane.heldForRecount.clear();
        for (Pending pending : held) {
            boolean takenIn = false;
            try {
                ParkAt parkAt = parkAt(lane, pending.ticket);
                if (parkAt != null) {
                    takenIn = true;
                    park(lane, pending, parkAt.due(), parkAt.reason());
                } else {
                    lane.enqueue(pending);
                    takenIn = true;
                    pump(lane);
                }
            } catch (RuntimeException defect) {
                // As in admit: a defect of the lanes ends neither the others held nor the partition.
                failedTakingIn(pending.record, takenIn, defect);
            }
        }
    }

    /**
     * Why a record arriving at {@code lane} is parked rather than held, or null to hold it: records parked before it
     * have not all come back (admitted now, it would be dialled before them), or the lane already holds
     * {@code park-after} of waiting at its pace.
     */
    private PacingMetrics.Parked parkedOnArrival(Lane lane) {
        if (lane.parkedAhead(lanes.clock().instant(), lanes.properties().parkAfter())) {
            return PacingMetrics.Parked.BEHIND;
        }
        return lane.queue.size() >= budget(lane, now()) ? PacingMetrics.Parked.BACKLOG : null;
    }

    /**
     * How many records the lane may hold: {@code park-after} of waiting at the pace it starts them now (its caller
     * ID's rate, its share of its head's campaign's rate, or its wait at the trunk, whichever is slowest), and never
     * more than a quarter of the partition's window, so that no one caller ID, however fast or however unlimited,
     * fills the window and pauses the partition for the caller IDs behind it. The campaign's rate is shared by every
     * lane of this dispatcher whose head is one of its calls: counted as each lane's alone, N lanes held N times
     * {@code park-after} of its calls.
     */
    private int budget(Lane lane, long now) {
        Pending head = lane.queue.peekFirst();
        long campaign = head == null ? 0 : lanes.campaignShareIntervalNanos(head.ticket);
        return Math.min(lane.budget(lanes.properties().parkAfter(), now, campaign), laneShare());
    }

    private int laneShare() {
        return Math.max(1, lanes.properties().maxInFlightPerPartition() / LANE_SHARE_DIVISOR);
    }

    private InboundRecord withAcknowledger(InboundRecord raw, OffsetWindow.Slot slot) {
        long owner = generation;
        return raw.withAcknowledger(() -> finished(slot, owner));
    }

    /**
     * Starts as many of the lane's records as its limits allow now, and sets a timer for the next one. A dial permit
     * (the dispatcher-wide bound on dials running) is taken just before the limits are, and kept only by a dial that
     * starts: a lane never holds one while it waits.
     */
    private void pump(Lane lane) {
        startWhatIsDue(lane);
        countCampaign(lane);
        if (lane.holdsPermit) {
            lane.holdsPermit = false;
            lanes.permits().release();
        }
    }

    private void startWhatIsDue(Lane lane) {
        while (!lane.timerArmed && !lane.waitingForSlot && !lane.waitingForPermit && !lane.queue.isEmpty()
                && lane.inFlight < lanes.properties().inFlightPerLane()) {
            PacingMetrics.Ends ends = lanes.endsAtTheGate(lane.queue.peek().ticket);
            if (ends != null) {
                Pending ending = lane.queue.poll();
                lanes.forgoGrant(ending.ticket, ends);
                if (ending == lane.queuedAtTrunk) {
                    // The head that waited at the trunk is gone: the next (if any) queues there anew, and the lane's
                    // wait there counts from then.
                    leftTheTrunk(lane);
                }
                handOverUnpaced(ending, ends, Unpaced.LANE);
                continue;
            }
            long now = now();
            long at = lanes.earliest(lane, lane.queue.peek().ticket, now);
            if (!lane.heldForCarrier) {
                lane.heldSince = NOT_HELD;
            } else if (heldLongEnough(lane, now)) {
                parkHeld(lane);
                return;
            }
            if (at > now) {
                waitFor(lane, at, now);
                return;
            }
            long owner = generation;
            // Woken on the scheduler, never on the releasing thread, which may hold another partition's lock.
            if (!lane.holdsPermit && !lanes.permits().tryAcquire(
                    () -> scheduler.schedule(() -> permitGranted(lane, owner)))) {
                lane.waitingForPermit = true;
                // Not kept while the lane waits: grants piling up while every permit is taken would all start
                // together once permits free, past the trunk's rate. Asked again once the lane holds a permit.
                lanes.grantWaitsForPermit(lane.queue.peek().ticket);
                return;
            }
            lane.holdsPermit = true;
            Pending next = lane.queue.peek();
            long started = lanes.tryStart(lane, next.ticket, partition, now,
                    () -> scheduler.schedule(() -> slotFreed(lane, owner)));
            if (started == TrunkGate.QUEUED) {
                lane.waitingForSlot = true;
                lane.queuedAtTrunk = next;
                if (lane.queuedAtTrunkSince == NOT_HELD) {
                    lane.queuedAtTrunkSince = now;
                    if (lane.trunkCheck == null) {
                        emit(trunkWaitCheck(lane, lanes.properties().parkAfter().toNanos()));
                    }
                }
                return;
            }
            if (started != now) {
                // Its campaign's token is not due yet (another of the campaign's lanes took it).
                waitFor(lane, started, now);
                return;
            }
            lane.holdsPermit = false;
            lane.lastTrunkWait = lane.queuedAtTrunkSince == NOT_HELD ? 0 : now - lane.queuedAtTrunkSince;
            lane.queuedAtTrunkSince = NOT_HELD;
            lane.queuedAtTrunk = null;
            disarmTrunkCheck(lane);
            lane.queue.poll();
            lane.inFlight++;
            lanes.metrics().waited(Duration.ofNanos(now - next.admittedAt));
            emit(dial(lane, next, owner, held(new AtomicBoolean(true))));
        }
    }

    /**
     * The lane's head left its place at the trunk (handed over: cancelled, blocked or expired), and the lane no longer
     * waits there: how long it waited no longer shrinks what the lane takes in, and the check that would shed its
     * backlog for that wait is disarmed.
     */
    private void leftTheTrunk(Lane lane) {
        lane.queuedAtTrunk = null;
        if (lane.queuedAtTrunkSince != NOT_HELD) {
            lane.queuedAtTrunkSince = NOT_HELD;
            disarmTrunkCheck(lane);
        }
    }

    /**
     * The lane's head may start at {@code at}, later than now, as its caller ID's and its campaign's rates go: a timer
     * starts it then. A wait longer than {@code park-after} parks the lane instead ({@link #parkWaiting}): held, the
     * head would keep the partition's commits behind it for all of that wait, and the window would fill behind it
     * and pause the partition for every caller ID on it. While records the lane parked may still come back (they
     * arrived after the lane's records, and must come back after them), the lane holds as before and looks again
     * after {@code park-after} at most. A lane held for its carrier is parked by {@link #parkHeld}.
     */
    private void waitFor(Lane lane, long at, long now) {
        Duration parkAfter = lanes.properties().parkAfter();
        long delay = at - now;
        if (!lane.heldForCarrier && delay > parkAfter.toNanos()) {
            if (!lane.parkedAhead(lanes.clock().instant(), parkAfter)) {
                parkWaiting(lane, at, now);
                return;
            }
            delay = parkAfter.toNanos();
        }
        lane.timerArmed = true;
        emit(timer(lane, delay));
    }

    /**
     * Parks every record of a lane whose head may start only at {@code at}, more than {@code park-after} from now,
     * head first, as {@link #parkHeld} does: the head due half of {@code park-after} before {@code at} (its way back
     * takes a second or more; it then waits in the lane for the rest), the others behind it at the lane's pace. None
     * of them was dialled, and nothing the lane parked is still to come back, so the lane's order stays; what arrives
     * meanwhile is parked behind them ({@link PacingMetrics.Parked#BEHIND}).
     */
    private void parkWaiting(Lane lane, long at, long now) {
        countCampaign(lane);
        // Its head no longer waits at the trunk (a grant its campaign could not use went back in Lanes#tryStart).
        leftTheTrunk(lane);
        List<Pending> all = new ArrayList<>(lane.queue);
        lane.queue.clear();
        List<Pending> parkable = parkable(all);
        Duration parkAfter = lanes.properties().parkAfter();
        Instant first = lanes.clock().instant().plusNanos(at - now).minus(parkAfter.dividedBy(2));
        parkEach(lane, parkable, lane.parkDuesFrom(parkable.size(), first, lane.parkSpacing(now)),
                PacingMetrics.Parked.WAIT);
        if (parkable.isEmpty()) {
            return;
        }
        log.info("{}-{}: caller ID lane {} may start its next call only in {}, more than {}; {} record(s) parked, "
                        + "the first due at {}", topic, partition, masked(lane.callerId), Duration.ofNanos(at - now),
                parkAfter, parkable.size(), first);
    }

    /**
     * Notes which campaign with a rate the lane's head is a call of, in this partition's count of the lanes waiting for
     * each ({@link Lanes#campaignShareIntervalNanos}), and the lane's share of that campaign's rate as the interval its
     * parked records are spaced at ({@link Lane#campaignSpacing}); an empty lane keeps the share it last had, for what
     * it parks while its records are away. Called after each pump, as the lane's head changes, and before the lane
     * parks, so that the share is that of the lanes waiting now.
     */
    private void countCampaign(Lane lane) {
        Pending head = lane.queue.peekFirst();
        Lanes.CampaignKey campaign = head == null || lanes.campaignIntervalNanos(head.ticket) == 0 ? null
                : Lanes.CampaignKey.of(head.ticket.command());
        if (!Objects.equals(campaign, lane.countedCampaign)) {
            if (lane.countedCampaign != null) {
                waitingOn.computeIfPresent(lane.countedCampaign, (name, count) -> count > 1 ? count - 1 : null);
            }
            if (campaign != null) {
                waitingOn.merge(campaign, 1, Integer::sum);
            }
            lane.countedCampaign = campaign;
        }
        if (head != null) {
            lane.campaignSpacing = campaign == null ? 0 : lanes.campaignShareIntervalNanos(head.ticket);
        }
    }

    /** How many of this partition's lanes have a call of {@code campaign} at their head. */
    int lanesWaitingOn(Lanes.CampaignKey campaign) {
        Integer count = waitingOn.get(campaign);
        return count == null ? 0 : count;
    }

    /**
     * Looks at the lane again when its head has waited {@code park-after} at the trunk: a trunk whose limits bind
     * (every slot held by long calls, many lanes sharing it) starts the lane's records far more slowly than its own
     * rate, and the records behind the head would wait in the window, fill it and pause the partition, so that no
     * other account's record is fetched to be served its turn. One such timer per lane, ended as soon as the head
     * starts ({@link #disarmTrunkCheck}): a job, it would otherwise hold its place in the job stream for the whole
     * {@code park-after}, and a partition of many caller IDs each queued at the trunk for a moment would fill the
     * stream with them.
     */
    private Mono<Void> trunkWaitCheck(Lane lane, long delayNanos) {
        long owner = generation;
        Sinks.Empty<Void> check = Sinks.empty();
        lane.trunkCheck = check;
        return timerWhileOwned(owner, Duration.ofNanos(delayNanos), check.asMono(),
                () -> trunkWaitLasted(lane, owner, check));
    }

    /** The lane's head is no longer queued at the trunk: its wait check ends at once. */
    private static void disarmTrunkCheck(Lane lane) {
        Sinks.Empty<Void> check = lane.trunkCheck;
        if (check != null) {
            lane.trunkCheck = null;
            check.tryEmitEmpty();
        }
    }

    /**
     * Runs {@code fired} after {@code delay} on the timers, unless generation {@code owner} is revoked first: then the
     * timer ends at once (it is a job: it would hold its place in the job stream until it fired, into nothing).
     */
    private Mono<Void> timerWhileOwned(long owner, Duration delay, Runnable fired) {
        return timerWhileOwned(owner, delay, null, fired);
    }

    /**
     * As {@link #timerWhileOwned(long, Duration, Runnable)}, ending at once too when {@code disarmed} (null: never)
     * completes.
     */
    private synchronized Mono<Void> timerWhileOwned(long owner, Duration delay, Mono<Void> disarmed, Runnable fired) {
        if (owner != generation) {
            return Mono.empty();
        }
        Mono<Long> tick = Mono.delay(delay, timers).takeUntilOther(revoked.asMono());
        if (disarmed != null) {
            tick = tick.takeUntilOther(disarmed.then(Mono.just(true)));
        }
        return tick.doOnNext(ignored -> fired.run()).then();
    }

    private synchronized void trunkWaitLasted(Lane lane, long owner, Sinks.Empty<Void> check) {
        if (lane.trunkCheck != check) {
            return; // disarmed as it fired: the head started
        }
        lane.trunkCheck = null;
        if (owner != generation || lane.queuedAtTrunkSince == NOT_HELD) {
            return;
        }
        long now = now();
        long left = lane.queuedAtTrunkSince + lanes.properties().parkAfter().toNanos() - now;
        if (left > 0) {
            emit(trunkWaitCheck(lane, left));
        } else {
            shed(lane, now);
        }
    }

    /**
     * Parks the lane's records beyond the {@code park-after} of waiting it may hold at the pace it starts them now,
     * in the lane's order; the head, queued at the trunk for its turn, stays.
     */
    private void shed(Lane lane, long now) {
        int keep = budget(lane, now);
        if (lane.queue.size() <= keep) {
            return;
        }
        countCampaign(lane);
        int parked = parkBeyond(lane, keep, PacingMetrics.Parked.TRUNK);
        log.info("{}-{}: caller ID lane {} has waited {} or more at the trunk for its turn; {} record(s) parked",
                topic, partition, masked(lane.callerId), lanes.properties().parkAfter(), parked);
    }

    /** Parks the lane's records beyond the first {@code keep}, in its order, ahead of its parked ones; how many. */
    private int parkBeyond(Lane lane, int keep, PacingMetrics.Parked reason) {
        ArrayDeque<Pending> beyond = new ArrayDeque<>();
        while (lane.queue.size() > keep) {
            beyond.addFirst(lane.queue.pollLast());
        }
        parkAhead(lane, beyond, reason);
        return beyond.size();
    }

    private Mono<Void> timer(Lane lane, long delayNanos) {
        long owner = generation;
        return timerWhileOwned(owner, Duration.ofNanos(delayNanos), () -> timerFired(lane, owner));
    }

    private synchronized void timerFired(Lane lane, long owner) {
        lane.timerArmed = false;
        if (owner == generation) {
            pump(lane);
        }
    }

    /** A dial permit was handed to the lane; a lane whose partition went away passes it on. */
    private synchronized void permitGranted(Lane lane, long owner) {
        lane.waitingForPermit = false;
        if (owner != generation) {
            lanes.permits().release();
            return;
        }
        lane.holdsPermit = true;
        pump(lane);
    }

    private synchronized void slotFreed(Lane lane, long owner) {
        lane.waitingForSlot = false;
        if (owner == generation) {
            pump(lane);
        }
    }

    private Mono<Void> dial(Lane lane, Pending pending, long owner, AtomicBoolean permit) {
        String slotKey = pending.ticket.slotKey();
        // Off the pumping thread: reading and validating the command is CPU work, and the pump holds the lock and
        // keeps the lane's timing.
        return Mono.defer(() -> {
                    if (!owns(owner)) {
                        // Revoked since its start was granted, before it ran: the record is the new owner's to dial,
                        // and the slot went with the partition (Trunks#releasePartitions), or is a new grant's.
                        log.debug("{}-{} offset {} was revoked before its dial ran; left to its owner", topic,
                                partition, pending.record.offset());
                        return Mono.empty();
                    }
                    return work.handle(pending.record, pending.ticket)
                            .defaultIfEmpty(LaneWork.Placement.NOT_PLACED)
                            .onErrorReturn(LaneWork.Placement.NOT_PLACED)
                            .doOnNext(placement -> {
                                switch (placement) {
                                    // Revoked since it began, its hold went with the partition: the slot now is
                                    // the count's of a call in flight (the one this start was a copy of), or none.
                                    case NOT_PLACED -> {
                                        if (owns(owner)) {
                                            lanes.trunks().unplaced(slotKey);
                                        }
                                    }
                                    case NONE_IN_FLIGHT -> lanes.trunks().release(slotKey, false);
                                    case PLACED -> { }
                                }
                            });
                })
                .subscribeOn(scheduler)
                .doFinally(signal -> {
                    releasePermit(permit);
                    dialEnded(lane, owner);
                })
                .then();
    }

    /** Whether the partition is still this generation's: not revoked since {@code owner} was read. */
    private synchronized boolean owns(long owner) {
        return owner == generation;
    }

    /**
     * The work on a record, unless the partition was revoked between the record's hand-over and the run: a bad record
     * would be copied to the DLQ twice, a command re-routed or ended twice, by this consumer and the owner.
     */
    private <T> Mono<T> whileOwned(long owner, Supplier<Mono<T>> work) {
        return Mono.defer(() -> owns(owner) ? work.get() : Mono.empty());
    }

    /**
     * Hands a command the gate will end to the work without pacing it: the gate ends it {@code canceled} or
     * {@code expired} (or finds its request ended). Should the gate dial it after all (its cancel withdrawn in the
     * meantime), the call went out without the lane's tokens or a trunk slot: a warning says so.
     */
    private void handOverUnpaced(Pending pending, PacingMetrics.Ends ends, Unpaced at) {
        lanes.metrics().unpaced(ends, at);
        emit(whileOwned(generation, () -> work.handle(pending.record, pending.ticket))
                .subscribeOn(scheduler)
                .onErrorReturn(LaneWork.Placement.NOT_PLACED)
                .doOnNext(placement -> {
                    if (placement == LaneWork.Placement.PLACED) {
                        log.warn("request {} attempt {} was dialled although it was {} when its turn came; "
                                        + "it took no token or trunk slot", pending.ticket.command().requestId(),
                                pending.ticket.command().attempt(), ends.name().toLowerCase(Locale.ROOT));
                    }
                })
                .then());
    }

    /** Notes a dial's permit as held by this partition, so one never run is still given back at {@link #close}. */
    private AtomicBoolean held(AtomicBoolean permit) {
        permitsHeld.add(permit);
        return permit;
    }

    private void releasePermit(AtomicBoolean permit) {
        if (permit.compareAndSet(true, false)) {
            permitsHeld.remove(permit);
            lanes.permits().release();
        }
    }

    /**
     * The partition's pipeline ended: dials it emitted but never ran (their jobs were dropped with the pipeline) give
     * their permits back, or the dispatcher would run short of them.
     */
    void close() {
        List<AtomicBoolean> left = List.copyOf(permitsHeld);
        left.forEach(this::releasePermit);
    }

    private synchronized void dialEnded(Lane lane, long owner) {
        lane.inFlight--;
        if (owner == generation) {
            pump(lane);
        }
    }

    /**
     * Whether the lane's route has had no carrier taking calls for {@code parkAfter}: its head then waits on, and every
     * record behind it stays in the partition's window, uncommitted; after enough of them the partition pauses and
     * every other caller ID on it stops too. Notes when the hold began, and forgets it once the route takes calls.
     */
    private boolean heldLongEnough(Lane lane, long now) {
        if (lane.heldSince == NOT_HELD) {
            lane.heldSince = now;
        }
        return now - lane.heldSince >= lanes.properties().parkAfter().toNanos();
    }

    /**
     * Parks every record of a lane held for its carrier, head first (a requeued attempt at the front too): nothing of
     * them was dialled, and the retry scheduler keeps them due until a carrier of their route takes calls again, so
     * the partition's commits go on past them. The hold is counted anew from the next record to reach the head: what
     * arrives while the outage lasts waits at most {@code park-after} more, and a lane held again long after is not
     * parked on a stale hold.
     */
    private void parkHeld(Lane lane) {
        countCampaign(lane);
        int count = lane.queue.size();
        List<Pending> all = new ArrayList<>(lane.queue);
        lane.queue.clear();
        parkAhead(lane, all, PacingMetrics.Parked.NO_CARRIER);
        lane.heldSince = NOT_HELD;
        log.info("{}-{}: no carrier takes calls for caller ID lane {} for {} or more; {} record(s) parked", topic,
                partition, masked(lane.callerId), lanes.properties().parkAfter(), count);
    }

    /** A caller ID as the log shows it: its last four digits (a sole trader's number is personal data). */
    static String masked(String callerId) {
        return callerId == null || callerId.length() <= 4 ? "…" : "…" + callerId.substring(callerId.length() - 4);
    }

    /**
     * Parks records shed from their lane's queue, in the lane's order, due before the lane's parked records that have
     * not come back yet ({@link Lane#parkDuesAhead}): they arrived before every one of those. One the gate will end
     * (cancelled, expired) goes to the work instead, where it ends at once.
     */
    private void parkAhead(Lane lane, Iterable<Pending> shed, PacingMetrics.Parked reason) {
        List<Pending> parkable = parkable(shed);
        parkEach(lane, parkable, lane.parkDuesAhead(parkable.size(), lanes.clock().instant(),
                lanes.properties().parkAfter(), lane.parkSpacing(now())), reason);
    }

    /** Parks each of {@code parkable}, due at the due time of the same place in {@code dues}. */
    private void parkEach(Lane lane, List<Pending> parkable, List<Instant> dues, PacingMetrics.Parked reason) {
        for (int i = 0; i < parkable.size(); i++) {
            park(lane, parkable.get(i), dues.get(i), reason);
        }
    }

    /**
     * A record read again after its lane was made anew (decision 0168): one the lane's last owner parked is parked
     * again at the lane's last due time, which its row's earlier one wins over ({@link ParkingLot#parkAll}), and the
     * lane's due times do not move on for it; one it held, older than all it parked, joins the lane, ahead of those as
     * it was.
     */
    private void readAgain(Lane lane, Pending pending, ReadAgain again) {
        lanes.metrics().readAgain(again);
        if (again == ReadAgain.PARKED) {
            park(lane, pending, lane.lastParkDue, PacingMetrics.Parked.BEHIND);
        } else {
            lane.enqueue(pending);
            pump(lane);
        }
    }

    /** Those of {@code shed} to park; one the gate will end goes to the work instead, where it ends at once. */
    private List<Pending> parkable(Iterable<Pending> shed) {
        List<Pending> parkable = new ArrayList<>();
        for (Pending pending : shed) {
            PacingMetrics.Ends ends = lanes.endsAtTheGate(pending.ticket);
            if (ends != null) {
                handOverUnpaced(pending, ends, Unpaced.LANE);
            } else {
                parkable.add(pending);
            }
        }
        return parkable;
    }

    /**
     * Queues the record for parking; one batch per partition is written at a time, so parking a long backlog takes a
     * few statements and never crowds the dials out of the connection pool.
     */
    private void park(Lane lane, Pending pending, Instant due, PacingMetrics.Parked reason) {
        // Where it first arrived on the partition; one that came back from the schedule or to the front of its lane
        // was appended to it again, and its offset says nothing of its place.
        Map<String, String> headers = pending.record.headers();
        long offset = headers.containsKey(PARKED_HEADER) || headers.containsKey(FRONT_OF_LANE_HEADER) ? -1
                : pending.record.offset();
        LaneTicket ticket = pending.ticket;
        toPark.add(new ToPark(new ParkingLot.Parked(ticket.command(), due, ticket.traceparent(), partition, offset),
                pending.slot, reason, lane));
        if (!parking) {
            parking = true;
            emit(parkBatch(generation));
        }
    }

    /**
     * Writes the next batch. An outage is waited out; any other refusal is a defect, which waiting will not mend
     * either, but giving up would lose the records' place or end the partition's jobs: the batch goes back to the
     * front and is tried again after {@link #PARK_RETRY}, the partition held meanwhile (its lag and
     * {@code dialer.dispatcher.lanes.park.failures} show it).
     */
    private Mono<Void> parkBatch(long owner) {
        return Mono.defer(() -> {
            List<ToPark> batch = takeParkBatch(owner);
            if (batch.isEmpty()) {
                return Mono.empty();
            }
            return Mono.defer(() -> lanes.parking().parkAll(batch.stream().map(ToPark::parked).toList()))
                    .retryWhen(InfraRetry.untilRecovered("park commands"))
                    .then(Mono.<Void>fromRunnable(() -> parked(batch, owner)))
                    .onErrorResume(error -> {
                        log.error("{} commands of {}-{} could not be parked; trying again in {} s", batch.size(),
                                topic, partition, PARK_RETRY.toSeconds(), error);
                        lanes.metrics().parkFailed();
                        return timerWhileOwned(owner, PARK_RETRY, () -> parkAgain(batch, owner));
                    });
        });
    }

    private synchronized void parkAgain(List<ToPark> batch, long owner) {
        if (owner != generation) {
            return;
        }
        for (int i = batch.size() - 1; i >= 0; i--) {
            toPark.addFirst(batch.get(i));
        }
        writing = List.of();
        parkingNow = 0;
        emit(parkBatch(generation));
    }

    /**
     * The next batch to park; none for a job of a generation revoked since it was emitted (run late, behind other jobs,
     * it would take the records the partition's next generation holds, whose own job parks them).
     */
    private synchronized List<ToPark> takeParkBatch(long owner) {
        if (owner != generation) {
            return List.of();
        }
        if (toPark.isEmpty()) {
            parking = false;
            return List.of();
        }
        List<ToPark> batch = new ArrayList<>();
        while (!toPark.isEmpty() && batch.size() < PARK_BATCH) {
            batch.add(toPark.poll());
        }
        parkingNow = batch.size();
        writing = batch;
        return batch;
    }

    private synchronized void parked(List<ToPark> batch, long owner) {
        batch.stream().collect(Collectors.groupingBy(ToPark::reason, Collectors.counting()))
                .forEach((reason, count) -> lanes.metrics().parked(reason, count.intValue()));
        if (owner != generation) {
            // Written after the revocation: the lane made anew, or what the revocation kept for it, notes them.
            batch.forEach(done -> parkedAfterRevocation(done.lane().callerId, done.parked().offset()));
            return;
        }
        parkingNow = 0;
        writing = List.of();
        // Noted once written, not when queued: one the revocation drops unwritten is read again as a new arrival.
        batch.forEach(done -> {
            done.lane().parkedOffset(done.parked().offset());
            done.lane().written(done.parked().dueAt());
            finished(done.slot(), owner);
        });
        if (toPark.isEmpty()) {
            parking = false;
        } else {
            emit(parkBatch(generation));
        }
    }

    private void parkedAfterRevocation(String callerId, long offset) {
        if (offset < 0) {
            return;
        }
        Lane lane = byCallerId.get(callerId);
        if (lane != null) {
            lane.parkedOffset(offset);
        } else {
            lanes.keptParked(callerId, new ParkedOffsets(partition, offset, offset));
        }
    }

    private synchronized void finished(OffsetWindow.Slot slot, long owner) {
        if (owner != generation) {
            return;
        }
        window.finish(slot);
        if (paused && roomAgain()) {
            paused = false;
            lanes.metrics().paused(-1);
            emit(flow.resume(topic, partition));
        }
    }

    /**
     * Whether to stop fetching: the records held for dialling reached the limit, or the records on their way to the
     * parking lot (kept apart, so a backlog being parked never holds up another caller ID's records), or the offsets
     * kept behind an unfinished record (a few bytes each) reached many times the limit.
     */
    private boolean full() {
        int limit = lanes.properties().maxInFlightPerPartition();
        return window.unfinished() - parkingCount() >= limit || parkingCount() >= 2 * PARK_BATCH
                || window.size() >= TRACKED_FACTOR * limit;
    }

    private boolean roomAgain() {
        int limit = lanes.properties().maxInFlightPerPartition();
        return window.unfinished() - parkingCount() <= limit / 2 && parkingCount() < PARK_BATCH
                && window.size() < TRACKED_FACTOR * limit / 2;
    }

    private int parkingCount() {
        return toPark.size() + parkingNow;
    }

    /**
     * Hands a job to the partition's job stream. A job's failure ends that job only: one that escaped its own
     * handling would otherwise end the stream, and with it every partition's consumption.
     */
    private void emit(Mono<Void> job) {
        if (sink == null) {
            throw new IllegalStateException("jobs() of " + topic + "-" + partition + " is not subscribed");
        }
        sink.next(job.onErrorResume(error -> {
            log.error("a lane job of {}-{} failed", topic, partition, error);
            lanes.metrics().jobFailed();
            return Mono.empty();
        }));
    }

    private long now() {
        return lanes.nanoTime();
    }

    // Gauges, read rarely.

    synchronized int backlog() {
        return byCallerId.values().stream().mapToInt(lane -> lane.queue.size()).sum();
    }

    synchronized long oldestAdmittedAt() {
        // Not always the head's: a call of higher priority goes before those that waited longer.
        return byCallerId.values().stream().flatMap(lane -> lane.queue.stream())
                .mapToLong(Pending::admittedAt).min().orElse(Long.MAX_VALUE);
    }

    /** Lanes whose head waits for a carrier of its route: a gauge. */
    synchronized int heldForCarrier() {
        int held = 0;
        for (Lane lane : byCallerId.values()) {
            if (lane.heldForCarrier && !lane.queue.isEmpty()) {
                held++;
            }
        }
        return held;
    }

    synchronized int held() {
        return window.unfinished();
    }

    long nowNanos() {
        return now();
    }

    private record ToPark(ParkingLot.Parked parked, OffsetWindow.Slot slot, PacingMetrics.Parked reason, Lane lane) {
    }

    private record Pending(InboundRecord record, LaneTicket ticket, OffsetWindow.Slot slot, long admittedAt) {

        /** The command's {@code priority}, 0 when it gives none: higher goes first in its lane. */
        int priority() {
            Integer priority = ticket.command().priority();
            return priority == null ? 0 : priority;
        }
    }

    /** The widest spacing of a lane without a rate of its own, parked for a wait at the trunk. */
    static final long MAX_TRUNK_PARK_SPACING_NANOS = TimeUnit.SECONDS.toNanos(1);

    /**
     * The narrowest spacing of a lane's parked records: {@code dispatch.schedule} keeps microseconds, and records due
     * at the same time would come back in no particular order.
     */
    static final long MIN_PARK_SPACING_NANOS = TimeUnit.MICROSECONDS.toNanos(1);

    /**
     * What a revoked lane knew of its caller ID that its next lane on this dispatcher goes on from.
     *
     * @param bucket       its last starts at the caller ID's rate; null while it had none
     * @param lastParkDue  the due time of the last record it parked ({@link Instant#MIN}: none)
     * @param firstParkDue the earliest due time of its parked records that may still wait in the schedule
     * @param parkedSpacingNanos how far apart its parked records were spaced, the widest while they came back (0: not
     *                           known, as for one read from the parked lanes)
     * @param parked       the offsets of the records it parked since its parked records last all came back; null
     *                     when not known
     */
    record Kept(PaceBucket bucket, Instant lastParkDue, Instant firstParkDue, long parkedSpacingNanos,
                ParkedOffsets parked) {

        Kept(PaceBucket bucket, Instant lastParkDue, Instant firstParkDue, long parkedSpacingNanos) {
            this(bucket, lastParkDue, firstParkDue, parkedSpacingNanos, null);
        }

        /**
         * Both known of one caller ID: this one kept here at a revocation, {@code read} from the parked lanes. The last
         * starts kept, the latest last due time, the earliest due time that may still wait, and the offsets read when
         * they are of the same partition: every batch written widens them, one written after the revocation included,
         * and they start again with the caller ID's next run, which this one kept may not know of (the partition went
         * to another dispatcher and back); of two partitions, those of the later last due time.
         */
        Kept with(Kept read) {
            ParkedOffsets offsets = parked == null ? read.parked : read.parked == null ? parked
                    : parked.partition() == read.parked.partition() ? read.parked
                    : lastParkDue.isAfter(read.lastParkDue) ? parked : read.parked;
            return new Kept(bucket != null ? bucket : read.bucket,
                    lastParkDue.isAfter(read.lastParkDue) ? lastParkDue : read.lastParkDue,
                    earliestWaiting(firstParkDue, read.firstParkDue),
                    Math.max(parkedSpacingNanos, read.parkedSpacingNanos), offsets);
        }

        /** This one with the offsets of a parking batch of its lane written after the revocation. */
        Kept withParked(ParkedOffsets written) {
            return new Kept(bucket, lastParkDue, firstParkDue, parkedSpacingNanos,
                    parked == null ? written : parked.with(written));
        }

        private static Instant earliestWaiting(Instant one, Instant other) {
            if (one.equals(Instant.MIN)) {
                return other;
            }
            return other.equals(Instant.MIN) || one.isBefore(other) ? one : other;
        }

        /** Whether it no longer counts: its bucket full again, and no record it parked still on its way back. */
        boolean spent(long now, Instant wallNow, Duration parkAfter) {
            return (bucket == null || bucket.idleAt(now)) && !Lane.parkedAhead(lastParkDue, wallNow, parkAfter);
        }
    }

    /**
     * The offsets of the records a lane parked on {@code partition} since its parked records last all came back: the
     * lowest and the highest (decision 0168).
     */
    record ParkedOffsets(int partition, long first, long last) {

        /** Both, when of one partition; this one otherwise. */
        ParkedOffsets with(ParkedOffsets other) {
            if (other == null || other.partition != partition) {
                return this;
            }
            return new ParkedOffsets(partition, Math.min(first, other.first), Math.max(last, other.last));
        }
    }

    /** Where a record read again goes ({@link Lane#readAgain}). */
    enum ReadAgain {
        /** Among the records the lane's last owner parked: parked again, its row keeping its due time. */
        PARKED,
        /** Older than all of those: held by the lane's last owner, it joins the lane ahead of them. */
        HELD
    }

    /** One caller ID's records on this partition. */
    static final class Lane {
        final String callerId;
        /** The caller ID's rate as last read ({@link Lanes#paced}); null while it has none. */
        PaceBucket bucket;
        /** What {@link #bucket} was built for: calls per second (0: no limit) and burst. */
        double cps;
        int burst;
        /**
         * The accounts whose calls the lane has held since it was made (one, unless accounts share the caller ID): its
         * rate is the strictest of theirs.
         */
        final Set<String> accounts = new HashSet<>(2);
        /** Its records in the order they start: by priority, higher first, then as they arrived. */
        final LinkedList<Pending> queue = new LinkedList<>();
        int inFlight;
        boolean timerArmed;
        boolean waitingForSlot;
        boolean waitingForPermit;
        boolean holdsPermit;
        /** The head waits for a carrier of its route to take calls again ({@link Lanes#earliest}). */
        boolean heldForCarrier;
        /** Since when (the limits' clock) the lane has been held for its carrier; {@link #NOT_HELD} while it is not. */
        long heldSince = NOT_HELD;
        /** Since when (the limits' clock) the head has been queued at the trunk; {@link #NOT_HELD} while it is not. */
        long queuedAtTrunkSince = NOT_HELD;
        /** The head the trunk queued last, while the lane waits there; null otherwise. */
        Pending queuedAtTrunk;
        /** Ends the timer set to look at the lane's wait at the trunk ({@link #trunkWaitCheck}); null when none is. */
        Sinks.Empty<Void> trunkCheck;
        /** How long the lane's last start waited at the trunk for its turn (0 when the trunk did not queue it). */
        long lastTrunkWait;
        /** The campaign with a rate its head is a call of, as {@link PartitionLanes#countCampaign} counted it. */
        Lanes.CampaignKey countedCampaign;
        /**
         * Its share of its head's campaign's rate, as the interval between its starts: the campaign's interval times
         * the lanes of this dispatcher waiting for it ({@link Lanes#campaignShareIntervalNanos}); 0 without a rate.
         */
        long campaignSpacing;
        private Instant lastParkDue = Instant.MIN;
        /**
         * The last due time of the lane's records written to the schedule, or known to be there ({@link #lastParkDue}
         * counts those queued for parking too).
         */
        private Instant writtenParkDue = Instant.MIN;
        /** The earliest due time of the lane's parked records that may still wait in the schedule. */
        private Instant firstParkDue = Instant.MIN;
        /** The partition the lane's records come from ({@link #parkedOffset}). */
        private final int partition;
        /**
         * The offsets of the records the lane parked since its parked records last all came back (null: none known);
         * {@link #newParkedRun} once they have, until the next is noted.
         */
        private ParkedOffsets parked;
        private boolean newParkedRun;
        /**
         * How far apart the lane last spaced the parked records it handed due times to, or a recount moved them
         * ({@link #spedUp}); 0 when not known (a lane made anew after a revocation).
         */
        long parkedSpacingNanos;
        /** When (wall clock) a parked record last came back, or a recount last ended ({@link #recountDue}). */
        Instant lastReturn = Instant.MIN;
        /** Whether the lane's parked backlog is being looked at ({@link #recount}). */
        boolean recounting;
        /** Whether the look at it spaces it anew at the lane's slower pace ({@link #slowedDown}). */
        boolean slowedDown;
        /** {@link #parkedSpacingNanos} before the look, given back should it fail. */
        long spacingBeforeRecount;
        /** What arrived for the lane while its parked backlog is looked at, in order. */
        final List<Pending> heldForRecount = new ArrayList<>(0);

        /**
         * @param kept      what a revocation kept of the caller ID's last lane here ({@link Lanes#keep}), or null: the
         *                  lane's first {@link #pace} goes on from its last starts, as from a bucket of its own, and
         *                  what arrives is parked behind its records that may not have come back yet, but for what
         *                  is read again ({@link #readAgain})
         * @param partition the partition its records come from
         */
        Lane(String callerId, Kept kept, int partition) {
            this.callerId = callerId;
            this.partition = partition;
            if (kept != null) {
                this.bucket = kept.bucket();
                this.lastParkDue = kept.lastParkDue();
                this.writtenParkDue = kept.lastParkDue();
                this.firstParkDue = kept.firstParkDue();
                this.parkedSpacingNanos = kept.parkedSpacingNanos();
                // Offsets of another partition (the topic's partitions counted anew) say nothing of this one's.
                if (kept.parked() != null && kept.parked().partition() == partition) {
                    this.parked = kept.parked();
                }
            }
        }

        /**
         * What a lane made anew for the caller ID on this dispatcher goes on from ({@link Lanes#keep}): the offsets of
         * its parked records only while some may still come back.
         */
        Kept kept(Instant now, Duration parkAfter) {
            return new Kept(bucket, lastParkDue, firstParkDue, parkedSpacingNanos,
                    newParkedRun || !parkedAhead(now, parkAfter) ? null : parked);
        }

        /** Notes the due time of a record of the lane's written to the schedule. */
        void written(Instant due) {
            if (due.isAfter(writtenParkDue)) {
                writtenParkDue = due;
            }
        }

        /**
         * Some of the records queued for parking were dropped unwritten: the lane's last due time goes back to the last
         * of those written, or of {@code writing} (those of the batch being written), never forward.
         */
        void unwrittenDropped(Instant writing) {
            Instant kept = writtenParkDue.isAfter(writing) ? writtenParkDue : writing;
            if (kept.isBefore(lastParkDue)) {
                lastParkDue = kept;
            }
            if (firstParkDue.isAfter(lastParkDue)) {
                firstParkDue = lastParkDue;
            }
        }

        /**
         * Notes the offset of a record of the partition the lane parked (−1: one that came back from the schedule, or
         * to the front of its lane, whose offset is not where it first arrived): the lowest and the highest since the
         * lane's parked records last all came back.
         */
        void parkedOffset(long offset) {
            if (offset < 0) {
                return;
            }
            ParkedOffsets noted = new ParkedOffsets(partition, offset, offset);
            parked = newParkedRun || parked == null ? noted : parked.with(noted);
            newParkedRun = false;
        }

        /**
         * Where a record read again from the partition (its offset not past the records the lane's last owner parked
         * while they may still come back) goes: {@link ReadAgain#PARKED} when it is among them, its row in the
         * schedule keeping its place; {@link ReadAgain#HELD} when it arrived before all of them, so that its last
         * owner held it; null for any other record, which arrives as any does.
         */
        ReadAgain readAgain(long offset, Instant now, Duration parkAfter) {
            if (offset < 0 || parked == null || newParkedRun || offset > parked.last()
                    || !parkedAhead(now, parkAfter)) {
                return null;
            }
            return offset < parked.first() ? ReadAgain.HELD : ReadAgain.PARKED;
        }

        /**
         * Queues a record behind those of its priority or higher and before those of lower priority; never before the
         * head, which may hold a trunk grant or a timer for its own call. Equal priorities (the common case: none
         * given) keep their order of arrival, and cost nothing more than an append.
         */
        void enqueue(Pending pending) {
            int priority = pending.priority();
            ListIterator<Pending> position = queue.listIterator(queue.size());
            while (position.previousIndex() >= 1) {
                if (position.previous().priority() >= priority) {
                    position.next();
                    break;
                }
            }
            position.add(pending);
        }

        /**
         * Paces the lane at {@code perSecond} (0: no limit) with {@code burstOf}, from now on; a bucket already in use
         * keeps its last starts ({@link PaceBucket#withRate}), so a change never lets a burst through, and so does the
         * first one of a lane made anew after a revocation, from the starts the revoked lane had made.
         */
        void pace(double perSecond, int burstOf, long catchUpNanos) {
            if (perSecond == cps && burstOf == burst) {
                return;
            }
            cps = perSecond;
            burst = burstOf;
            if (perSecond <= 0) {
                bucket = null;
            } else if (bucket == null) {
                bucket = new PaceBucket(perSecond, burstOf, catchUpNanos);
            } else {
                bucket = bucket.withRate(perSecond, burstOf);
            }
        }

        /**
         * How many records make {@code parkAfter} of waiting: the lane starts one per {@link #startInterval}, or per
         * {@code campaignIntervalNanos} (its share of its head's campaign) when that is slower (never fewer than one,
         * its head, which {@link PartitionLanes#waitFor} parks when it waits longer than {@code parkAfter}; no bound
         * while nothing slows the lane).
         */
        int budget(Duration parkAfter, long now, long campaignIntervalNanos) {
            long interval = Math.max(startInterval(now), campaignIntervalNanos);
            return interval == 0 ? Integer.MAX_VALUE
                    : (int) Math.max(1, Math.min(Integer.MAX_VALUE, parkAfter.toNanos() / interval));
        }

        /**
         * The expected time between the lane's starts: its rate's interval, or, while the trunk's limits bind, how long
         * its head waits there for its turn (the one waiting now, or the last start's wait), when that is longer.
         */
        long startInterval(long now) {
            return Math.max(bucket == null ? 0 : bucket.intervalNanos(), trunkWait(now));
        }

        private long trunkWait(long now) {
            return queuedAtTrunkSince == NOT_HELD ? lastTrunkWait : Math.max(lastTrunkWait, now - queuedAtTrunkSince);
        }

        /**
         * How far apart parked records come back: at the caller ID's own rate, which is what the lane can start once
         * the trunk lets it. A wait at the trunk sets how much the lane keeps ({@link #startInterval}), not how its
         * parked backlog is spread: a trunk that binds for a minute would otherwise space a long backlog by that
         * minute's wait, and the lane would dial at that pace for hours after the trunk freed. A record that comes
         * back while the trunk still binds joins the lane all the same (docs/pacing.md names what that costs). A lane
         * without a rate of its own spaces them by the trunk's wait, at most {@link #MAX_TRUNK_PARK_SPACING_NANOS}.
         */
        long parkSpacing(long now) {
            long own = bucket != null ? bucket.intervalNanos() : Math.min(trunkWait(now), MAX_TRUNK_PARK_SPACING_NANOS);
            // Never closer than its share of its campaign's rate: closer, they would come back faster than the lane
            // can start them and fill the window again (a rate, not a wait: unlike the trunk's, it spaces them).
            return Math.max(own, campaignSpacing);
        }

        /**
         * Parked records come back spaced at the lane's rate, the first when half the held backlog has gone: their way
         * back (the schedule's poll, Kafka, the consumer) takes a second or more, and a lane that waits for them runs
         * dry. Coming back spaced at the rate, they keep the lane at about half its budget rather than above it.
         */
        Instant nextParkDue(Instant now, Duration parkAfter, long intervalNanos) {
            boolean noneWaiting = !lastParkDue.isAfter(now);
            Instant earliest = now.plus(parkAfter.dividedBy(2));
            long spacing = Math.max(intervalNanos, MIN_PARK_SPACING_NANOS);
            // The widest spacing of what may still come back: a record parked at a faster rate behind a backlog spaced
            // at a slower one leaves the backlog as slow as it was.
            parkedSpacingNanos = noneWaiting ? spacing : Math.max(parkedSpacingNanos, spacing);
            Instant spaced = lastParkDue.equals(Instant.MIN) ? earliest : lastParkDue.plusNanos(spacing);
            lastParkDue = spaced.isAfter(earliest) ? spaced : earliest;
            if (noneWaiting) {
                firstParkDue = lastParkDue;
                newParkedRun = true;
            }
            return lastParkDue;
        }

        /**
         * Due times for {@code count} records parked from the lane's queue, in its order, when none of the lane's
         * parked records may still come back ({@link #parkedAhead} is false): the first at {@code first}, the others
         * spaced at {@code intervalNanos} behind it. What the lane parks next goes behind the last.
         */
        List<Instant> parkDuesFrom(int count, Instant first, long intervalNanos) {
            List<Instant> dues = new ArrayList<>(count);
            Instant due = first;
            parkedSpacingNanos = Math.max(intervalNanos, MIN_PARK_SPACING_NANOS);
            for (int i = 0; i < count; i++) {
                dues.add(due);
                due = due.plusNanos(parkedSpacingNanos);
            }
            if (count > 0) {
                firstParkDue = dues.get(0);
                lastParkDue = dues.get(count - 1);
                newParkedRun = true;
            }
            return dues;
        }

        /**
         * Due times for {@code count} records parked from the lane's queue, in its order. Those arrived before every
         * record the lane parked since, so they are due before the earliest of those still waiting in the schedule
         * (taken to be those not due yet: the schedule publishes what is due within a poll): spaced at the lane's
         * rate when that fits in after half of {@code parkAfter}, closer together when it does not, and due at once,
         * a microsecond apart, when that earliest one is due now. Order comes before pace here: they come back sooner
         * than the lane may start them and wait in it, as they did before they were shed. With none of the lane's
         * records waiting, they are spaced after the last as usual.
         */
        List<Instant> parkDuesAhead(int count, Instant now, Duration parkAfter, long intervalNanos) {
            List<Instant> dues = new ArrayList<>(count);
            if (!lastParkDue.isAfter(now)) {
                for (int i = 0; i < count; i++) {
                    dues.add(nextParkDue(now, parkAfter, intervalNanos));
                }
                return dues;
            }
            Instant before = firstParkDue.isAfter(now) ? firstParkDue : now;
            Instant earliest = now.plus(parkAfter.dividedBy(2));
            Instant from = earliest.isBefore(before) ? earliest : now;
            long room = Duration.between(from, before).toNanos() / Math.max(1, count);
            long step = Math.max(MIN_PARK_SPACING_NANOS, Math.min(intervalNanos, room));
            for (int i = 0; i < count; i++) {
                dues.add(before.minusNanos((count - i) * step));
            }
            if (count > 0) {
                firstParkDue = dues.get(0);
            }
            return dues;
        }

        /**
         * Whether records this lane parked may still be on their way back: until the last one's due time, and the
         * half of {@code parkAfter} its way back (the schedule's poll, Kafka, the consumer) may take.
         */
        boolean parkedAhead(Instant now, Duration parkAfter) {
            return parkedAhead(lastParkDue, now, parkAfter);
        }

        static boolean parkedAhead(Instant lastParkDue, Instant now, Duration parkAfter) {
            return !lastParkDue.equals(Instant.MIN) && now.isBefore(lastParkDue.plus(parkAfter.dividedBy(2)));
        }

        boolean idle(long now, Instant wallNow, Duration parkAfter) {
            return !parkedAhead(wallNow, parkAfter) && queue.isEmpty() && inFlight == 0 && !timerArmed && !recounting
                    && !waitingForSlot && !waitingForPermit && (bucket == null || bucket.idleAt(now));
        }
    }
}
