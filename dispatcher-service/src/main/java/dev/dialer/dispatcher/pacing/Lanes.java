package dev.dialer.dispatcher.pacing;

import dev.dialer.common.kafka.PartitionFlow;
import java.time.Clock;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Builds each partition's {@link PartitionLanes} and holds what they share: the limits (caller-ID rates from
 * {@link CallerLimits}, campaign rates, the {@link TrunkGate}), the parking lot, the metrics, and this dispatcher's
 * share of the partitions, which scales the trunk-wide limits.
 */
@Component
public class Lanes {

    private final LanesProperties properties;
    private final PacingProperties pacing;
    private final CallerLimits callerLimits;
    private final ParkingLot parking;
    private final Clock clock;
    private final Scheduler scheduler;
    private final TrunkGate trunk;
    private final PacingMetrics metrics;
    private final Map<String, PaceBucket> campaigns = new ConcurrentHashMap<>();
    private final Set<PartitionLanes> live = ConcurrentHashMap.newKeySet();
    private final Set<Integer> owned = ConcurrentHashMap.newKeySet();

    @Autowired
    Lanes(LanesProperties properties, PacingProperties pacing, CallerLimits callerLimits, ParkingLot parking,
          Clock clock, PacingMetrics metrics) {
        this(properties, pacing, callerLimits, parking, clock, metrics, Schedulers.parallel());
    }

    Lanes(LanesProperties properties, PacingProperties pacing, CallerLimits callerLimits, ParkingLot parking,
          Clock clock, PacingMetrics metrics, Scheduler scheduler) {
        this.properties = properties;
        this.pacing = pacing;
        this.callerLimits = callerLimits;
        this.parking = parking;
        this.clock = clock;
        this.scheduler = scheduler;
        this.metrics = metrics;
        this.trunk = new TrunkGate(pacing.trunkCps(), pacing.trunkConcurrency(), pacing.slotTimeLimit().toNanos(),
                () -> scheduler.now(java.util.concurrent.TimeUnit.NANOSECONDS));
        metrics.watch(this);
    }

    /** The lanes of one partition; its {@link PartitionLanes#jobs} must be subscribed before records are admitted. */
    public PartitionLanes forPartition(String topic, int partition, PartitionFlow flow, LaneWork work) {
        PartitionLanes lanes = new PartitionLanes(topic, partition, this, flow, work, scheduler);
        live.add(lanes);
        return lanes;
    }

    /** The partition's pipeline ended: its lanes no longer count in the gauges. */
    public void closed(PartitionLanes lanes) {
        live.remove(lanes);
    }

    /** Partitions were assigned or revoked: the trunk-wide limits are re-divided by the share now owned. */
    public void owns(Set<Integer> assigned, Set<Integer> revoked, int partitionCount) {
        owned.removeAll(revoked);
        owned.addAll(assigned);
        if (partitionCount > 0 && !owned.isEmpty()) {
            trunk.share((double) owned.size() / partitionCount);
        }
    }

    /** The trunk's limits as this dispatcher applies them; terminal callbacks release its slots. */
    public TrunkGate trunk() {
        return trunk;
    }

    long earliest(PartitionLanes.Lane lane, LaneTicket ticket, long now) {
        long at = lane.bucket == null ? now : lane.bucket.earliest(now);
        PaceBucket campaign = campaignBucket(ticket);
        if (campaign != null) {
            at = Math.max(at, campaign.earliest(now));
        }
        return Math.max(at, trunk.earliest(now));
    }

    /**
     * Starts the lane's head at {@code now} if every limit allows it: the shared buckets (campaign, then trunk rate
     * and slot) are taken atomically, each checked again as it is taken, and the caller ID's bucket last. A campaign
     * token taken when the trunk then refuses is lost, which errs on the side of dialling less.
     *
     * @return {@code now} when started; {@link TrunkGate#QUEUED} when queued for a trunk slot ({@code wake} runs when
     *         one frees); otherwise the time to try again
     */
    long tryStart(PartitionLanes.Lane lane, LaneTicket ticket, long now, Runnable wake) {
        PaceBucket campaign = campaignBucket(ticket);
        if (campaign != null) {
            long at = campaign.tryTake(now);
            if (at != now) {
                return at;
            }
        }
        long trunkResult = trunk.acquireOrWait(ticket.slotKey(), ticket.command().accountId(), now, wake);
        if (trunkResult != now) {
            return trunkResult;
        }
        if (lane.bucket != null) {
            lane.bucket.take(now);
        }
        metrics.started();
        return now;
    }

    PaceBucket callerBucket(String accountId, String callerId) {
        double cps = callerLimits.callerCps(accountId, callerId);
        return cps > 0 ? new PaceBucket(cps, callerLimits.callerBurst(accountId, callerId)) : null;
    }

    private PaceBucket campaignBucket(LaneTicket ticket) {
        String campaign = ticket.command().campaign();
        if (campaign == null) {
            return null;
        }
        Double cps = pacing.campaignCps().get(campaign);
        return cps == null || cps <= 0 ? null : campaigns.computeIfAbsent(campaign, name -> new PaceBucket(cps, 1));
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
        long now = scheduler.now(java.util.concurrent.TimeUnit.NANOSECONDS);
        long oldest = live.stream().mapToLong(PartitionLanes::oldestAdmittedAt).min().orElse(Long.MAX_VALUE);
        return oldest == Long.MAX_VALUE ? 0 : (now - oldest) / 1e9;
    }
}
