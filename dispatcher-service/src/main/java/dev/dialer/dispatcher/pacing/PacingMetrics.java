package dev.dialer.dispatcher.pacing;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.stereotype.Component;

/**
 * The lanes and limits in numbers, none tagged by caller ID, account or number:
 * <ul>
 *   <li>{@code dialer.dispatcher.lanes.backlog}: records waiting in lanes; {@code …lanes.held}: records held in
 *       partition windows; {@code …lanes.oldest.wait}: seconds the oldest waiting record has waited;
 *       {@code …lanes.paused}: partitions not fetching because their window is full. All of them in memory: what the
 *       lanes parked is counted from {@code dispatch.schedule} itself, in
 *       {@code dialer.dispatcher.schedule.rows{reason=parked}} and {@code …schedule.oldest.age};</li>
 *   <li>{@code dialer.dispatcher.lanes.dials.in.flight}: dials running (bounded by {@code max-dials-in-flight});
 *       {@code …lanes.dials.waiting}: lanes waiting for one to end;</li>
 *   <li>{@code dialer.dispatcher.lanes.parked{reason}}: records parked in the schedule, by why ({@link Parked});
 *       {@code …lanes.parked.lanes.unread}: assignments whose caller IDs' parked due times could not be read;
 *       {@code …lanes.parked.recounts{outcome=moved|kept|failed|slowed}}: looks at a lane's parked backlog that had
 *       stopped coming back, by whether what is left ends sooner than the lane had handed out, or that was spaced anew
 *       at the lane's slower rate ({@link Recount});
 *       {@code …lanes.read.again{went=lane|schedule}}: records read again after their lane was made anew (a
 *       rebalance) that its last owner held, which join the lane ahead of what it parked, or parked, which are parked
 *       again keeping their place ({@link PartitionLanes.ReadAgain});
 *       {@code …lanes.wait}: time from a record's arrival in its lane to its dial;</li>
 *   <li>{@code dialer.dispatcher.lanes.unpaced{reason=canceled|expired|blocked,at=admission|lane}}: commands the
 *       dial-time gate will end (cancelled, past their {@code valid_until}, or to a number on the DNC list) handed to
 *       it without taking a token, permit or slot, as they arrived or from their lane;</li>
 *   <li>per trunk ({@code trunk} tag: its carrier's route name, {@link Trunks}), each from the trunk's first use:
 *       {@code dialer.dispatcher.dials.started} (a counter: its rate is the dial rate), {@code …trunk.cps.limit},
 *       {@code …trunk.in.flight}, {@code …trunk.concurrency.limit}, {@code …trunk.concurrency.decreases},
 *       {@code …trunk.capacity.rejections},
 *       {@code …trunk.waiting}: lanes queued for the trunk's token or slot;</li>
 *   <li>{@code dialer.dispatcher.trunk.slots.rebalanced{change=released|counted|ended_elsewhere}}: slots let go
 *       with revoked partitions, calls found in flight on gained ones and held as slots, and those of such calls
 *       released when the ledger showed their attempts ended by the partitions' previous owner;</li>
 *   <li>{@code dialer.dispatcher.trunk.grants.unused{trunk,reason=campaign|canceled|expired|blocked,
 *       token=given_back|spent|none}}: starts a trunk granted that were not made (the lane's campaign was not due, or
 *       its command was cancelled, expired or put on the DNC list meanwhile),
 *       by what became of their rate token ({@link TrunkGate.GrantToken}).</li>
 * </ul>
 */
@Component
class PacingMetrics {

    private final MeterRegistry registry;
    private final Map<Parked, Counter> parked = new EnumMap<>(Parked.class);
    private final Map<Recount, Counter> recounts = new EnumMap<>(Recount.class);
    private final Map<PartitionLanes.ReadAgain, Counter> readAgain = new EnumMap<>(PartitionLanes.ReadAgain.class);
    private final Map<String, Counter> started = new ConcurrentHashMap<>();
    private final Timer waited;
    private final Counter slotsReleased;
    private final Counter slotsCounted;
    private final Counter slotsEndedElsewhere;
    private final Map<Ends, Map<Unpaced, Counter>> unpaced = new EnumMap<>(Ends.class);
    private final AtomicInteger paused = new AtomicInteger();
    private final Counter jobFailures;
    private final Counter parkFailures;
    private final Counter parkedLanesUnread;

    PacingMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (Parked reason : Parked.values()) {
            parked.put(reason, Counter.builder("dialer.dispatcher.lanes.parked")
                    .description("records parked in the schedule rather than held in their lane")
                    .tags("reason", reason.name().toLowerCase(Locale.ROOT))
                    .register(registry));
        }
        for (PartitionLanes.ReadAgain went : PartitionLanes.ReadAgain.values()) {
            readAgain.put(went, Counter.builder("dialer.dispatcher.lanes.read.again")
                    .description("records read again after their lane was made anew, by where they went")
                    .tags("went", went == PartitionLanes.ReadAgain.HELD ? "lane" : "schedule")
                    .register(registry));
        }
        for (Recount outcome : Recount.values()) {
            recounts.put(outcome, Counter.builder("dialer.dispatcher.lanes.parked.recounts")
                    .description("looks at a lane's parked backlog that had stopped coming back")
                    .tags("outcome", outcome.name().toLowerCase(Locale.ROOT))
                    .register(registry));
        }
        this.waited = Timer.builder("dialer.dispatcher.lanes.wait")
                .description("time from a record's arrival in its lane to its dial")
                .register(registry);
        this.slotsReleased = registry.counter("dialer.dispatcher.trunk.slots.rebalanced", "change", "released");
        this.slotsCounted = registry.counter("dialer.dispatcher.trunk.slots.rebalanced", "change", "counted");
        this.slotsEndedElsewhere = registry.counter("dialer.dispatcher.trunk.slots.rebalanced",
                "change", "ended_elsewhere");
        for (Ends reason : Ends.values()) {
            Map<Unpaced, Counter> byPlace = unpaced.computeIfAbsent(reason, r -> new EnumMap<>(Unpaced.class));
            for (Unpaced at : Unpaced.values()) {
                byPlace.put(at, Counter.builder("dialer.dispatcher.lanes.unpaced")
                        .description("commands the dial-time gate will end (cancelled, expired) handed to it without "
                                + "taking a token or slot")
                        .tags("reason", reason.name().toLowerCase(Locale.ROOT), "at", at.name().toLowerCase(Locale.ROOT))
                        .register(registry));
            }
        }
        Gauge.builder("dialer.dispatcher.lanes.paused", paused, AtomicInteger::get).register(registry);
        this.jobFailures = Counter.builder("dialer.dispatcher.lanes.job.failures")
                .description("lane jobs (dials, parkings, pauses, resumes, timers) that failed unexpectedly")
                .register(registry);
        this.parkFailures = Counter.builder("dialer.dispatcher.lanes.park.failures")
                .description("parking batches refused by something other than an outage, tried again later")
                .register(registry);
        this.parkedLanesUnread = Counter.builder("dialer.dispatcher.lanes.parked.lanes.unread")
                .description("assignments whose caller IDs' parked due times could not be read: what arrives for them "
                        + "may be dialled before records parked earlier")
                .register(registry);
    }

    void watch(Lanes lanes) {
        Gauge.builder("dialer.dispatcher.lanes.backlog", lanes, l -> l.sum(PartitionLanes::backlog))
                .register(registry);
        Gauge.builder("dialer.dispatcher.lanes.held", lanes, l -> l.sum(PartitionLanes::held)).register(registry);
        Gauge.builder("dialer.dispatcher.lanes.held.for.carrier", lanes, l -> l.sum(PartitionLanes::heldForCarrier))
                .description("lanes whose next call waits because every carrier of its route has its breaker open")
                .register(registry);
        Gauge.builder("dialer.dispatcher.lanes.oldest.wait", lanes, Lanes::oldestWaitSeconds)
                .baseUnit("seconds").register(registry);
        Gauge.builder("dialer.dispatcher.lanes.dials.in.flight", lanes, l -> l.permits().inUse()).register(registry);
        Gauge.builder("dialer.dispatcher.lanes.dials.waiting", lanes, l -> l.permits().waiting()).register(registry);
    }

    /** A trunk's gate was made: its limits, calls in progress, waiting lanes and starts, tagged by its name. */
    void watchTrunk(String name, TrunkGate trunk) {
        Gauge.builder("dialer.dispatcher.trunk.cps.limit", trunk, TrunkGate::currentCps).tag("trunk", name)
                .register(registry);
        Gauge.builder("dialer.dispatcher.trunk.in.flight", trunk, TrunkGate::inFlight).tag("trunk", name)
                .register(registry);
        Gauge.builder("dialer.dispatcher.trunk.concurrency.limit", trunk, TrunkGate::currentLimit)
                .tag("trunk", name).register(registry);
        Gauge.builder("dialer.dispatcher.trunk.waiting", trunk, TrunkGate::waiting).tag("trunk", name)
                .register(registry);
        FunctionCounter.builder("dialer.dispatcher.trunk.capacity.rejections", trunk,
                        TrunkGate::capacityRejections)
                .description("Capacity rejections the trunk's carrier answered; its limit halves once per congestion "
                        + "episode (dialer.dispatcher.trunk.concurrency.decreases)")
                .tag("trunk", name).register(registry);
        FunctionCounter.builder("dialer.dispatcher.trunk.concurrency.decreases", trunk, TrunkGate::limitDecreases)
                .description("Times capacity rejections halved the trunk's concurrency limit, once per congestion "
                        + "episode; a rebalance's re-division is not one")
                .tag("trunk", name).register(registry);
        startedCounter(name);
    }

    private Counter startedCounter(String trunk) {
        return started.computeIfAbsent(trunk, name -> registry.counter("dialer.dispatcher.dials.started",
                "trunk", name));
    }

    void parked(Parked reason, int count) {
        parked.get(reason).increment(count);
    }

    /** A start was decided at {@code decidedAt} (the limits' clock). */
    void started(String trunk, long decidedAt) {
        startedCounter(trunk).increment();
    }

    void waited(Duration wait) {
        waited.record(wait);
    }

    /** A start {@code trunk} granted was not made, for {@code reason}; its token went as {@code token} says. */
    void unusedGrant(String trunk, UnusedGrant reason, TrunkGate.GrantToken token) {
        registry.counter("dialer.dispatcher.trunk.grants.unused", "trunk", trunk,
                "reason", reason.name().toLowerCase(Locale.ROOT),
                "token", token.name().toLowerCase(Locale.ROOT)).increment();
    }

    /** A command the gate will end was handed over unpaced. */
    void unpaced(Ends reason, Unpaced at) {
        unpaced.get(reason).get(at).increment();
    }

    void releasedOnRevoke(int count) {
        slotsReleased.increment(count);
    }

    void countedOnAssign(int count) {
        slotsCounted.increment(count);
    }

    void countedEndedElsewhere(int count) {
        slotsEndedElsewhere.increment(count);
    }

    void jobFailed() {
        jobFailures.increment();
    }

    void parkFailed() {
        parkFailures.increment();
    }

    void recounted(Recount outcome) {
        recounts.get(outcome).increment();
    }

    void readAgain(PartitionLanes.ReadAgain went) {
        readAgain.get(went).increment();
    }

    void parkedLanesUnread() {
        parkedLanesUnread.increment();
    }

    void paused(int delta) {
        paused.addAndGet(delta);
    }

    /** Why a start a trunk granted was not made. */
    enum UnusedGrant {
        /** The lane's campaign was not due: another of its caller IDs had taken its token. */
        CAMPAIGN,
        /** The command was cancelled meanwhile: it goes to the dial-time gate unpaced. */
        CANCELED,
        /** The command's {@code valid_until} passed meanwhile: it goes to the dial-time gate unpaced. */
        EXPIRED,
        /** The command's number was put on its account's DNC list meanwhile: it goes to the gate unpaced. */
        BLOCKED,
        /** Every dial permit was taken: the lane waits for one, and asks the trunk again once it holds it. */
        PERMIT
    }

    /** Where a command the gate will end left the lanes' pacing: as it arrived, or from its lane (head, or parking). */
    enum Unpaced {
        ADMISSION, LANE
    }

    /** Why the dial-time gate will end a command rather than dial it, so that the lanes do not pace it. */
    enum Ends {
        /** Its request or campaign is cancelled ({@code canceled}). */
        CANCELED,
        /** Its {@code valid_until} has passed ({@code expired}). */
        EXPIRED,
        /** Its number is on its account's DNC list ({@code blocked}). */
        BLOCKED;

        UnusedGrant unusedGrant() {
            return switch (this) {
                case CANCELED -> UnusedGrant.CANCELED;
                case EXPIRED -> UnusedGrant.EXPIRED;
                case BLOCKED -> UnusedGrant.BLOCKED;
            };
        }
    }

    /** Why a record was parked rather than held in its lane. */
    /** What a look at a lane's parked backlog found ({@code PartitionLanes#recount}). */
    enum Recount {
        /** What is left ends sooner than the lane had handed out: what arrives is parked that much sooner. */
        MOVED,
        /** What is left ends where the lane had handed out. */
        KEPT,
        /** The schedule could not be read in time: what arrives parks as it would have. */
        FAILED,
        /** The lane's rate fell well below its backlog's spacing: what is left was spaced anew at it, later. */
        SLOWED
    }

    enum Parked {
        /** It arrived at a lane already holding {@code park-after} of waiting at the pace the lane starts calls. */
        BACKLOG,
        /** It arrived while records its lane parked earlier had not all come back: it goes behind them. */
        BEHIND,
        /** Its lane's head waited {@code park-after} at the trunk for its turn; the lane kept what it could start. */
        TRUNK,
        /** No carrier of its lane's route took calls for {@code park-after}. */
        NO_CARRIER,
        /**
         * Its lane's head could start only more than {@code park-after} from then, for its caller ID's rate or its
         * campaign's: the lane was parked whole, due from when the head may start.
         */
        WAIT
    }
}
