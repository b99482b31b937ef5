package dev.dialer.dispatcher.pacing;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.PartitionFlow;
import dev.dialer.dispatcher.carrier.Carrier;
import dev.dialer.dispatcher.carrier.CarrierProperties;
import dev.dialer.dispatcher.carrier.CarrierReadiness;
import dev.dialer.dispatcher.carrier.sip.SipTrunkProperties;
import dev.dialer.dispatcher.policy.KnownControls;
import dev.dialer.dispatcher.resilience.InfraRetry;
import jakarta.annotation.PreDestroy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Builds each partition's {@link PartitionLanes} and holds what they share: the limits (caller-ID rates from
 * {@link CallerLimits}, campaign rates, the {@link Trunks}), the parking lot, the metrics, and this dispatcher's
 * share of the partitions, which scales the trunk-wide limits.
 */
@Component
public class Lanes {

    private static final Logger log = LoggerFactory.getLogger(Lanes.class);
    private static final Duration COUNT_TIMEOUT = Duration.ofSeconds(30);
    /**
     * When the calls in flight on gained partitions are counted a second time: by then the dials their previous owner
     * had under way when it lost them (each started before the revocation, and not stopped by it) have claimed their
     * attempts, or failed to.
     */
    static final Duration RECOUNT_AFTER = Duration.ofSeconds(5);
    /**
     * How often the slots held for calls a count found in flight are looked up in the attempt ledger, while there are
     * any ({@link #checkCounted}).
     */
    static final Duration COUNTED_CHECK = Duration.ofSeconds(30);
    /** How long a gained partition's first records wait for the due times of parked records ({@link #learnParked}). */
    static final Duration PARKED_LOOKUP = Duration.ofSeconds(3);
    /** How often a lane held for want of a carrier looks again. */
    static final long CARRIER_RECHECK_NANOS = Duration.ofSeconds(1).toNanos();

    private final LanesProperties properties;
    private final PacingProperties pacing;
    private final CallerLimits callerLimits;
    private final ParkingLot parking;
    private final Clock clock;
    private final Scheduler scheduler;
    private final Scheduler timers;
    private final LongSupplier nanoTime;
    private final InFlightCalls inFlightCalls;
    private final DialPermits permits;
    private final Trunks trunks;
    private final PacingMetrics metrics;
    private final Predicate<CallCommand> carrierAccepting;
    private final Predicate<CallCommand> cancelled;
    private final Predicate<CallCommand> blocked;
    private final SlotHold slotHold;
    /** The rated campaigns' buckets, each account's campaign its own, whatever its name. */
    private final Map<CampaignKey, PaceBucket> campaigns = new ConcurrentHashMap<>();
    /**
     * What the lanes a revocation dropped knew of their caller IDs, by caller ID, while it still counts
     * ({@link #keep}); taken by the caller ID's next lane here.
     */
    private final Map<String, PartitionLanes.Kept> kept = new ConcurrentHashMap<>();
    /** This dispatcher's share of the commands partitions: a campaign's calls spread over all of them. */
    private volatile double campaignShare = 1.0;
    private final Set<PartitionLanes> live = ConcurrentHashMap.newKeySet();
    private final Set<Integer> owned = ConcurrentHashMap.newKeySet();
    /**
     * The assignment each owned partition came with (guarded by {@code owned}): a count of calls in flight holds slots
     * only for partitions still owned since the assignment it counts for.
     */
    private final Map<Integer, Long> assignedIn = new HashMap<>();
    private long assignments;
    /** Partitions of the commands topic, as last learnt. */
    private int partitionCount;
    /** Whether a {@link #checkCounted} is scheduled or under way. */
    private final AtomicBoolean countedCheck = new AtomicBoolean();

    /**
     * @param voiceGateway the Voice Gateway's defaults, and {@code sip} the SIP trunk's: the ring timeout and time
     *                     limit of a call whose command names none, the longer of the two ({@link SlotHold})
     */
    @Autowired
    Lanes(LanesProperties properties, PacingProperties pacing, CallerLimits callerLimits, ParkingLot parking,
          Clock clock, PacingMetrics metrics, InFlightCalls inFlightCalls, CarrierReadiness carrier,
          KnownControls controls, CarrierProperties voiceGateway, SipTrunkProperties sip) {
        this(properties, pacing, callerLimits, parking, clock, metrics, inFlightCalls, Schedulers.parallel(),
                Schedulers.newSingle("dialer-lane-timers", true), System::nanoTime, carrier::accepting,
                controls::cancelled, controls::onDncList, slotHold(pacing, voiceGateway, sip), carrier::trunkOf,
                carrier::trunks);
    }

    /** How long slots are held: with the carriers' defaults, the longer of the two, for a command that names none. */
    static SlotHold slotHold(PacingProperties pacing, CarrierProperties voiceGateway, SipTrunkProperties sip) {
        return new SlotHold(pacing.slotTimeLimit(), pacing.slotMargin(),
                longer(voiceGateway.ringTimeout(), sip.ringTimeout()),
                longer(voiceGateway.timeLimit(), sip.timeLimit()));
    }

    /** On a test's clock: {@code scheduler} (a virtual one) tells the time as well; nothing is cancelled. */
    Lanes(LanesProperties properties, PacingProperties pacing, CallerLimits callerLimits, ParkingLot parking,
          Clock clock, PacingMetrics metrics, InFlightCalls inFlightCalls, Scheduler scheduler, Scheduler timers,
          Predicate<CallCommand> carrierAccepting) {
        this(properties, pacing, callerLimits, parking, clock, metrics, inFlightCalls, scheduler, timers,
                carrierAccepting, command -> false, command -> false);
    }

    /**
     * On a test's clock, with the commands {@code cancelled} says are cancelled and those {@code blocked} says are on
     * their account's DNC list.
     */
    Lanes(LanesProperties properties, PacingProperties pacing, CallerLimits callerLimits, ParkingLot parking,
          Clock clock, PacingMetrics metrics, InFlightCalls inFlightCalls, Scheduler scheduler, Scheduler timers,
          Predicate<CallCommand> carrierAccepting, Predicate<CallCommand> cancelled,
          Predicate<CallCommand> blocked) {
        this(properties, pacing, callerLimits, parking, clock, metrics, inFlightCalls, scheduler, timers,
                () -> scheduler.now(TimeUnit.NANOSECONDS), carrierAccepting, cancelled, blocked,
                SlotHold.configured(pacing), command -> Trunks.DEFAULT, () -> List.of(Trunks.DEFAULT));
    }

    /** With a clock of its own; nothing is cancelled. */
    Lanes(LanesProperties properties, PacingProperties pacing, CallerLimits callerLimits, ParkingLot parking,
          Clock clock, PacingMetrics metrics, InFlightCalls inFlightCalls, Scheduler scheduler, Scheduler timers,
          LongSupplier nanoTime, Predicate<CallCommand> carrierAccepting) {
        this(properties, pacing, callerLimits, parking, clock, metrics, inFlightCalls, scheduler, timers, nanoTime,
                carrierAccepting, command -> false, command -> false, SlotHold.configured(pacing),
                command -> Trunks.DEFAULT, () -> List.of(Trunks.DEFAULT));
    }

    /**
     * @param scheduler where dials are handed off
     * @param timers    where lanes and the trunk wait for their next token: a thread of their own in service, so a
     *                  timer never waits behind a dial's work on a busy scheduler and fires as little late as the
     *                  machine allows; tests pass their virtual clock for both
     * @param nanoTime  the limits' clock: monotonic in service ({@link System#nanoTime}; a scheduler's {@code now} is
     *                  the wall clock in milliseconds, which steps when the system time is corrected)
     * @param carrierAccepting whether a command's call could reach a carrier now ({@link Carrier#accepting})
     * @param cancelled whether the dial-time gate will end a command {@code canceled}
     *                  ({@link KnownControls#cancelled}): such a command is handed over unpaced, as is one past its
     *                  {@code valid_until} on {@code clock}
     * @param blocked   whether the command's number is on its account's DNC list ({@link KnownControls#onDncList}):
     *                  such a command is handed over unpaced too, and the gate ends it {@code blocked}
     * @param slotHold  how long a call's trunk slot may be held without its terminal status
     * @param trunkOf   the trunk that paces a command's start now ({@link Carrier#trunkOf})
     * @param trunkNames every trunk's name, the default one first ({@link Carrier#trunks})
     */
    Lanes(LanesProperties properties, PacingProperties pacing, CallerLimits callerLimits, ParkingLot parking,
          Clock clock, PacingMetrics metrics, InFlightCalls inFlightCalls, Scheduler scheduler, Scheduler timers,
          LongSupplier nanoTime, Predicate<CallCommand> carrierAccepting, Predicate<CallCommand> cancelled,
          Predicate<CallCommand> blocked, SlotHold slotHold, Function<CallCommand, String> trunkOf,
          Supplier<List<String>> trunkNames) {
        this.properties = properties;
        this.pacing = pacing;
        this.callerLimits = callerLimits;
        this.parking = parking;
        this.clock = clock;
        this.scheduler = scheduler;
        this.timers = timers;
        this.nanoTime = nanoTime;
        this.metrics = metrics;
        this.inFlightCalls = inFlightCalls;
        this.carrierAccepting = carrierAccepting;
        this.cancelled = cancelled;
        this.blocked = blocked;
        this.slotHold = slotHold;
        this.permits = new DialPermits(properties.maxDialsInFlight());
        this.trunks = new Trunks(name -> new TrunkGate(pacing.trunkCps(name), pacing.trunkConcurrency(name),
                pacing.slotTimeLimit().toNanos(), timers, nanoTime, pacing.timerCatchUp().toNanos()),
                trunkOf, trunkNames, metrics::watchTrunk, metrics::started);
        metrics.watch(this);
    }

    private static Duration longer(Duration one, Duration other) {
        return one.compareTo(other) >= 0 ? one : other;
    }

    @PreDestroy
    void stopTimers() {
        if (timers != scheduler) {
            timers.dispose();
        }
    }

    /** The lanes of one partition; its {@link PartitionLanes#jobs} must be subscribed before records are admitted. */
    public PartitionLanes forPartition(String topic, int partition, PartitionFlow flow, LaneWork work) {
        PartitionLanes lanes = new PartitionLanes(topic, partition, this, flow, work, scheduler, timers);
        live.add(lanes);
        return lanes;
    }

    /** The partition's pipeline ended: its lanes no longer count in the gauges. */
    public void closed(PartitionLanes lanes) {
        live.remove(lanes);
        lanes.close();
    }

    /**
     * Partitions were assigned or revoked: the trunk-wide and campaign limits are re-divided by the share now owned (a
     * campaign's caller IDs hash to any partition, so each dispatcher applies its share of the campaign's rate, as of
     * the trunk's, and the group as a whole stays within it); the slots of
     * the revoked partitions' calls are let go (their statuses now go to the new owner), and the calls in flight on
     * the gained ones are counted as held slots until their statuses arrive here.
     */
    public void owns(Set<Integer> assigned, Set<Integer> revoked, int partitionCount) {
        long assignment;
        synchronized (owned) {
            owned.removeAll(revoked);
            owned.addAll(assigned);
            assignment = ++assignments;
            revoked.forEach(assignedIn::remove);
            assigned.forEach(partition -> assignedIn.put(partition, assignment));
        }
        reshare(partitionCount);
        if (!revoked.isEmpty()) {
            int released = trunks.releasePartitions(revoked);
            metrics.releasedOnRevoke(released);
            log.info("Partitions {} revoked: {} trunk slots released to their new owner", revoked, released);
        }
        if (!assigned.isEmpty() && partitionCount > 0) {
            Set<Integer> gained = Set.copyOf(assigned);
            learnParked(gained, partitionCount);
            countInFlight(gained, assignment, partitionCount);
            // Counted again once the previous owner's dials under way at its revocation have claimed their attempts:
            // the first count, made at once, does not see them, and their calls would hold slots nowhere.
            timers.schedule(() -> {
                if (stillAssigned(gained, assignment)) {
                    countInFlight(gained, assignment, partitionCount);
                }
            }, RECOUNT_AFTER.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** Whether one of {@code partitions} at least is still owned since {@code assignment}. */
    private boolean stillAssigned(Set<Integer> partitions, long assignment) {
        synchronized (owned) {
            return partitions.stream().anyMatch(partition -> ownedSince(partition, assignment));
        }
    }

    /** Whether {@code partition} is owned since {@code assignment}; the caller holds {@code owned}'s lock. */
    private boolean ownedSince(int partition, long assignment) {
        return Long.valueOf(assignment).equals(assignedIn.get(partition));
    }

    private void reshare(int count) {
        synchronized (owned) {
            if (count > 0) {
                partitionCount = count;
            }
            if (partitionCount > 0 && !owned.isEmpty()) {
                double share = Math.min(1.0, (double) owned.size() / partitionCount);
                trunks.share(share);
                if (share != campaignShare) {
                    campaignShare = share;
                    // At the new rate, their last starts carried over: a rebalance lets no start through early.
                    campaigns.replaceAll((campaign, bucket) ->
                            bucket.withRate(pacing.campaignCps().get(campaign.name()) * share, 1));
                }
            }
        }
    }

    /**
     * Counts the calls in flight on gained partitions as held trunk slots. Runs on its own (the rebalance callback must
     * not wait for PostgreSQL): until the count is in (at most 5 s), starts on a trunk with a concurrency limit wait
     * for it ({@link TrunkGate}), so the gained partitions' calls and new starts together never pass the limit. A
     * failed count holds nothing (the trunk's limit then errs towards dialling more until those calls end) and says so.
     * A count that comes in after its partition was revoked (and perhaps assigned here again since) holds nothing for
     * it: that partition's calls' statuses went to another owner meanwhile, and a slot held for them would stay held,
     * with nobody to free it, until it lapsed. Made twice ({@link #RECOUNT_AFTER}): the second finds the calls of dials
     * the previous owner had under way.
     */
    private void countInFlight(Set<Integer> gained, long assignment, int partitionCount) {
        if (inFlightCalls == null) {
            return;
        }
        trunks.countingStarts();
        inFlightCalls.on(gained, partitionCount)
                .collectList()
                .timeout(COUNT_TIMEOUT)
                .retryWhen(InfraRetry.brief("count calls in flight"))
                .subscribe(calls -> {
                    int held;
                    synchronized (owned) {
                        // Under the lock owns() changes the assignments with: a revocation after this releases what
                        // is held here, one before it leaves its partition's calls out.
                        held = trunks.holdCounted(calls.stream()
                                .filter(call -> ownedSince(call.partition(), assignment))
                                .toList());
                    }
                    metrics.countedOnAssign(held);
                    log.info("Partitions {} gained: {} calls in flight on them hold trunk slots", gained, held);
                    checkCountedLater();
                }, error -> {
                    trunks.countingEnded();
                    log.warn("Partitions {} gained: the calls in flight on them could not be counted", gained, error);
                });
    }

    /** Schedules a {@link #checkCounted} unless one is scheduled or under way. */
    private void checkCountedLater() {
        if (countedCheck.compareAndSet(false, true)) {
            timers.schedule(this::checkCounted, COUNTED_CHECK.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Releases the slots held for calls a count found in flight (and for no start of this dispatcher's) whose attempts
     * the ledger no longer has in flight; again every {@link #COUNTED_CHECK} while such slots are held. Such a call's
     * end comes here, as a status, unless the previous owner ended the attempt itself: a dial it had under way when
     * it lost the partition, which the carrier refused (for its capacity too) or which was never placed. That end
     * reached only the previous owner's gates, and the slot here would be held until it lapsed, an hour or more, the
     * trunk a call short on this dispatcher meanwhile. A failed look releases nothing and is made again.
     */
    private void checkCounted() {
        List<String> held = trunks.heldByCountAlone();
        if (held.isEmpty()) {
            countedCheck.set(false);
            return;
        }
        inFlightCalls.stillInFlight(held)
                .timeout(COUNT_TIMEOUT)
                .subscribe(inFlight -> {
                    int released = trunks.releaseHeldByCountAlone(held.stream()
                            .filter(slotKey -> !inFlight.contains(slotKey))
                            .toList());
                    if (released > 0) {
                        metrics.countedEndedElsewhere(released);
                        log.info("{} trunk slots held for calls found in flight on gained partitions released: their"
                                + " attempts ended at the partitions' previous owner", released);
                    }
                    countedCheckAgain();
                }, error -> {
                    log.warn("The calls found in flight on gained partitions could not be looked up again", error);
                    countedCheckAgain();
                });
    }

    private void countedCheckAgain() {
        countedCheck.set(false);
        checkCountedLater();
    }

    /** The commands partitions this dispatcher owns now. */
    Set<Integer> owned() {
        return Set.copyOf(owned);
    }

    /** The trunks' limits as this dispatcher applies them; terminal callbacks release their slots. */
    public Trunks trunks() {
        return trunks;
    }

    /** Whether a trunk granted the ticket's call a start that is not made yet. */
    boolean trunkGranted(LaneTicket ticket) {
        return trunks.isGranted(ticket.slotKey());
    }

    /**
     * The earliest start the caller ID's and the campaign's rates allow; the trunk's limits are not asked here, they
     * queue the lane in {@link #tryStart} when they bind. A start the trunk granted already may happen now, as far as
     * the lane's own rate goes (its campaign's token is still asked for in {@link #tryStart}).
     *
     * <p>While no carrier of the head's route would be tried (every breaker open), the lane is held: it looks again in
     * a second and takes no token, permit or slot meanwhile. Its calls stay in the lane (and in Kafka) instead of each
     * being recorded, refused by the open breaker, and requeued with a {@code call.deferred} event.
     */
    long earliest(PartitionLanes.Lane lane, LaneTicket ticket, long now) {
        paced(lane);
        if (trunkGranted(ticket)) {
            return now;
        }
        lane.heldForCarrier = !carrierAccepting.test(ticket.command());
        if (lane.heldForCarrier) {
            return now + CARRIER_RECHECK_NANOS;
        }
        long at = lane.bucket == null ? now : lane.bucket.earliest(now);
        PaceBucket campaign = campaignBucket(ticket);
        if (campaign != null) {
            at = Math.max(at, campaign.earliest(now));
        }
        return at;
    }

    /**
     * Starts the lane's head at {@code now} if every limit allows it: the campaign's rate is asked first, then the
     * trunk's token and slot (taken atomically, or the lane queued for them round robin by account); the campaign's
     * token and the caller ID's are taken when the start happens. A lane the trunk queues holds no campaign token: the
     * trunk may grant many starts at once as slots free together, and each granted start still waits for the
     * campaign's token, so the campaign's rate holds however the trunk's grants bunch. A grant the campaign cannot use
     * yet goes back to the trunk, its slot and its token ({@link #unusedGrant}).
     *
     * @return {@code now} when started; {@link TrunkGate#QUEUED} when queued at the trunk ({@code wake} runs when the
     *         start is granted); otherwise the time to try again
     */
    long tryStart(PartitionLanes.Lane lane, LaneTicket ticket, int partition, long now, Runnable wake) {
        PaceBucket campaign = campaignBucket(ticket);
        if (campaign == null) {
            return startAtTrunk(lane, ticket, partition, now, wake);
        }
        // Every partition's lanes share the campaign's bucket: its token is asked and taken as one step with the
        // trunk's start (the trunk never calls back into a lane or a bucket under its own lock).
        synchronized (campaign) {
            long at = campaign.earliest(now);
            if (at > now) {
                // The trunk granted a start the campaign cannot use yet: its slot and token go back at once to the
                // others sharing the trunk instead of sitting idle until the grant lapses, or being lost.
                unusedGrant(ticket, PacingMetrics.UnusedGrant.CAMPAIGN);
                return at;
            }
            long started = startAtTrunk(lane, ticket, partition, now, wake);
            if (started == now) {
                campaign.take(now);
            }
            return started;
        }
    }

    private long startAtTrunk(PartitionLanes.Lane lane, LaneTicket ticket, int partition, long now, Runnable wake) {
        long trunkResult = trunks.acquireOrWait(ticket.slotKey(), ticket.command(), partition, now,
                slotHold.nanos(ticket.command()), wake);
        if (trunkResult != now) {
            return trunkResult;
        }
        if (lane.bucket != null) {
            lane.bucket.take(now);
        }
        return now;
    }

    /**
     * Why the dial-time gate will end the ticket's command rather than dial it, or null when it would dial it: its
     * request or campaign is cancelled, its number is on its account's DNC list, or its {@code valid_until} has passed
     * (as the gate reads them, in the gate's order, {@code DialPolicy}). Such a command takes no token, permit or
     * slot, and goes to the gate at once (which still decides): an expired one in a lane held for its carrier would
     * otherwise wait there, parked and published again, until a carrier takes calls, before its request ends, and a
     * blocked one would wait its lane's turn at a busy trunk.
     */
    PacingMetrics.Ends endsAtTheGate(LaneTicket ticket) {
        if (cancelled.test(ticket.command())) {
            return PacingMetrics.Ends.CANCELED;
        }
        if (blocked.test(ticket.command())) {
            return PacingMetrics.Ends.BLOCKED;
        }
        Instant validUntil = ticket.command().validUntil();
        return validUntil != null && !clock.instant().isBefore(validUntil) ? PacingMetrics.Ends.EXPIRED : null;
    }

    /**
     * A head the gate will end, which the trunk had granted a start to, is handed over unpaced: the grant's slot and
     * token are given back (only a granted one: a slot held under the same key belongs to a call in flight).
     */
    void forgoGrant(LaneTicket ticket, PacingMetrics.Ends reason) {
        unusedGrant(ticket, reason.unusedGrant());
    }

    /**
     * The trunk granted the ticket's start, and its lane waits for a dial permit (every one is taken): the grant goes
     * back, its slot and its token, and the lane asks the trunk again once it holds a permit. Kept, the grants made
     * while permits are short (one a token, for up to the grant's timeout) would all start as permits free together,
     * far past the trunk's {@code rate + burst} in that second.
     */
    void grantWaitsForPermit(LaneTicket ticket) {
        unusedGrant(ticket, PacingMetrics.UnusedGrant.PERMIT);
    }

    /**
     * The start the trunk granted the ticket, if it did, will not be made: its slot and, while the trunk's rate has
     * taken no later start, its token go to the trunk's next waiter ({@link Trunks#unusedGrant}). Counted by what
     * became of the token.
     */
    private void unusedGrant(LaneTicket ticket, PacingMetrics.UnusedGrant reason) {
        if (!trunks.isGranted(ticket.slotKey())) {
            return;
        }
        Trunks.UnusedGrant unused = trunks.unusedGrant(ticket.slotKey());
        if (unused != null) {
            metrics.unusedGrant(unused.trunk(), reason, unused.token());
            if (unused.token() == TrunkGate.GrantToken.SPENT) {
                log.debug("trunk {}: the start granted to {} was not made ({}); its token stays spent, the trunk "
                        + "having taken a start since", unused.trunk(), ticket.slotKey(), reason);
            }
        }
    }

    /**
     * Keeps what the lanes a revoked partition drops knew of their caller IDs while it still counts: their last starts
     * (their buckets are not full again) and the due times of the records they parked (some may not have come back
     * yet). The eager assignor revokes every partition at each rebalance and most come back to the same dispatcher,
     * whose new lane for the caller ID then goes on from those starts instead of a full burst, and parks what arrives
     * behind the records still in the schedule instead of dialling it before them ({@link #kept}). Kept ones that no
     * longer count are forgotten here, those of partitions that went to another dispatcher among them.
     */
    void keep(Collection<PartitionLanes.Lane> dropped, long now) {
        Instant wallNow = clock.instant();
        kept.values().removeIf(lane -> lane.spent(now, wallNow, properties.parkAfter()));
        for (PartitionLanes.Lane lane : dropped) {
            PartitionLanes.Kept known = lane.kept(wallNow, properties.parkAfter());
            if (!known.spent(now, wallNow, properties.parkAfter())) {
                kept.put(lane.callerId, known);
            }
        }
    }

    /**
     * Learns, for the caller IDs of gained partitions, the due times of the records their lanes parked that may not
     * have come back yet ({@link ParkingLot#parkedLanes}), wherever those lanes ran: the lane made here for such a
     * caller ID parks what arrives behind them ({@link #kept}). Called on the consumer's thread before the gained
     * partitions' first records are handed out, so it waits for the answer, at most {@link #PARKED_LOOKUP}; without
     * one, those caller IDs' lanes start as new ones and what arrives may be dialled before records parked earlier.
     */
    private void learnParked(Set<Integer> gained, int partitionCount) {
        Instant now = clock.instant();
        List<ParkingLot.ParkedLane> parked;
        try {
            parked = parking.parkedLanes(now.minus(properties.parkAfter().dividedBy(2)), now).collectList()
                    .toFuture().get(PARKED_LOOKUP.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return;
        } catch (ExecutionException | TimeoutException | RuntimeException failed) {
            metrics.parkedLanesUnread();
            log.warn("Partitions {}: the due times of parked records could not be read; their caller IDs' lanes "
                    + "start without them", gained, failed);
            return;
        }
        int learnt = 0;
        for (ParkingLot.ParkedLane lane : parked) {
            if (gained.contains(KafkaPublisher.partitionOf(lane.callerId(), partitionCount))) {
                kept.merge(lane.callerId(), new PartitionLanes.Kept(null, lane.lastDueAt(), lane.firstDueAt(), 0,
                        lane.parked()), PartitionLanes.Kept::with);
                learnt++;
            }
        }
        if (learnt > 0) {
            log.info("Partitions {}: {} caller ID(s) have parked records still to come back; what arrives for them "
                    + "is parked behind those", gained, learnt);
        }
    }

    /**
     * Adds {@code offsets} to what a revocation kept of the caller ID's lane, if it is still kept: records of a parking
     * batch written after the revocation.
     */
    void keptParked(String callerId, PartitionLanes.ParkedOffsets offsets) {
        kept.computeIfPresent(callerId, (id, known) -> known.withParked(offsets));
    }

    /** What a revocation kept of the caller ID's lane ({@link #keep}), given once; else null. */
    PartitionLanes.Kept kept(String callerId) {
        return kept.isEmpty() ? null : kept.remove(callerId);
    }

    /** A record of {@code ticket}'s account comes to the lane: its rate counts from now, and is read at once. */
    void joins(PartitionLanes.Lane lane, LaneTicket ticket) {
        lane.accounts.add(ticket.command().accountId());
        paced(lane);
    }

    /**
     * Sets the lane's rate to what its caller ID's limits say now, read at each start decision: an account's settings
     * change (or are read in full only after the lane was made), and a lane with a backlog never goes idle to be made
     * anew. A caller ID that several accounts' calls share is paced at the strictest of their rates: the carrier and
     * the networks it reaches see one number, whatever account pays for the call, and the rate one account set for it
     * is the most it is known to bear.
     */
    void paced(PartitionLanes.Lane lane) {
        double cps = 0;
        int burst = Integer.MAX_VALUE;
        for (String account : lane.accounts) {
            double each = callerLimits.callerCps(account, lane.callerId);
            if (each > 0 && (cps == 0 || each < cps)) {
                cps = each;
            }
            burst = Math.min(burst, callerLimits.callerBurst(account, lane.callerId));
        }
        lane.pace(cps, Math.max(1, burst), pacing.timerCatchUp().toNanos());
    }

    /** The time between two starts the ticket's campaign rate allows this dispatcher; 0 when it has none. */
    long campaignIntervalNanos(LaneTicket ticket) {
        PaceBucket campaign = campaignBucket(ticket);
        return campaign == null ? 0 : campaign.intervalNanos();
    }

    /**
     * The time between two starts of the ticket's campaign one of its lanes may expect: the campaign's interval on this
     * dispatcher ({@link #campaignIntervalNanos}) times the lanes of this dispatcher, on every partition, whose head is
     * one of its calls (at least one), which all take their tokens from its one bucket; 0 when it has no rate.
     */
    long campaignShareIntervalNanos(LaneTicket ticket) {
        long interval = campaignIntervalNanos(ticket);
        if (interval == 0) {
            return 0;
        }
        CampaignKey campaign = CampaignKey.of(ticket.command());
        long waiting = 0;
        for (PartitionLanes partition : live) {
            waiting += partition.lanesWaitingOn(campaign);
        }
        waiting = Math.max(1, waiting);
        return waiting > Long.MAX_VALUE / interval ? Long.MAX_VALUE : interval * waiting;
    }

    private PaceBucket campaignBucket(LaneTicket ticket) {
        String name = ticket.command().campaign();
        // Asked at every pump of a lane: the rate is looked up by name before a campaign's key is made.
        Double cps = name == null ? null : pacing.campaignCps().get(name);
        return cps == null || cps <= 0 ? null : campaigns.computeIfAbsent(CampaignKey.of(ticket.command()),
                key -> new PaceBucket(cps * campaignShare, 1, pacing.timerCatchUp().toNanos()));
    }

    /**
     * A campaign as the dialer knows it: an account's, by its name. {@code campaign-cps} names campaigns, and each
     * account's campaign of that name has the rate: campaigns of one name in two accounts are two campaigns (their
     * controls and counts are each account's), and sharing one rate, one tenant's backlog took the other's calls a
     * second.
     */
    record CampaignKey(String accountId, String name) {

        /** The command's campaign; null when it names none. */
        static CampaignKey of(CallCommand command) {
            return command.campaign() == null ? null : new CampaignKey(command.accountId(), command.campaign());
        }
    }

    /** The limits' clock, in nanoseconds. */
    long nanoTime() {
        return nanoTime.getAsLong();
    }

    DialPermits permits() {
        return permits;
    }

    /**
     * Starts no dial from now on, and runs {@code idle} once the dials running have ended (at once if none is): an
     * orderly stop lets a dial whose attempt is claimed reach the carrier and record what it answered, since the
     * attempt is never dialled again.
     */
    public void stopDialling(Runnable idle) {
        permits.close(idle);
    }

    /** Starts dials again after {@link #stopDialling}. */
    public void resumeDialling() {
        permits.open();
    }

    /** The dials running now. */
    public int dialsRunning() {
        return permits.inUse();
    }

    LanesProperties properties() {
        return properties;
    }

    ParkingLot parking() {
        return parking;
    }

    Clock clock() {
        return clock;
    }

    PacingMetrics metrics() {
        return metrics;
    }

    double sum(ToDoubleFunction<PartitionLanes> each) {
        return live.stream().mapToDouble(each).sum();
    }

    /** Seconds the oldest record waiting in any lane has waited; 0 when none waits. */
    double oldestWaitSeconds() {
        long now = nanoTime.getAsLong();
        long oldest = live.stream().mapToLong(PartitionLanes::oldestAdmittedAt).min().orElse(Long.MAX_VALUE);
        return oldest == Long.MAX_VALUE ? 0 : (now - oldest) / 1e9;
    }
}
