package dev.dialer.dispatcher.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CommandReader;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.PartitionFlow;
import dev.dialer.dispatcher.TestClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.scheduler.VirtualTimeScheduler;

/** The lanes of one partition on a virtual clock: pacing, independence of caller IDs, and in-order commits. */
class PartitionLanesTest {

    private static final long SECOND = 1_000_000_000L;
    private static final String A = "+4930000001";
    private static final String B = "+4930000002";

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final List<Started> started = Collections.synchronizedList(new ArrayList<>());
    private final List<Long> acknowledged = Collections.synchronizedList(new ArrayList<>());
    private final CommandReader reader = new CommandReader();
    private Disposable running;
    private long nextOffset;
    private boolean placed;
    private Lanes built;
    /** The calls in flight a gained partition's count finds; none counted when null. */
    private InFlightCalls inFlightCalls;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    /** Caller IDs whose calls no carrier would take now (every breaker of their route open). */
    private final Set<String> downCallerIds = ConcurrentHashMap.newKeySet();
    /** Campaigns the dial-time gate would end {@code canceled}. */
    private final Set<String> cancelledCampaigns = ConcurrentHashMap.newKeySet();
    /** Numbers on their account's DNC list: the dial-time gate would end their commands {@code blocked}. */
    private final Set<String> dncNumbers = ConcurrentHashMap.newKeySet();
    /** The accounts' own caller-ID rates, as their settings say now. */
    private final Map<String, Double> accountCps = new ConcurrentHashMap<>();
    /** Where lanes park records; none unless a test parks. */
    private ParkingLot parking;
    /** The clock of the parking lot's due times: the virtual one. */
    private final Clock clock = TestClock.following(time);

    @AfterEach
    void stop() {
        if (running != null) {
            running.dispose();
        }
        time.dispose();
    }

    @Test
    void neverStartsMoreThanRatePlusBurstOfOneCallerIdInAnyOneSecondWindow() {
        PartitionLanes lanes = lanes(pacing(10, 2, 0, Map.of()), new LanesProperties(1000, 50, Duration.ofMinutes(1), 150));
        for (int i = 0; i < 200; i++) {
            admit(lanes, A);
        }

        time.advanceTimeBy(Duration.ofSeconds(30));

        assertThat(started).hasSize(200);
        assertThat(PaceBucketTest.maxInAnyWindow(startsOf(A), SECOND)).isLessThanOrEqualTo(10 + 2);
        assertThat(acknowledged).last().isEqualTo(199L);
    }

    @Test
    void aLaneWithABacklogFollowsItsAccountsRateAsTheSettingsChangeWithoutABurstAtTheChange() {
        PartitionLanes lanes = lanes(pacing(10, 1, 0, Map.of()),
                new LanesProperties(1000, 50, Duration.ofMinutes(5), 150));
        for (int i = 0; i < 200; i++) {
            admit(lanes, A);
        }
        time.advanceTimeBy(Duration.ofMillis(1_950));
        assertThat(startsOf(A)).as("the default rate, before the account's settings are known").hasSize(20);
        long lastAtDefault = startsOf(A).get(19);

        // The account's settings are read, or changed: its caller IDs may make 1 call a second.
        accountCps.put("acc", 1.0);
        time.advanceTimeBy(Duration.ofMillis(10_050));
        List<Long> slow = startsOf(A).subList(20, startsOf(A).size());
        assertThat(slow).hasSize(10);
        assertThat(slow.get(0) - lastAtDefault).as("a full new interval after the last start").isEqualTo(SECOND);
        assertThat(PaceBucketTest.maxInAnyWindow(startsOf(A).subList(19, startsOf(A).size()), SECOND))
                .isLessThanOrEqualTo(1 + 1);

        // Raised: from the start its timer was set for at the lower rate, the lane goes at the new one.
        accountCps.put("acc", 5.0);
        time.advanceTimeBy(Duration.ofSeconds(2));
        assertThat(startsOf(A)).hasSizeGreaterThan(32);
        assertThat(startsOf(A).get(32) - startsOf(A).get(31)).isEqualTo(SECOND / 5);
        assertThat(started).extracting(Started::offset).isSorted();
    }

    @Test
    void aCallerIdThatTwoAccountsShareIsPacedAtTheStricterOfTheirRates() {
        accountCps.put("slow", 1.0);
        accountCps.put("fast", 10.0);
        PartitionLanes lanes = lanes(pacing(10, 1, 0, Map.of()),
                new LanesProperties(1000, 50, Duration.ofMinutes(5), 150));
        for (int i = 0; i < 10; i++) {
            admit(lanes, "fast", A);
        }
        admit(lanes, "slow", A);
        time.advanceTimeBy(Duration.ofMillis(5_500));

        assertThat(startsOf(A)).as("one call at once, then one a second").hasSize(6);
        assertThat(PaceBucketTest.maxInAnyWindow(startsOf(A), SECOND)).isLessThanOrEqualTo(1 + 1);
    }

    @Test
    void aCallGivenALongTimeLimitKeepsItsTrunkSlotPastTheSlotTimeLimit() {
        placed = true;
        PacingProperties pacing = new PacingProperties(0, 1, Map.of(), Map.of(), Map.of(), 0, 1,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ofMinutes(4));
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofMinutes(5), 150));
        // A three-hour call, whose final status is lost: the trunk's one channel stays taken while it may talk.
        admitWithOptions(lanes, A, "{\"timeout\":120,\"timeLimit\":10800}");
        admit(lanes, B);

        time.advanceTimeBy(Duration.ofHours(3));
        assertThat(startsOf(B)).as("the long call may still be talking").isEmpty();
        assertThat(built.trunks().gate(Trunks.DEFAULT).inFlight()).isEqualTo(1);

        time.advanceTimeBy(Duration.ofMinutes(6).plusSeconds(1));
        assertThat(startsOf(B)).as("its ring timeout, time limit and margin have passed").hasSize(1);
    }

    @Test
    void holdsALaneWhileNoCarrierOfItsRouteTakesCallsAndStartsItInOrderOnceOneDoes() {
        downCallerIds.add(A);
        PartitionLanes lanes = lanes(pacing(10, 1, 0, Map.of()), new LanesProperties(1000, 50, Duration.ofMinutes(1), 150));
        for (int i = 0; i < 20; i++) {
            admit(lanes, i % 2 == 0 ? A : B);
        }

        time.advanceTimeBy(Duration.ofSeconds(30));

        // B's route has a carrier: its ten are dialled. A's are not even tried, and nothing of A's is committed.
        assertThat(startsOf(B)).hasSize(10);
        assertThat(startsOf(A)).isEmpty();
        assertThat(acknowledged).isEmpty();
        assertThat(registry.get("dialer.dispatcher.lanes.held.for.carrier").gauge().value()).isEqualTo(1.0);

        downCallerIds.remove(A);
        time.advanceTimeBy(Duration.ofSeconds(3));

        assertThat(startsOf(A)).hasSize(10).allMatch(at -> at >= 30 * SECOND);
        assertThat(started.stream().filter(s -> s.callerId().equals(A)).map(Started::offset).toList())
                .isSorted();
        assertThat(PaceBucketTest.maxInAnyWindow(startsOf(A), SECOND)).isLessThanOrEqualTo(10 + 1);
        assertThat(acknowledged).last().isEqualTo(19L);
        assertThat(registry.get("dialer.dispatcher.lanes.held.for.carrier").gauge().value()).isZero();
    }

    @Test
    void aCommandPastItsValidUntilGoesToTheGateAtOnceThoughItsLaneIsHeldForItsCarrier() {
        downCallerIds.add(A);
        List<ParkingLot.Parked> parked = parkingInto();
        PartitionLanes lanes = lanes(pacing(10, 1, 0, Map.of()), new LanesProperties(1000, 50, Duration.ofSeconds(5), 150));
        admitWithField(lanes, A, "\"valid_until\":\"" + clock.instant().plusSeconds(2) + "\"");
        admitWithField(lanes, A, "\"valid_until\":\"" + clock.instant().minusSeconds(1) + "\"");
        admit(lanes, A);

        time.advanceTimeBy(Duration.ofMillis(500));
        // Expired as it arrives: past the held lane to the gate, which ends it expired.
        assertThat(started).extracting(Started::offset).containsExactly(1L);

        time.advanceTimeBy(Duration.ofSeconds(2));
        // Expired while it waited at the head of the held lane: to the gate when the lane looks again, not parked
        // and published again until a carrier takes calls.
        assertThat(started).extracting(Started::offset).containsExactly(1L, 0L);

        time.advanceTimeBy(Duration.ofSeconds(5));
        // The one without a valid_until is held, then parked with the lane: never dialled while no carrier takes it.
        assertThat(started).extracting(Started::offset).containsExactly(1L, 0L);
        assertThat(parked).extracting(p -> p.command().requestId()).containsExactly("r-2");
        assertThat(registry.get("dialer.dispatcher.lanes.unpaced").tag("reason", "expired").tag("at", "admission")
                .counter().count()).isEqualTo(1.0);
        assertThat(registry.get("dialer.dispatcher.lanes.unpaced").tag("reason", "expired").tag("at", "lane")
                .counter().count()).isEqualTo(1.0);
        assertThat(registry.get("dialer.dispatcher.dials.started").counter().count()).isZero();
        assertThat(acknowledged).as("every record is done with").last().isEqualTo(2L);
    }

    @Test
    void aLaneHeldForItsCarrierLongerThanParkAfterIsParkedSoThePartitionsCommitsGoOn() {
        downCallerIds.add(A);
        List<ParkingLot.Parked> parked = parkingInto();
        PartitionLanes lanes = lanes(pacing(10, 1, 0, Map.of()), new LanesProperties(1000, 50, Duration.ofSeconds(5), 150));
        for (int i = 0; i < 20; i++) {
            admit(lanes, i % 2 == 0 ? A : B);
        }

        time.advanceTimeBy(Duration.ofSeconds(3));
        assertThat(parked).as("held, not yet for park-after").isEmpty();
        assertThat(acknowledged).as("A's head holds the partition's commits").isEmpty();

        time.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(startsOf(A)).isEmpty();
        assertThat(startsOf(B)).hasSize(10);
        assertThat(parked).extracting(p -> p.command().callerId()).hasSize(10).containsOnly(A);
        assertThat(parked).extracting(p -> p.command().requestId())
                .as("in the lane's order").containsExactly("r-0", "r-2", "r-4", "r-6", "r-8", "r-10", "r-12", "r-14",
                        "r-16", "r-18");
        assertThat(acknowledged).as("every record is done with: dialled or parked").last().isEqualTo(19L);

        // While A's parked records are due to come back, what arrives for A is parked behind them at once.
        admit(lanes, A);
        time.advanceTimeBy(Duration.ofSeconds(2));
        assertThat(parked).hasSize(11);
        assertThat(parked.get(10).dueAt()).isAfter(parked.get(9).dueAt());
        assertThat(acknowledged).last().isEqualTo(20L);

        // The route takes calls again and A's parked records are back: A's next call is dialled.
        downCallerIds.remove(A);
        time.advanceTimeBy(Duration.ofSeconds(4));
        admit(lanes, A);
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(startsOf(A)).hasSize(1);
        assertThat(parked).hasSize(11);
    }

    @Test
    void aFastCallerIdsBacklogBeyondAQuarterOfTheWindowIsParkedSoThePartitionKeepsFetching() {
        List<ParkingLot.Parked> parked = parkingInto();
        // 100 calls a second: ten seconds of waiting would be 1,000 records, the whole window.
        PartitionLanes lanes = lanes(pacing(100, 1, 0, Map.of()),
                new LanesProperties(1000, 50, Duration.ofSeconds(10), 150));
        for (int i = 0; i < 1_500; i++) {
            admit(lanes, A);
        }

        time.advanceTimeBy(Duration.ofMillis(500));

        assertThat(registry.get("dialer.dispatcher.lanes.backlog").gauge().value())
                .as("a quarter of the window at most").isLessThanOrEqualTo(1000 / 4);
        assertThat(parked).hasSizeGreaterThanOrEqualTo(1_500 - 1000 / 4 - 50);
        assertThat(registry.get("dialer.dispatcher.lanes.paused").gauge().value())
                .as("the partition fetches the caller IDs behind it").isZero();
        assertThat(startsOf(A)).hasSizeBetween(50, 51);
    }

    @Test
    void aLaneInASlowCampaignHoldsParkAfterOfWaitingAtTheCampaignsRate() {
        List<ParkingLot.Parked> parked = parkingInto();
        // The caller ID may make 10 calls a second, its campaign 1: ten seconds of waiting is ten records, not 100.
        PacingProperties pacing = new PacingProperties(10, 1, Map.of(), Map.of(), Map.of("slow", 1.0), 0, 0,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ofMinutes(4));
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofSeconds(10), 150));
        for (int i = 0; i < 60; i++) {
            admitInCampaign(lanes, A, "slow");
        }

        time.advanceTimeBy(Duration.ofMillis(100));

        assertThat(registry.get("dialer.dispatcher.lanes.backlog").gauge().value()).isBetween(9.0, 10.0);
        assertThat(parked).hasSizeBetween(49, 50);
        assertThat(parked).extracting(p -> p.command().callerId()).containsOnly(A);
    }

    @Test
    void aLaneWhoseHeadWaitsLongerThanParkAfterForItsCallerIdsRateIsParkedWholeSoThePartitionsCommitsGoOn() {
        Map<String, ParkingLot.Parked> schedule = scheduleInto();
        List<String> dialled = Collections.synchronizedList(new ArrayList<>());
        Map<String, Long> dialledAt = new ConcurrentHashMap<>();
        // One call every 100 s for the caller ID; park-after 10 s.
        PartitionLanes lanes = lanes(pacing(0.01, 1, 0, Map.of()),
                new LanesProperties(1000, 50, Duration.ofSeconds(10), 150),
                (record, ticket) -> Mono.fromRunnable(() -> {
                    dialled.add(ticket.command().requestId());
                    dialledAt.put(ticket.command().requestId(), time.now(TimeUnit.MILLISECONDS));
                    record.acknowledge();
                }).thenReturn(LaneWork.Placement.NOT_PLACED));
        for (int request = 0; request < 4; request++) {
            admitRequest(lanes, "r-" + request, Map.of());
        }

        // r-0 starts at once; r-1 may start only in 100 s: parked, due half of park-after before its turn, the rest
        // behind it at the caller ID's rate.
        assertThat(dialled).containsExactly("r-0");
        assertThat(acknowledged).as("the partition commits past the waiting lane at once").last().isEqualTo(3L);
        assertThat(lanes.held()).isZero();
        assertThat(schedule.get("r-1").dueAt()).isEqualTo(clock.instant().plusSeconds(95));
        assertThat(schedule.get("r-2").dueAt()).isEqualTo(clock.instant().plusSeconds(195));
        assertThat(schedule.get("r-3").dueAt()).isEqualTo(clock.instant().plusSeconds(295));
        assertThat(registry.get("dialer.dispatcher.lanes.parked").tag("reason", "wait").counter().count())
                .isEqualTo(1.0);

        int mostHeld = 0;
        for (int tenth = 0; tenth < 3_100; tenth++) {
            publishDue(lanes, schedule);
            mostHeld = Math.max(mostHeld, lanes.held());
            time.advanceTimeBy(Duration.ofMillis(100));
        }

        assertThat(dialled).as("in order, each once").containsExactly("r-0", "r-1", "r-2", "r-3");
        assertThat(dialledAt).as("each in its turn at the caller ID's rate").containsEntry("r-1", 100_000L)
                .containsEntry("r-2", 200_000L).containsEntry("r-3", 300_000L);
        assertThat(mostHeld).as("only a record back for its turn waits in the lane").isEqualTo(1);
        assertThat(schedule).isEmpty();
    }

    @Test
    void aLaneWhoseHeadWaitsLongerThanParkAfterForItsCampaignIsParkedAndDialledInOrderAtTheCampaignsRate() {
        Map<String, ParkingLot.Parked> schedule = scheduleInto();
        // The caller ID may make 10 calls a second, its campaign one every 50 s; park-after 10 s.
        PartitionLanes lanes = threeCallsOfATrickleCampaign();
        admit(lanes, B);

        assertThat(started).extracting(Started::offset).containsExactly(0L, 3L);
        assertThat(acknowledged).as("committed past the campaign's waiting calls").last().isEqualTo(3L);
        assertThat(schedule).hasSize(2);
        assertThat(schedule.get("r-1").dueAt()).isEqualTo(clock.instant().plusSeconds(45));
        assertThat(schedule.get("r-2").dueAt()).as("spaced at the campaign's rate, not the caller ID's")
                .isEqualTo(clock.instant().plusSeconds(95));

        publishDueCommandsFor(lanes, schedule, 1_100);

        assertThat(startsOf(A)).containsExactly(0L, 50 * SECOND, 100 * SECOND);
        assertThat(schedule).isEmpty();
    }

    @Test
    void aCallOfAnotherCampaignParkedBehindALaneParkedForItsCampaignIsSpacedAtItsOwnPace() {
        Map<String, ParkingLot.Parked> schedule = scheduleInto();
        PartitionLanes lanes = threeCallsOfATrickleCampaign();
        assertThat(schedule.get("r-2").dueAt()).isEqualTo(clock.instant().plusSeconds(95));

        // Two calls of the caller ID outside the campaign: behind the parked ones, at the caller ID's 10 a second,
        // not at the campaign's one in 50 s that the lane's last head had.
        admitInCampaign(lanes, A, "open");
        admitInCampaign(lanes, A, "open");

        assertThat(schedule.get("r-4").dueAt()).isEqualTo(schedule.get("r-3").dueAt().plusMillis(100));
        assertThat(schedule.get("r-3").dueAt()).isBefore(clock.instant().plusSeconds(96));
    }

    @Test
    void callerIdsSharingARateLimitedCampaignHoldParkAfterOfTheirShareSoThePartitionKeepsFetching() {
        Map<String, ParkingLot.Parked> schedule = scheduleInto();
        // 120 caller IDs (10 CPS each) share a campaign of 20 calls a second: each gets one call every 6 s, so
        // park-after (10 s) is one call per lane, not the 100 a lane alone in the campaign would start in 10 s.
        PacingProperties pacing = campaignPacing("sale", 20.0, 0, 0);
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofSeconds(10), 150));
        List<Runnable> topic = new ArrayList<>();
        for (int call = 0; call < 20; call++) {
            for (int caller = 0; caller < 120; caller++) {
                String callerId = "+49301000" + (400 + caller);
                topic.add(() -> admitInCampaign(lanes, callerId, "sale"));
            }
        }
        // Another account's call behind the campaign's 2,400.
        topic.add(() -> admit(lanes, "other", B));

        // Fetched as a consumer would: only while the partition is not paused.
        int fetched = 0;
        double mostPaused = 0;
        int mostHeld = 0;
        for (int tenth = 0; tenth < 1_300; tenth++) {
            while (fetched < topic.size() && registry.get("dialer.dispatcher.lanes.paused").gauge().value() == 0) {
                topic.get(fetched++).run();
            }
            mostPaused = Math.max(mostPaused, registry.get("dialer.dispatcher.lanes.paused").gauge().value());
            mostHeld = Math.max(mostHeld, lanes.held());
            publishDueCommands(lanes, schedule);
            time.advanceTimeBy(Duration.ofMillis(100));
        }

        assertThat(mostPaused).as("the partition never stops fetching").isZero();
        assertThat(startsOf(B)).as("the other account's call is fetched and dialled at once").hasSize(1)
                .allMatch(at -> at < SECOND);
        assertThat(mostHeld).as("about one call per lane, not 1,000 in all").isLessThan(300);
        long inAMinute = started.stream().filter(s -> !s.callerId().equals(B) && s.at() < 60 * SECOND).count();
        assertThat(inAMinute).as("parked at its share, the backlog still keeps the campaign at its rate")
                .isBetween(1_100L, 1_201L);
        assertThat(started).as("every call dialled").hasSize(2_401);
        assertThat(schedule).isEmpty();
    }

    @Test
    void aCallOfHigherPriorityStartsBeforeTheLanesWaitingCallsButAfterItsHead() {
        PartitionLanes lanes = lanes(pacing(1, 1, 0, Map.of()), new LanesProperties(1000, 50, Duration.ofMinutes(1), 150));
        admitWithPriority(lanes, A, 0);
        admitWithPriority(lanes, A, 0);
        admitWithPriority(lanes, A, 0);
        admitWithPriority(lanes, A, 5);
        admitWithPriority(lanes, A, 9);
        admitWithPriority(lanes, A, 5);

        time.advanceTimeBy(Duration.ofSeconds(10));

        // Offset 0 started at once, and offset 1 was then the head, waiting for the next second: the others by
        // priority, ties in their order of arrival.
        assertThat(started).extracting(Started::offset).containsExactly(0L, 1L, 4L, 3L, 5L, 2L);
        assertThat(acknowledged).as("committed past all six").last().isEqualTo(5L);
    }

    @Test
    void aParkingBatchRefusedForAnotherReasonThanAnOutageIsTriedAgainAndThePartitionGoesOn() {
        downCallerIds.add(A);
        List<ParkingLot.Parked> parked = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger tries = new AtomicInteger();
        parking = new ParkingLot(null) {
            @Override
            Mono<Void> parkAll(List<Parked> batch) {
                // Refused once, as a defect would be (not an outage, so not retried by InfraRetry).
                return tries.getAndIncrement() == 0 ? Mono.error(new IllegalArgumentException("refused"))
                        : Mono.fromRunnable(() -> parked.addAll(batch));
            }
        };
        PartitionLanes lanes = lanes(pacing(10, 1, 0, Map.of()), new LanesProperties(1000, 50, Duration.ofSeconds(5), 150));
        for (int i = 0; i < 20; i++) {
            admit(lanes, i % 2 == 0 ? A : B);
        }

        time.advanceTimeBy(Duration.ofSeconds(6));
        assertThat(tries).as("the batch was refused").hasValue(1);
        assertThat(parked).isEmpty();
        assertThat(registry.get("dialer.dispatcher.lanes.park.failures").counter().count()).isEqualTo(1.0);

        time.advanceTimeBy(PartitionLanes.PARK_RETRY);
        assertThat(parked).extracting(p -> p.command().requestId()).as("all of it, in the lane's order")
                .containsExactly("r-0", "r-2", "r-4", "r-6", "r-8", "r-10", "r-12", "r-14", "r-16", "r-18");
        assertThat(acknowledged).last().isEqualTo(19L);

        // The partition's jobs still run: a record admitted now is dialled.
        admit(lanes, B);
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(startsOf(B)).hasSize(11);
        assertThat(registry.get("dialer.dispatcher.lanes.job.failures").counter().count()).isZero();
    }

    @Test
    void parksWhatWaitsLongAtABindingTrunkSoThePartitionFetchesAgainAndAnotherAccountIsServedItsTurn() {
        List<ParkingLot.Parked> parked = parkingInto();
        // One trunk channel, two-minute calls: the trunk, not the caller IDs' 10 CPS, sets the pace.
        PacingProperties pacing = new PacingProperties(10, 1, Map.of(), Map.of(), Map.of(), 0, 1,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofSeconds(30), 150),
                (record, ticket) -> Mono.fromRunnable(() -> {
                    started.add(new Started(record.key(), time.now(TimeUnit.NANOSECONDS), record.offset()));
                    record.acknowledge();
                    time.schedule(() -> built.trunks().gate(Trunks.DEFAULT).release(ticket.slotKey(), true),
                            2, TimeUnit.MINUTES);
                }).thenReturn(LaneWork.Placement.PLACED));
        List<String[]> topic = new ArrayList<>();
        for (int call = 0; call < 100; call++) {
            for (int caller = 0; caller < 20; caller++) {
                topic.add(new String[] {"big", "+49301000" + (100 + caller)});
            }
        }
        topic.add(new String[] {"small", B});

        // Fetched as a consumer would: only while the partition is not paused.
        int fetched = 0;
        for (int second = 0; second < 10 * 60; second++) {
            while (fetched < topic.size() && registry.get("dialer.dispatcher.lanes.paused").gauge().value() == 0) {
                admit(lanes, topic.get(fetched)[0], topic.get(fetched)[1]);
                fetched++;
            }
            time.advanceTimeBy(Duration.ofSeconds(1));
        }

        assertThat(fetched).as("every record fetched").isEqualTo(topic.size());
        assertThat(registry.get("dialer.dispatcher.lanes.paused").gauge().value()).isZero();
        assertThat(started).as("one call every two minutes").hasSize(6);
        assertThat(started.stream().map(Started::callerId).toList().indexOf(B))
                .as("the small account's call gets its turn after one of the large account's").isBetween(0, 2);
        assertThat(parked).extracting(p -> p.command().accountId()).hasSizeGreaterThan(1900).containsOnly("big");
        assertThat(lanes.held()).as("at most each lane's head, queued at the trunk for its turn").isLessThanOrEqualTo(21);
    }

    @Test
    void aBacklogParkedWhileTheTrunkBindsComesBackAtTheCallerIdsRateNotTheTrunksWait() {
        List<ParkingLot.Parked> parked = parkingInto();
        // One trunk channel and 30-second calls for a while: the head waits at the trunk far longer than 1/5 s.
        PacingProperties pacing = new PacingProperties(5, 1, Map.of(), Map.of(), Map.of(), 0, 1,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofSeconds(10), 150),
                (record, ticket) -> Mono.fromRunnable(() -> {
                    started.add(new Started(record.key(), time.now(TimeUnit.NANOSECONDS), record.offset()));
                    record.acknowledge();
                    time.schedule(() -> built.trunks().gate(Trunks.DEFAULT).release(ticket.slotKey(), true),
                            30, TimeUnit.SECONDS);
                }).thenReturn(LaneWork.Placement.PLACED));
        for (int call = 0; call < 300; call++) {
            admit(lanes, "acc", A);
        }
        for (int second = 0; second < 90; second++) {
            time.advanceTimeBy(Duration.ofSeconds(1));
        }

        assertThat(parked).hasSizeGreaterThan(200);
        List<Instant> due = parked.stream().map(ParkingLot.Parked::dueAt).sorted().toList();
        Duration widest = Duration.ZERO;
        for (int i = 1; i < due.size(); i++) {
            Duration gap = Duration.between(due.get(i - 1), due.get(i));
            widest = gap.compareTo(widest) > 0 ? gap : widest;
        }
        assertThat(widest).as("spaced at the caller ID's 5 CPS: once the trunk frees, the lane dials at its rate")
                .isLessThanOrEqualTo(Duration.ofMillis(200));
    }

    @Test
    void aTrunkStartGrantedToACampaignThatIsNotDueGoesToTheOthersSharingTheTrunk() {
        // One trunk channel, one-second calls; a campaign at one call every 5 s over ten caller IDs, and another
        // account's calls: the campaign's lanes are granted starts they cannot use yet.
        PacingProperties pacing = campaignPacing("slow", 0.2, 0, 1);
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofMinutes(5), 150),
                (record, ticket) -> Mono.fromRunnable(() -> {
                    started.add(new Started(record.key(), time.now(TimeUnit.NANOSECONDS), record.offset()));
                    record.acknowledge();
                    time.schedule(() -> built.trunks().gate(Trunks.DEFAULT).release(ticket.slotKey(), true),
                            1, TimeUnit.SECONDS);
                }).thenReturn(LaneWork.Placement.PLACED));
        for (int call = 0; call < 5; call++) {
            for (int caller = 0; caller < 10; caller++) {
                admitInCampaign(lanes, "+49301000" + (200 + caller), "slow");
            }
        }
        String other = "+4930000003";
        for (int call = 0; call < 60; call++) {
            admit(lanes, "other", other);
        }

        for (int second = 0; second < 60; second++) {
            time.advanceTimeBy(Duration.ofSeconds(1));
        }

        assertThat(startsOf(other)).as("a grant the campaign cannot use is not held idle for its 10 s timeout")
                .hasSizeGreaterThanOrEqualTo(40);
        assertThat(started.size() - startsOf(other).size()).as("the campaign keeps its own rate").isBetween(10, 14);
    }

    @Test
    void aTrunkStartACampaignBouncesGivesItsTokenBackToTheOthersSharingTheTrunk() {
        // The trunk's rate binds (10 a second, no concurrency limit); a campaign at one call a second over ten caller
        // IDs queues at it beside another account's calls. Each of the campaign's grants past its one a second is
        // bounced: its token must go to the other account, not be lost.
        PacingProperties pacing = campaignPacing("slow", 1.0, 10, 0);
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofMinutes(5), 150));
        for (int call = 0; call < 30; call++) {
            for (int caller = 0; caller < 10; caller++) {
                admitInCampaign(lanes, "+49301000" + (300 + caller), "slow");
            }
        }
        List<String> others = new ArrayList<>();
        for (int caller = 0; caller < 10; caller++) {
            others.add("+49302000" + (300 + caller));
        }
        for (int call = 0; call < 40; call++) {
            for (String other : others) {
                admit(lanes, "other", other);
            }
        }

        time.advanceTimeBy(Duration.ofSeconds(20));

        List<Long> all = started.stream().map(Started::at).toList();
        long other = started.stream().filter(start -> others.contains(start.callerId())).count();
        assertThat(all.size() - other).as("the campaign keeps its own rate").isBetween(19L, 22L);
        assertThat(other).as("the rest of the trunk's 10 a second goes to the other account").isBetween(175L, 182L);
        assertThat(PaceBucketTest.maxInAnyWindow(all, SECOND)).as("the trunk's rate + burst")
                .isLessThanOrEqualTo(10 + 1);
        assertThat(registry.get("dialer.dispatcher.trunk.grants.unused").tag("trunk", Trunks.DEFAULT)
                .tag("reason", "campaign").tag("token", "given_back").counter().count()).isPositive();
    }

    @Test
    void aCampaignsRateHoldsAcrossItsCallerIdsAndIsDividedByTheShareOfPartitionsOwned() {
        PacingProperties pacing = campaignPacing("spring-sale", 4.0, 0, 0);
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofMinutes(1), 150));
        for (int i = 0; i < 40; i++) {
            admitInCampaign(lanes, i % 2 == 0 ? A : B, "spring-sale");
        }

        time.advanceTimeBy(Duration.ofSeconds(5));
        List<Long> alone = started.stream().map(Started::at).toList();
        assertThat(alone).hasSizeBetween(4 * 5 - 1, 4 * 5 + 2);
        assertThat(PaceBucketTest.maxInAnyWindow(alone, SECOND)).isLessThanOrEqualTo(4 + 1);

        // Another dispatcher joins: this one owns half the partitions, so half the campaign's rate is its own.
        built.owns(Set.of(0), Set.of(), 2);
        int before = started.size();
        time.advanceTimeBy(Duration.ofSeconds(6));
        List<Long> shared = started.stream().skip(before).map(Started::at).toList();
        assertThat(shared).hasSizeBetween(2 * 6 - 1, 2 * 6 + 2);
        assertThat(PaceBucketTest.maxInAnyWindow(shared, SECOND)).isLessThanOrEqualTo(2 + 1);
        assertThat(shared.get(0) - alone.get(alone.size() - 1)).as("the new rate's interval after the last start, "
                + "not a fresh bucket's start at once").isGreaterThanOrEqualTo(SECOND / 2);
    }

    @Test
    void twoAccountsCampaignsOfOneNameEachHaveTheRate() {
        PacingProperties pacing = campaignPacing("promo", 1.0, 0, 0);
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofMinutes(1), 150));
        for (int i = 0; i < 10; i++) {
            admitCommand(lanes, "acc-a", A, "+4915112345678", "\"campaign\":\"promo\",");
            admitCommand(lanes, "acc-b", B, "+4915112345678", "\"campaign\":\"promo\",");
        }

        time.advanceTimeBy(Duration.ofSeconds(5));

        // Each account's campaign at one a second: about 5 each in 5 s, not 5 between them.
        assertThat(started.stream().filter(start -> start.callerId().equals(A)).count()).isBetween(4L, 6L);
        assertThat(started.stream().filter(start -> start.callerId().equals(B)).count()).isBetween(4L, 6L);
    }

    @Test
    void keepsACampaignsRateWhenTheTrunkGrantsManyOfItsStartsAtOnce() {
        PacingProperties pacing = campaignPacing("spring-sale", 5.0, 0, 20);
        placed = true;
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofMinutes(10), 150));
        // Another account's calls hold every trunk slot.
        for (int caller = 0; caller < 20; caller++) {
            admit(lanes, "other", "+49302000" + (100 + caller));
        }
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(started).hasSize(20);
        // The campaign's calls, one per caller ID, all queue at the trunk.
        for (int caller = 0; caller < 20; caller++) {
            admitInCampaign(lanes, "+49301000" + (100 + caller), "spring-sale");
        }
        time.advanceTimeBy(Duration.ofSeconds(10));
        assertThat(started).hasSize(20);
        assertThat(built.trunks().gate(Trunks.DEFAULT).waiting()).isEqualTo(20);

        // Every slot frees together: the trunk grants twenty starts at once.
        for (int offset = 0; offset < 20; offset++) {
            built.trunks().gate(Trunks.DEFAULT).release("r-" + offset + "#1", true);
        }
        time.advanceTimeBy(Duration.ofSeconds(10));

        List<Long> campaign = started.stream().skip(20).map(Started::at).toList();
        assertThat(campaign).hasSize(20);
        assertThat(PaceBucketTest.maxInAnyWindow(campaign, SECOND)).isLessThanOrEqualTo(5 + 1);
    }

    @Test
    void reDividesTheTrunksLimitsWhenTheCommandsTopicGrows() {
        PacingProperties pacing = new PacingProperties(10, 1, Map.of(), Map.of(), Map.of(), 40, 40,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        lanes(pacing, new LanesProperties(1000, 50, Duration.ofMinutes(1), 150));
        built.owns(Set.of(0, 1), Set.of(), 4);
        assertThat(built.trunks().gate(Trunks.DEFAULT).currentCps()).isEqualTo(20.0);
        assertThat(built.trunks().gate(Trunks.DEFAULT).currentLimit()).isEqualTo(20);

        // Four more partitions (the rebalance they bring on reads the new count): the two owned are a quarter now.
        built.owns(Set.of(), Set.of(), 8);

        assertThat(built.trunks().gate(Trunks.DEFAULT).currentCps()).isEqualTo(10.0);
        assertThat(built.trunks().gate(Trunks.DEFAULT).currentLimit()).isEqualTo(10);
        built.owns(Set.of(2), Set.of(), 8);
        assertThat(built.trunks().gate(Trunks.DEFAULT).currentCps()).isEqualTo(15.0);
    }

    @Test
    void aCountOfCallsInFlightThatComesInAfterItsPartitionWasRevokedHoldsNoSlot() {
        PacingProperties pacing = new PacingProperties(0, 1, Map.of(), Map.of(), Map.of(), 0, 10,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        List<Sinks.One<List<TrunkGate.CountedCall>>> counts = new ArrayList<>();
        inFlightCalls = (partitions, partitionCount) -> {
            Sinks.One<List<TrunkGate.CountedCall>> count = Sinks.one();
            counts.add(count);
            return count.asMono().flatMapIterable(calls -> calls);
        };
        lanes(pacing, new LanesProperties(1000, 50, Duration.ofMinutes(1), 150));
        TrunkGate trunk = built.trunks().gate(Trunks.DEFAULT);

        // Partition 3 gained, its count slow; revoked before the count is in (another dispatcher joined).
        built.owns(Set.of(3), Set.of(), 4);
        built.owns(Set.of(), Set.of(3), 4);
        counts.get(0).tryEmitValue(List.of(new TrunkGate.CountedCall("gone#1", 3, SECOND)));
        assertThat(trunk.holds("gone#1")).as("its statuses go to the new owner").isFalse();

        // Gained, revoked and gained again: only the last assignment's count holds slots.
        built.owns(Set.of(3), Set.of(), 4);
        built.owns(Set.of(), Set.of(3), 4);
        built.owns(Set.of(3), Set.of(), 4);
        counts.get(1).tryEmitValue(List.of(new TrunkGate.CountedCall("ended-elsewhere#1", 3, SECOND)));
        counts.get(2).tryEmitValue(List.of(new TrunkGate.CountedCall("ringing#1", 3, SECOND)));

        assertThat(trunk.holds("ended-elsewhere#1")).isFalse();
        assertThat(trunk.holds("ringing#1")).isTrue();
        assertThat(trunk.inFlight()).isEqualTo(1);
    }

    @Test
    void callsInFlightOnAGainedPartitionAreCountedAgainForThePreviousOwnersDialsStillUnderWay() {
        PacingProperties pacing = new PacingProperties(0, 1, Map.of(), Map.of(), Map.of(), 0, 10,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        List<Set<Integer>> counted = Collections.synchronizedList(new ArrayList<>());
        inFlightCalls = (partitions, partitionCount) -> {
            counted.add(partitions);
            // The previous owner's dial claims its attempt after the first count.
            return Flux.fromIterable(counted.size() == 1 ? List.of()
                    : List.of(new TrunkGate.CountedCall("ringing#1", 3, SECOND),
                    new TrunkGate.CountedCall("claimed-late#1", 3, 0)));
        };
        lanes(pacing, new LanesProperties(1000, 50, Duration.ofMinutes(1), 150));
        TrunkGate trunk = built.trunks().gate(Trunks.DEFAULT);
        built.owns(Set.of(3), Set.of(), 4);
        assertThat(trunk.inFlight()).isZero();

        time.advanceTimeBy(Lanes.RECOUNT_AFTER);

        assertThat(counted).containsExactly(Set.of(3), Set.of(3));
        assertThat(trunk.holds("claimed-late#1")).isTrue();
        assertThat(trunk.inFlight()).isEqualTo(2);

        // Gained and lost before the second count is due: it is not made.
        built.owns(Set.of(2), Set.of(), 4);
        built.owns(Set.of(), Set.of(2), 4);
        time.advanceTimeBy(Lanes.RECOUNT_AFTER);
        assertThat(counted).hasSize(3);
    }

    @Test
    void aCountedCallWhoseAttemptThePreviousOwnerEndedGivesItsSlotBack() {
        PacingProperties pacing = new PacingProperties(0, 1, Map.of(), Map.of(), Map.of(), 0, 10,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        Set<String> ledgerInFlight = ConcurrentHashMap.newKeySet();
        ledgerInFlight.addAll(List.of("ringing#1", "refused#1"));
        List<Set<String>> lookedUp = Collections.synchronizedList(new ArrayList<>());
        inFlightCalls = new InFlightCalls() {
            @Override
            public Flux<TrunkGate.CountedCall> on(Set<Integer> partitions, int partitionCount) {
                return Flux.fromIterable(ledgerInFlight).map(key -> new TrunkGate.CountedCall(key, 3, SECOND));
            }

            @Override
            public Mono<Set<String>> stillInFlight(Collection<String> slotKeys) {
                lookedUp.add(Set.copyOf(slotKeys));
                return Mono.just(slotKeys.stream().filter(ledgerInFlight::contains).collect(Collectors.toSet()));
            }
        };
        lanes(pacing, new LanesProperties(1000, 50, Duration.ofMinutes(1), 150));
        TrunkGate trunk = built.trunks().gate(Trunks.DEFAULT);
        built.owns(Set.of(3), Set.of(), 4);
        time.advanceTimeBy(Lanes.RECOUNT_AFTER);
        assertThat(trunk.inFlight()).isEqualTo(2);

        // The previous owner's create-call for "refused#1" was refused: it ended the attempt, telling only itself.
        ledgerInFlight.remove("refused#1");
        time.advanceTimeBy(Lanes.COUNTED_CHECK);

        assertThat(trunk.holds("refused#1")).isFalse();
        assertThat(trunk.holds("ringing#1")).isTrue();
        assertThat(registry.get("dialer.dispatcher.trunk.slots.rebalanced").tag("change", "ended_elsewhere")
                .counter().count()).isEqualTo(1.0);

        // Looked up again while a counted call holds a slot; no more once its status has released it.
        int looks = lookedUp.size();
        time.advanceTimeBy(Lanes.COUNTED_CHECK);
        assertThat(lookedUp).hasSize(looks + 1);
        assertThat(lookedUp.get(looks)).containsExactly("ringing#1");
        built.trunks().release("ringing#1", true);
        time.advanceTimeBy(Lanes.COUNTED_CHECK.multipliedBy(3));
        assertThat(lookedUp).hasSize(looks + 1);
        assertThat(trunk.inFlight()).isZero();
    }

    @Test
    void aStartTheCarrierRefusedGivesUpItsSlotThoughACountOfCallsInFlightFoundItsOwnClaim() {
        PacingProperties pacing = new PacingProperties(0, 1, Map.of(), Map.of(), Map.of(), 0, 1,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        List<LaneWork.Placement> outcomes = new ArrayList<>(List.of(LaneWork.Placement.NONE_IN_FLIGHT,
                LaneWork.Placement.NOT_PLACED));
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofMinutes(5), 150),
                (record, ticket) -> Mono.fromCallable(() -> {
                    started.add(new Started(record.key(), time.now(TimeUnit.NANOSECONDS), record.offset()));
                    // A partition gained meanwhile: its count of calls in flight reads this start's claimed dial.
                    Trunks trunks = built.trunks();
                    trunks.countingStarts();
                    trunks.holdCounted(List.of(new TrunkGate.CountedCall(ticket.slotKey(), 0, 0)));
                    record.acknowledge();
                    return outcomes.remove(0);
                }));

        // Refused by the carrier: no call of the attempt is anywhere, so the trunk's one channel is free again.
        admit(lanes, A);
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(built.trunks().gate(Trunks.DEFAULT).inFlight()).isZero();

        // A duplicate of a call in flight: that call keeps the channel it was counted on.
        admit(lanes, B);
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(started).hasSize(2);
        assertThat(built.trunks().gate(Trunks.DEFAULT).inFlight()).isEqualTo(1);
    }

    @Test
    void aLaneDialsInOrderWhenRecordsArriveWhileItsParkedOnesComeBack() {
        List<ParkingLot.Parked> schedule = Collections.synchronizedList(new ArrayList<>());
        parking = new ParkingLot(null) {
            @Override
            Mono<Void> parkAll(List<Parked> batch) {
                return Mono.fromRunnable(() -> schedule.addAll(batch));
            }
        };
        List<Integer> dialled = Collections.synchronizedList(new ArrayList<>());
        PartitionLanes lanes = lanes(pacing(1, 1, 0, Map.of()), new LanesProperties(1000, 50, Duration.ofSeconds(10), 150),
                (record, ticket) -> Mono.fromRunnable(() -> {
                    dialled.add(Integer.parseInt(ticket.command().requestId().substring(2)));
                    record.acknowledge();
                }).thenReturn(LaneWork.Placement.NOT_PLACED));
        int request = 0;
        for (; request < 30; request++) {
            admitRequest(lanes, "r-" + request, Map.of());
        }

        for (int tenth = 0; tenth < 800; tenth++) {
            if (tenth == 80) {
                // The second burst comes while the first one's parked records are coming back.
                for (int more = 0; more < 20; more++, request++) {
                    admitRequest(lanes, "r-" + request, Map.of());
                }
            }
            // The retry scheduler publishes what is due, in due order, to the end of the partition.
            List<ParkingLot.Parked> due = schedule.stream()
                    .filter(row -> !row.dueAt().isAfter(clock.instant()))
                    .sorted(java.util.Comparator.comparing(ParkingLot.Parked::dueAt)).toList();
            schedule.removeAll(due);
            due.forEach(row -> admitRequest(lanes, row.command().requestId(),
                    Map.of(PartitionLanes.PARKED_HEADER, row.dueAt().toString())));
            time.advanceTimeBy(Duration.ofMillis(100));
        }

        assertThat(dialled).hasSize(50).isSorted();
        assertThat(registry.find("dialer.dispatcher.lanes.parked.recounts").counters())
                .as("parked records that keep coming back are no gap to look for")
                .hasSize(PacingMetrics.Recount.values().length)
                .allSatisfy(counter -> assertThat(counter.count()).isZero());
    }

    @Test
    void aLaneWhoseParkedBacklogWasTakenOutOfTheScheduleParksWhatArrivesBehindWhatIsLeftNotBehindTheGaps() {
        // The schedule: one row per attempt; a recount moves the caller ID's rows still to come as the SQL does.
        Map<String, ParkingLot.Parked> schedule = new ConcurrentHashMap<>();
        List<Instant> recounts = Collections.synchronizedList(new ArrayList<>());
        parking = recountingInto(schedule, recounts);
        Map<String, Long> dialledAt = new ConcurrentHashMap<>();
        List<Integer> dialled = Collections.synchronizedList(new ArrayList<>());
        PartitionLanes lanes = lanes(pacing(1, 1, 0, Map.of()),
                new LanesProperties(1000, 50, Duration.ofSeconds(10), 150),
                dialling(dialled, dialledAt));
        // A hundred calls at 1 CPS: ten held, ninety parked, the last due some 95 s from now.
        int request = 0;
        for (; request < 100; request++) {
            admitRequest(lanes, "r-" + request, Map.of());
        }

        for (int tenth = 0; tenth < 700; tenth++) {
            if (tenth == 30) {
                // Their campaign is cancelled: its waits leave the schedule (what the lane holds is dialled here).
                schedule.clear();
            }
            if (tenth == 120 || tenth == 300) {
                // Another campaign's calls for the caller ID, before and after the parked ones stopped coming back.
                for (int more = 0; more < 5; more++, request++) {
                    admitRequest(lanes, "r-" + request, Map.of());
                }
            }
            publishDue(lanes, schedule);
            time.advanceTimeBy(Duration.ofMillis(100));
        }

        List<Integer> later = dialled.stream().filter(r -> r >= 100).toList();
        assertThat(later).as("the other campaign's calls, in order").containsExactly(100, 101, 102, 103, 104, 105,
                106, 107, 108, 109);
        assertThat(dialledAt.get("r-109")).as("dialled at the lane's pace after the recount, not ~95 s in")
                .isLessThan(50_000L);
        assertThat(dialled.stream().filter(r -> r < 100)).as("the cancelled parked calls never came back")
                .hasSizeLessThan(15);
        assertThat(recounts).as("one look, once the parked records were overdue").hasSize(1);
        assertThat(registry.get("dialer.dispatcher.lanes.parked.recounts").tag("outcome", "moved").counter().count())
                .isEqualTo(1.0);
    }

    /**
     * The account raises its caller ID's rate while a backlog parked at the old one waits: the first parked record to
     * come back at the new rate moves the rest up to it, so the backlog is dialled at the new rate, not one call per
     * old interval as each comes back.
     */
    @Test
    void aParkedBacklogIsMovedUpToTheLanesPaceOnceItsCallerIdsRateIsRaised() {
        Map<String, ParkingLot.Parked> schedule = new ConcurrentHashMap<>();
        List<Instant> recounts = Collections.synchronizedList(new ArrayList<>());
        parking = recountingInto(schedule, recounts);
        Map<String, Long> dialledAt = new ConcurrentHashMap<>();
        List<Integer> dialled = Collections.synchronizedList(new ArrayList<>());
        accountCps.put("acc", 1.0);
        PartitionLanes lanes = lanes(pacing(1, 1, 0, Map.of()),
                new LanesProperties(1000, 50, Duration.ofSeconds(10), 150),
                dialling(dialled, dialledAt));
        // A hundred calls at 1 CPS: ten held, ninety parked, the last due some 95 s from now.
        for (int request = 0; request < 100; request++) {
            admitRequest(lanes, "r-" + request, Map.of());
        }

        for (int tenth = 0; tenth < 600; tenth++) {
            if (tenth == 20) {
                accountCps.put("acc", 10.0);
            }
            publishDue(lanes, schedule);
            time.advanceTimeBy(Duration.ofMillis(100));
        }

        assertThat(dialled).as("every call, in order").containsExactlyElementsOf(
                java.util.stream.IntStream.range(0, 100).boxed().toList());
        assertThat(dialledAt.get("r-99")).as("at the new rate, not ~95 s in").isLessThan(30_000L);
        assertThat(recounts).as("one move of the backlog").hasSize(1);
    }

    /**
     * The account lowers its caller ID's rate while a backlog parked at the old one waits: the first parked record to
     * come back at the new rate spaces the rest anew at it, later, and parks again what the lane holds beyond its
     * budget, ahead of them; the backlog's records no longer come back ten times faster than the lane starts them and
     * fill the partition's window, which would stop it fetching for every other caller ID.
     */
    @Test
    void aParkedBacklogIsSpacedAnewOnceItsCallerIdsRateIsLoweredAndThePartitionNeverStopsFetching() {
        lowerTheRateOfALaneWithAParkedBacklog(false);
    }

    @Test
    void aSpacingAnewThatFailsIsTriedAgainByTheNextRecordThatComesBack() {
        lowerTheRateOfALaneWithAParkedBacklog(true);
    }

    private void lowerTheRateOfALaneWithAParkedBacklog(boolean firstLookFails) {
        Map<String, ParkingLot.Parked> schedule = new ConcurrentHashMap<>();
        List<Instant> recounts = Collections.synchronizedList(new ArrayList<>());
        ParkingLot recounting = recountingInto(schedule, recounts);
        java.util.concurrent.atomic.AtomicBoolean failNext = new java.util.concurrent.atomic.AtomicBoolean(
                firstLookFails);
        parking = new ParkingLot(null) {
            @Override
            Mono<Void> parkAll(List<Parked> batch) {
                return recounting.parkAll(batch);
            }

            @Override
            Mono<Backlog> recount(String callerId, Instant from, Instant start, Duration step, Instant handedOut,
                                  boolean later) {
                return failNext.getAndSet(false) ? Mono.error(new IllegalStateException("PostgreSQL unavailable"))
                        : recounting.recount(callerId, from, start, step, handedOut, later);
            }
        };
        Map<String, Long> dialledAt = new ConcurrentHashMap<>();
        List<Integer> dialled = Collections.synchronizedList(new ArrayList<>());
        accountCps.put("acc", 10.0);
        // A window of 200: a lane holds at most 50 of it.
        PartitionLanes lanes = lanes(pacing(10, 1, 0, Map.of()),
                new LanesProperties(200, 50, Duration.ofSeconds(10), 150),
                dialling(dialled, dialledAt));
        // 250 calls at 10 CPS: fifty held, two hundred parked a tenth of a second apart, from 5 s to some 25 s.
        for (int request = 0; request < 250; request++) {
            admitRequest(lanes, "r-" + request, Map.of());
        }

        double mostPaused = 0;
        for (int tenth = 0; tenth < 3000; tenth++) {
            if (tenth == 20) {
                accountCps.put("acc", 1.0);
            }
            publishDue(lanes, schedule);
            time.advanceTimeBy(Duration.ofMillis(100));
            mostPaused = Math.max(mostPaused, registry.get("dialer.dispatcher.lanes.paused").gauge().value());
        }

        assertThat(mostPaused).as("the partition never stops fetching").isZero();
        assertThat(dialled).as("every call, in order").containsExactlyElementsOf(
                java.util.stream.IntStream.range(0, 250).boxed().toList());
        assertThat(registry.get("dialer.dispatcher.lanes.parked.recounts").tag("outcome", "slowed").counter()
                .count()).as("one spacing anew").isOne();
        assertThat(registry.get("dialer.dispatcher.lanes.parked.recounts").tag("outcome", "failed").counter()
                .count()).isEqualTo(firstLookFails ? 1 : 0);
    }

    @Test
    void recordsShedFromALaneWaitingAtTheTrunkComeBackBeforeTheOnesParkedEarlierSoItDialsInOffsetOrder() {
        Map<String, ParkingLot.Parked> schedule = scheduleInto();
        // One trunk channel, 20-second calls: the lane's head waits at the trunk, and what is behind it is shed.
        PacingProperties pacing = new PacingProperties(5, 1, Map.of(), Map.of(), Map.of(), 0, 1,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        List<Integer> dialled = Collections.synchronizedList(new ArrayList<>());
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofSeconds(10), 150),
                (record, ticket) -> Mono.fromRunnable(() -> {
                    dialled.add(Integer.parseInt(ticket.command().requestId().substring(2)));
                    record.acknowledge();
                    time.schedule(() -> built.trunks().gate(Trunks.DEFAULT).release(ticket.slotKey(), true),
                            20, TimeUnit.SECONDS);
                }).thenReturn(LaneWork.Placement.PLACED));
        // 10 s at 5 CPS is 50 records: those from 50 on are parked at once, spaced at the rate.
        for (int request = 0; request < 300; request++) {
            admitRequest(lanes, "r-" + request, Map.of());
        }

        for (int second = 0; second < 400; second++) {
            publishDue(lanes, schedule);
            time.advanceTimeBy(Duration.ofSeconds(1));
        }

        assertThat(dialled).as("one call every 20 s").hasSizeGreaterThanOrEqualTo(19)
                .as("in the order the records arrived").isSorted().doesNotHaveDuplicates();
        assertThat(dialled.subList(0, 3)).containsExactly(0, 1, 2);
    }

    @Test
    void aRequeuedAttemptGoesBeforeItsLanesBacklog() {
        PartitionLanes lanes = lanes(pacing(1, 1, 0, Map.of()), new LanesProperties(1000, 50, Duration.ofMinutes(1), 150));
        for (int i = 0; i < 10; i++) {
            admit(lanes, A);
        }
        time.advanceTimeBy(Duration.ofMillis(1500));
        assertThat(started).hasSize(2);

        // Offset 10: an attempt the carrier had no capacity for, coming back from the schedule.
        admit(lanes, "acc", A, Map.of(PartitionLanes.FRONT_OF_LANE_HEADER, "capacity"));
        time.advanceTimeBy(Duration.ofSeconds(1));

        assertThat(started).hasSize(3);
        assertThat(started.get(2).offset()).isEqualTo(10L);
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(started.get(3).offset()).as("then the backlog, in order").isEqualTo(2L);
    }

    @Test
    void aRequeuedAttemptGoesAfterAHeadTheTrunkGrantedThatNowWaitsForADialPermit() {
        // One trunk channel and one dial permit (the dispatcher's, shared with its other partitions).
        PacingProperties pacing = new PacingProperties(100, 1, Map.of(), Map.of(), Map.of(), 0, 1,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        List<LaneTicket> tickets = Collections.synchronizedList(new ArrayList<>());
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofMinutes(1), 1),
                (record, ticket) -> Mono.fromRunnable(() -> {
                    started.add(new Started(record.key(), time.now(TimeUnit.NANOSECONDS), record.offset()));
                    tickets.add(ticket);
                }).thenReturn(LaneWork.Placement.PLACED));
        // B's call holds the channel; A's head waits for it at the trunk.
        admit(lanes, B);
        admit(lanes, A);
        time.advanceTimeBy(Duration.ofMillis(100));
        assertThat(started).extracting(Started::offset).containsExactly(0L);

        // Another partition's dial takes the permit; B's call ends: the channel is granted to A's head, which now
        // waits for the permit (giving the grant back meanwhile). Then an attempt of A's comes back from a capacity
        // requeue.
        assertThat(built.permits().tryAcquire(() -> { })).isTrue();
        built.trunks().gate(Trunks.DEFAULT).release(tickets.get(0).slotKey(), true);
        time.advanceTimeBy(Duration.ofMillis(100));
        admit(lanes, "acc", A, Map.of(PartitionLanes.FRONT_OF_LANE_HEADER, "capacity"));
        built.permits().release();
        time.advanceTimeBy(Duration.ofMillis(100));

        assertThat(started).extracting(Started::offset).as("the head waiting for the permit first")
                .containsExactly(0L, 1L);
    }

    @Test
    void startsTheTrunkGrantsWhileEveryDialPermitIsTakenStillKeepTheTrunksRateOncePermitsFree() {
        // One dial permit; a trunk of 10 calls a second. 30 caller IDs' calls queue at the trunk, each lane taking
        // the free permit to ask and handing it on. Then another partition's dial holds the permit for 5 s: the
        // trunk's tokens go on being granted meanwhile, to lanes that cannot start.
        PartitionLanes lanes = lanes(pacing(50, 1, 10, Map.of()), new LanesProperties(1000, 50, Duration.ofMinutes(1),
                1));
        for (int i = 0; i < 30; i++) {
            admit(lanes, "+49300001%02d".formatted(i));
        }
        assertThat(built.permits().tryAcquire(() -> { })).isTrue();
        int before = started.size();
        time.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(started).hasSize(before);

        built.permits().release();
        time.advanceTimeBy(Duration.ofSeconds(10));

        assertThat(started).hasSize(30);
        List<Long> all = started.stream().map(Started::at).toList();
        assertThat(PaceBucketTest.maxInAnyWindow(all, SECOND)).as("starts in any one second").isLessThanOrEqualTo(11);
        assertThat(registry.get("dialer.dispatcher.trunk.grants.unused").tag("reason", "permit").counter().count())
                .as("grants given back while permits were short").isPositive();
    }

    @Test
    void aSlowCallerIdDoesNotHoldUpAnotherOnTheSamePartition() {
        PartitionLanes lanes = lanes(pacing(1, 1, 0, Map.of(B, 100.0)),
                new LanesProperties(1000, 50, Duration.ofMinutes(1), 150));
        for (int i = 0; i < 30; i++) {
            admit(lanes, A);
        }
        for (int i = 0; i < 10; i++) {
            admit(lanes, B);
        }

        time.advanceTimeBy(Duration.ofSeconds(2));

        assertThat(startsOf(B)).hasSize(10).allMatch(at -> at < SECOND);
        assertThat(startsOf(A)).hasSize(3);
        // A's fourth record (offset 3) is not done: nothing from it on is committed, B's records included.
        assertThat(acknowledged).isNotEmpty().allMatch(offset -> offset <= 2);
    }

    @Test
    void keepsTheTrunkRateAcrossCallerIds() {
        PartitionLanes lanes = lanes(pacing(50, 1, 20, Map.of()), new LanesProperties(1000, 50, Duration.ofMinutes(1), 150));
        for (int i = 0; i < 100; i++) {
            admit(lanes, i % 2 == 0 ? A : B);
        }

        time.advanceTimeBy(Duration.ofSeconds(10));

        assertThat(started).hasSize(100);
        List<Long> all = started.stream().map(Started::at).toList();
        assertThat(PaceBucketTest.maxInAnyWindow(all, SECOND)).isLessThanOrEqualTo(20 + 1);
    }

    @Test
    void holdsATrunkSlotPerPlacedCallUntilItsTerminalStatusFreesIt() {
        PacingProperties pacing = new PacingProperties(0, 1, Map.of(), Map.of(), Map.of(), 0, 2,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        placed = true;
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofMinutes(1), 150));
        for (int i = 0; i < 5; i++) {
            admit(lanes, i % 2 == 0 ? A : B);
        }
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(started).hasSize(2);

        // The first call's terminal status arrives: one more may start, and only one.
        built.trunks().gate(Trunks.DEFAULT).release("r-0#1", true);
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(started).hasSize(3);
        assertThat(built.trunks().gate(Trunks.DEFAULT).inFlight()).isEqualTo(2);
    }

    @Test
    void servesAccountsSharingABindingTrunkRateRoundRobinNotBehindTheLargeBacklog() {
        PartitionLanes lanes = lanes(pacing(100, 1, 10, Map.of()), new LanesProperties(1000, 50, Duration.ofMinutes(1), 150));
        for (int call = 0; call < 10; call++) {
            for (int caller = 0; caller < 20; caller++) {
                admit(lanes, "big", "+49301000" + (100 + caller));
            }
        }
        for (int call = 0; call < 3; call++) {
            admit(lanes, "small", B);
        }

        time.advanceTimeBy(Duration.ofSeconds(30));

        assertThat(started).hasSize(203);
        List<Integer> smallAt = new ArrayList<>();
        for (int i = 0; i < started.size(); i++) {
            if (started.get(i).callerId().equals(B)) {
                smallAt.add(i);
            }
        }
        // First come would put them behind the 200 of the large account; round robin serves every other token.
        assertThat(smallAt).hasSize(3).allMatch(position -> position < 8);
        assertThat(PaceBucketTest.maxInAnyWindow(started.stream().map(Started::at).toList(), SECOND))
                .isLessThanOrEqualTo(10 + 1);
    }

    @Test
    void runsNoMoreDialsAtOnceThanTheDispatcherWideBoundAndStartsTheNextAsOneEnds() {
        List<Sinks.One<LaneWork.Placement>> running = Collections.synchronizedList(new ArrayList<>());
        PartitionLanes lanes = lanes(pacing(0, 1, 0, Map.of()), new LanesProperties(1000, 50, Duration.ofMinutes(1), 2),
                (record, ticket) -> {
                    started.add(new Started(record.key(), time.now(TimeUnit.NANOSECONDS), record.offset()));
                    Sinks.One<LaneWork.Placement> dial = Sinks.one();
                    running.add(dial);
                    return dial.asMono();
                });
        for (int i = 0; i < 6; i++) {
            admit(lanes, i % 2 == 0 ? A : B);
        }
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(started).hasSize(2);
        assertThat(built.permits().waiting()).isEqualTo(2);

        running.get(0).tryEmitValue(LaneWork.Placement.NOT_PLACED);
        time.advanceTimeBy(Duration.ofSeconds(1));

        assertThat(started).hasSize(3);
        assertThat(built.permits().inUse()).isEqualTo(2);
    }

    @Test
    void aCancelledCampaignsBacklogTakesNoTokenAndTheNextCampaignOnTheCallerIdStartsAtOnce() {
        cancelledCampaigns.add("gone");
        PartitionLanes lanes = lanes(pacing(1, 1, 1, Map.of()), new LanesProperties(1000, 50, Duration.ofSeconds(10), 150));
        for (int i = 0; i < 100; i++) {
            admitInCampaign(lanes, A, "gone");
        }
        admitInCampaign(lanes, A, "live");

        time.advanceTimeBy(Duration.ofSeconds(1));

        // Every one of the 100 went to the gate (which ends them canceled), none was parked, and they took neither the
        // caller ID's token nor the trunk's: the other campaign's call starts at once.
        assertThat(started).hasSize(101);
        assertThat(started.get(100).offset()).isEqualTo(100L);
        assertThat(started.get(100).at()).isZero();
        assertThat(registry.get("dialer.dispatcher.dials.started").counter().count()).isEqualTo(1.0);
        assertThat(registry.get("dialer.dispatcher.lanes.unpaced").tag("reason", "canceled").tag("at", "admission").counter().count())
                .isEqualTo(100.0);
        assertThat(acknowledged).hasSize(101);
    }

    @Test
    void aCallToANumberOnTheDncListGoesToTheGateAtOnceWithoutWaitingForItsLanesTurnOrTakingItsTokens() {
        PartitionLanes lanes = lanes(pacing(1, 1, 1, Map.of()), new LanesProperties(1000, 50, Duration.ofMinutes(5), 150));
        for (int i = 0; i < 5; i++) {
            admit(lanes, A);
        }
        time.advanceTimeBy(Duration.ofMillis(500));
        assertThat(started).as("the first took the caller ID's token").hasSize(1);

        // A call to a number on the DNC list arrives behind four calls that wait a second each for the caller ID's
        // token, and another is put on the list while its call waits in the lane.
        dncNumbers.add("+4915100000001");
        admitTo(lanes, A, "+4915100000001");
        admitTo(lanes, A, "+4915100000002");
        dncNumbers.add("+4915100000002");
        time.advanceTimeBy(Duration.ofMillis(100));

        assertThat(started).as("the first at once, as it arrived").extracting(Started::offset).containsExactly(0L, 5L);
        assertThat(registry.get("dialer.dispatcher.lanes.unpaced").tag("reason", "blocked").tag("at", "admission")
                .counter().count()).isEqualTo(1.0);
        time.advanceTimeBy(Duration.ofSeconds(10));
        assertThat(started).extracting(Started::offset).containsExactly(0L, 5L, 1L, 2L, 3L, 4L, 6L);
        assertThat(started.get(6).at()).as("the other, from its lane, with no token of its own").isEqualTo(4 * SECOND);
        assertThat(registry.get("dialer.dispatcher.dials.started").counter().count()).isEqualTo(5.0);
        assertThat(registry.get("dialer.dispatcher.lanes.unpaced").tag("reason", "blocked").tag("at", "lane")
                .counter().count()).isEqualTo(1.0);
    }

    @Test
    void callsOfACampaignCancelledWhileTheyWaitInTheLaneAreHandedOverUnpacedInTheLanesOrder() {
        PartitionLanes lanes = lanes(pacing(1, 1, 0, Map.of()), new LanesProperties(1000, 50, Duration.ofMinutes(5), 150));
        for (int i = 0; i < 100; i++) {
            admitInCampaign(lanes, A, "gone");
        }
        time.advanceTimeBy(Duration.ofMillis(500));
        assertThat(started).as("the first took the caller ID's token").hasSize(1);

        cancelledCampaigns.add("gone");
        admitInCampaign(lanes, A, "live");
        time.advanceTimeBy(Duration.ofMillis(600));

        // The 99 left go to the gate as their lane comes to them, before the other campaign's call, which starts with
        // the caller ID's next token: about a second, not a hundred.
        assertThat(started).hasSize(101);
        assertThat(started).extracting(Started::offset).isSorted();
        assertThat(started.get(100).at()).isEqualTo(SECOND);
        assertThat(registry.get("dialer.dispatcher.dials.started").counter().count()).isEqualTo(2.0);
        assertThat(registry.get("dialer.dispatcher.lanes.unpaced").tag("reason", "canceled").tag("at", "lane").counter().count())
                .isEqualTo(99.0);
        assertThat(acknowledged).hasSize(101);
    }

    @Test
    void aRecordTheLanesFailToTakeInIsRejectedAndAcknowledgedAndThePartitionGoesOn() {
        List<Long> rejected = Collections.synchronizedList(new ArrayList<>());
        PartitionLanes lanes = lanes(pacing(10, 1, 0, Map.of()),
                new LanesProperties(1000, 50, Duration.ofMinutes(5), 150), new LaneWork() {
                    @Override
                    public Mono<LaneWork.Placement> handle(InboundRecord record, LaneTicket ticket) {
                        return work(record, ticket);
                    }

                    @Override
                    public Mono<Void> reject(InboundRecord record, RuntimeException defect) {
                        rejected.add(record.offset());
                        return LaneWork.super.reject(record, defect);
                    }
                });
        admit(lanes, A);
        // The lanes ask whether a command is cancelled as it comes in: a defect there, for this one command.
        admitInCampaign(lanes, A, "defect");
        admit(lanes, B);

        time.advanceTimeBy(Duration.ofSeconds(1));

        assertThat(rejected).containsExactly(1L);
        assertThat(started).extracting(Started::offset).containsExactly(0L, 2L);
        assertThat(acknowledged).as("the partition's commits go on past it").last().isEqualTo(2L);
    }

    @Test
    void aCancelledHeadTheTrunkGrantedAStartGivesItsSlotBack() {
        placed = true;
        PacingProperties pacing = new PacingProperties(0, 1, Map.of(), Map.of(), Map.of(), 0, 1,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofMinutes(5), 150));
        admitInCampaign(lanes, A, "live");
        admitInCampaign(lanes, B, "gone");
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(started).as("B's call waits at the trunk for A's slot").hasSize(1);

        cancelledCampaigns.add("gone");
        built.trunks().gate(Trunks.DEFAULT).release("r-0#1", true);
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(started).as("B's cancelled call went to the gate").hasSize(2);
        assertThat(built.trunks().gate(Trunks.DEFAULT).inFlight()).as("the slot granted to it is free again").isZero();

        admitInCampaign(lanes, B, "live");
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(started).hasSize(3);
        assertThat(built.trunks().gate(Trunks.DEFAULT).inFlight()).isEqualTo(1);
        assertThat(registry.get("dialer.dispatcher.dials.started").counter().count()).isEqualTo(2.0);
    }

    @Test
    void aCallerIdIsLoggedByItsLastFourDigits() {
        assertThat(PartitionLanes.masked("+4930000001")).isEqualTo("…0001");
        assertThat(PartitionLanes.masked("123")).isEqualTo("…");
        assertThat(PartitionLanes.masked(null)).isEqualTo("…");
    }

    @Test
    void aHeadHandedOverWhileQueuedAtTheTrunkEndsTheLanesWaitThereSoWhatWaitsForItsOwnRateIsNotShed() {
        Map<String, ParkingLot.Parked> schedule = scheduleInto();
        placed = true;
        // One trunk channel; the campaign "slow" one call every 30 s; a wait at the trunk parks after 10 s.
        PacingProperties pacing = new PacingProperties(0, 1, Map.of(), Map.of(), Map.of("slow", 1.0 / 30), 0, 1,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofSeconds(10), 150));
        admitInCampaign(lanes, A, "slow");
        admitInCampaign(lanes, A, "gone");
        admitInCampaign(lanes, A, "slow");
        admitInCampaign(lanes, A, "slow");
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(started).as("the second call waits at the trunk for the first's channel").hasSize(1);

        cancelledCampaigns.add("gone");
        built.trunks().gate(Trunks.DEFAULT).release("r-0#1", true);
        publishDueCommandsFor(lanes, schedule, 200);

        assertThat(started).as("the cancelled call went to the gate; the next waits for its campaign").hasSize(2);
        assertThat(registry.get("dialer.dispatcher.lanes.parked").tag("reason", "trunk").counter().count())
                .as("nothing waits at the trunk, whose channel is free: nothing is shed for it").isZero();
        assertThat(registry.get("dialer.dispatcher.lanes.parked").tag("reason", "wait").counter().count())
                .as("the lane waits some 29 s for its campaign, longer than park-after: its two calls parked for it")
                .isEqualTo(2.0);
        publishDueCommandsFor(lanes, schedule, 100);
        assertThat(started).as("the campaign's next call, 30 s after its first").hasSize(3);
        assertThat(startsOf(A)).element(2).isEqualTo(30 * SECOND);
    }

    @Test
    void aLastHeadHandedOverWhileQueuedAtTheTrunkLeavesNoWaitThereForTheLanesNextRecords() {
        List<ParkingLot.Parked> parked = parkingInto();
        placed = true;
        PacingProperties pacing = new PacingProperties(0, 1, Map.of(), Map.of(), Map.of(), 0, 1,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofSeconds(10), 150));
        admitInCampaign(lanes, A, "live");
        admitInCampaign(lanes, A, "gone");
        time.advanceTimeBy(Duration.ofSeconds(1));
        cancelledCampaigns.add("gone");
        built.trunks().gate(Trunks.DEFAULT).release("r-0#1", true);
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(started).as("the cancelled call went to the gate, and the lane is empty").hasSize(2);

        // A minute later, with the channel free: the first starts at once, the others wait for the channel in turn.
        time.advanceTimeBy(Duration.ofMinutes(1));
        for (int call = 0; call < 5; call++) {
            admitInCampaign(lanes, A, "live");
        }

        assertThat(started).hasSize(3);
        assertThat(parked).as("the lane waited at the trunk for no one: nothing is parked for its wait").isEmpty();
    }

    @Test
    void aDialWhosePartitionIsRevokedBeforeItRunsIsNotMadeAndGivesItsPermitBack() {
        // The work's scheduler runs nothing until the test says: the partition is revoked between grant and run.
        List<Runnable> held = Collections.synchronizedList(new ArrayList<>());
        PacingProperties pacing = pacing(10, 2, 0, Map.of());
        Lanes lanes = new Lanes(new LanesProperties(1000, 50, Duration.ofMinutes(1), 150), pacing,
                new ConfiguredCallerLimits(pacing, account -> OptionalDouble.empty()), null, clock,
                new PacingMetrics(registry), null, Schedulers.fromExecutor(held::add), time,
                () -> time.now(TimeUnit.NANOSECONDS), command -> true);
        PartitionLanes partition = lanes.forPartition("dialer.call.commands", 0, new PartitionFlow(), this::work);
        running = partition.jobs(10_000).subscribe();
        admit(partition, A);
        assertThat(held).as("its dial handed to the work's scheduler").hasSize(1);
        assertThat(lanes.permits().inUse()).isOne();

        partition.revoke();
        lanes.owns(Set.of(), Set.of(0), 1);
        List.copyOf(held).forEach(Runnable::run);

        assertThat(started).as("the new owner's to dial").isEmpty();
        assertThat(lanes.permits().inUse()).isZero();
        assertThat(lanes.trunks().gate(Trunks.DEFAULT).inFlight()).isZero();
    }

    @Test
    void aStartThatEndsUnplacedAfterItsPartitionWasRevokedAndRegainedLeavesTheCountedCallsSlot() {
        // A copy of a command whose call is live (the ledger will call it a duplicate) is being handled when the
        // partition is revoked and given back: the count on regaining it holds the live call's slot anew.
        PacingProperties pacing = new PacingProperties(0, 1, Map.of(), Map.of(), Map.of(), 0, 10,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        List<Set<Integer>> counted = Collections.synchronizedList(new ArrayList<>());
        inFlightCalls = (partitions, partitionCount) -> {
            counted.add(partitions);
            return Flux.fromIterable(counted.size() == 1 ? List.<TrunkGate.CountedCall>of()
                    : List.of(new TrunkGate.CountedCall("r-0#1", 0, SECOND)));
        };
        Sinks.One<LaneWork.Placement> duplicate = Sinks.one();
        PartitionLanes partition = lanes(pacing, new LanesProperties(1000, 50, Duration.ofMinutes(1), 150),
                (record, ticket) -> duplicate.asMono());
        built.owns(Set.of(0), Set.of(), 1);
        admit(partition, A);
        time.advanceTimeBy(Duration.ofMillis(10));
        TrunkGate trunk = built.trunks().gate(Trunks.DEFAULT);
        assertThat(trunk.holds("r-0#1")).isTrue();

        partition.revoke();
        built.owns(Set.of(), Set.of(0), 1);
        built.owns(Set.of(0), Set.of(), 1);
        partition.reassigned();
        time.advanceTimeBy(Duration.ofMillis(10));
        assertThat(trunk.holds("r-0#1")).as("the live call's slot, counted").isTrue();

        duplicate.tryEmitValue(LaneWork.Placement.NOT_PLACED);
        time.advanceTimeBy(Duration.ofMillis(10));

        assertThat(trunk.holds("r-0#1")).as("the revoked start's hold went with the partition; the call's stays")
                .isTrue();
        assertThat(trunk.inFlight()).isEqualTo(1);
    }

    @Test
    void aHeadsWaitAtTheTrunkEndsItsCheckTimerWhenItStartsSoTheTimerGivesUpItsJobPlace() {
        // One trunk channel, 100 ms calls, one job at a time: A's second call waits for the channel, and the timer
        // that looks at its wait after park-after (10 s) takes the one place while it is armed.
        PacingProperties pacing = new PacingProperties(100, 1, Map.of(), Map.of(), Map.of(), 0, 1,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        PartitionLanes partition = lanes(pacing, new LanesProperties(1000, 50, Duration.ofSeconds(10), 150),
                (record, ticket) -> Mono.fromRunnable(() -> {
                    started.add(new Started(record.key(), time.now(TimeUnit.NANOSECONDS), record.offset()));
                    record.acknowledge();
                    time.schedule(() -> built.trunks().gate(Trunks.DEFAULT).release(ticket.slotKey(), true),
                            100, TimeUnit.MILLISECONDS);
                }).thenReturn(LaneWork.Placement.PLACED), 1);
        admit(partition, A);
        admit(partition, A);

        time.advanceTimeBy(Duration.ofSeconds(1));

        assertThat(startsOf(A)).as("the second dialled when the channel freed, not when its check fired")
                .hasSize(2).allMatch(at -> at < SECOND);
    }

    @Test
    void aCallerIdsLaneMadeAnewAfterARevocationGoesOnFromTheRevokedLanesLastStarts() {
        // 1 CPS, burst 1. The partition is revoked and assigned back to this dispatcher 100 ms after A's first start,
        // as the eager assignor does at every rebalance.
        PartitionLanes partition = lanes(pacing(1, 1, 0, Map.of()),
                new LanesProperties(1000, 50, Duration.ofMinutes(5), 150));
        admit(partition, A);
        assertThat(startsOf(A)).hasSize(1);
        time.advanceTimeBy(Duration.ofMillis(100));
        partition.revoke();
        partition.reassigned();

        admit(partition, A);
        admit(partition, B);
        time.advanceTimeBy(Duration.ofMillis(100));
        assertThat(startsOf(B)).as("a caller ID with no starts before starts at once").hasSize(1);
        time.advanceTimeBy(Duration.ofMillis(700));
        assertThat(startsOf(A)).as("not a second start within the second of the first").hasSize(1);
        time.advanceTimeBy(Duration.ofMillis(100));
        assertThat(startsOf(A)).as("one interval after the first").hasSize(2)
                .satisfies(starts -> assertThat(starts.get(1) - starts.get(0)).isEqualTo(SECOND));

        // Its partition gone for longer than the bucket takes to fill: nothing kept holds the lane back.
        time.advanceTimeBy(Duration.ofSeconds(5));
        partition.revoke();
        partition.reassigned();
        admit(partition, A);
        assertThat(startsOf(A)).as("a full bucket starts at once").hasSize(3);
    }

    @Test
    void aLaneMadeAnewAfterARevocationParksWhatArrivesBehindTheRecordsTheRevokedLaneParked() {
        Map<String, ParkingLot.Parked> schedule = scheduleInto();
        List<Integer> dialled = Collections.synchronizedList(new ArrayList<>());

        // Revoked once the calls the lane held are dialled: what is read again is parked calls alone.
        revokedWhileParking(155, 1, schedule, dialled);

        assertThat(schedule).as("every parked record came back").isEmpty();
        assertThat(dialled).as("in the order the requests first arrived").hasSize(50).isSorted();
    }

    @Test
    void aLaneMadeAnewDialsWhatTheRevokedLaneHeldBeforeWhatItParkedAndParksNothingReadAgainBehindItsOwnBacklog() {
        Map<String, ParkingLot.Parked> schedule = scheduleInto();
        List<Integer> dialled = Collections.synchronizedList(new ArrayList<>());

        // Revoked while the lane still holds calls it took in before it parked any: those and the parked ones are read.
        Map<String, Long> dialledAt = revokedWhileParking(25, 20, schedule, dialled);

        assertThat(schedule).as("every parked record came back").isEmpty();
        assertThat(dialled).as("in the order the requests first arrived").hasSize(50).isSorted();
        assertThat(dialledAt.get("r-49")).as("one a second, with no wait for records read again, parked already")
                .isLessThanOrEqualTo(Duration.ofSeconds(52).toMillis());
    }

    /**
     * Thirty calls of caller ID A at 1 CPS (the lane holds ten seconds of them and parks the rest), the partition
     * revoked and assigned back at {@code revokedAtTenth} tenths of a second, as the eager assignor does at every
     * rebalance: read again from its committed offset, each record at its own offset as Kafka gives them back, then
     * twenty more calls; the retry scheduler publishing what is due, in due order, to the end of the partition, for 80
     * s. At least {@code readAgain} records are read again. The requests are dialled once each, into {@code dialled};
     * answers when each was, on the virtual clock.
     */
    private Map<String, Long> revokedWhileParking(int revokedAtTenth, int readAgain,
                                                  Map<String, ParkingLot.Parked> schedule, List<Integer> dialled) {
        Map<String, Long> dialledAt = new ConcurrentHashMap<>();
        PartitionLanes partition = lanes(pacing(1, 1, 0, Map.of()),
                new LanesProperties(1000, 50, Duration.ofSeconds(10), 150),
                dialledOnce(dialled, dialledAt));
        // The partition's log: each record's request and headers, by offset.
        NavigableMap<Long, Map.Entry<String, Map<String, String>>> log = new TreeMap<>();
        BiConsumer<String, Map<String, String>> append = (requestId, headers) -> {
            log.put(nextOffset, Map.entry(requestId, headers));
            admitRequest(partition, requestId, headers);
        };
        int request = 0;
        for (; request < 30; request++) {
            append.accept("r-" + request, Map.of());
        }
        assertThat(schedule).as("the lane holds ten seconds of its calls and parks the rest").hasSize(19);

        for (int tenth = 0; tenth < 800; tenth++) {
            if (tenth == revokedAtTenth) {
                partition.revoke();
                partition.reassigned();
                long committed = acknowledged.stream().mapToLong(Long::longValue).max().orElse(-1) + 1;
                Map<Long, Map.Entry<String, Map<String, String>>> again = new TreeMap<>(log.tailMap(committed));
                assertThat(again).as("calls read again").hasSizeGreaterThanOrEqualTo(readAgain);
                again.forEach((offset, record) -> admitRequest(partition, offset, record.getKey(), record.getValue()));
                for (int more = 0; more < 20; more++, request++) {
                    append.accept("r-" + request, Map.of());
                }
            }
            List<ParkingLot.Parked> due = schedule.values().stream()
                    .filter(row -> !row.dueAt().isAfter(clock.instant()))
                    .sorted(java.util.Comparator.comparing(ParkingLot.Parked::dueAt)).toList();
            due.forEach(row -> schedule.remove(row.command().requestId()));
            due.forEach(row -> append.accept(row.command().requestId(),
                    Map.of(PartitionLanes.PARKED_HEADER, row.dueAt().toString())));
            time.advanceTimeBy(Duration.ofMillis(100));
        }
        return dialledAt;
    }

    @Test
    void aLaneMadeAnewWhileItsLongBacklogComesBackAtItsPaceDoesNotLookForGapsThere() {
        Map<String, ParkingLot.Parked> schedule = scheduleInto();
        List<Integer> dialled = Collections.synchronizedList(new ArrayList<>());
        PartitionLanes partition = lanes(pacing(1, 1, 0, Map.of()),
                new LanesProperties(1000, 50, Duration.ofSeconds(10), 150),
                dialledOnce(dialled));
        // A hundred calls at 1 CPS: parked due from 5 s to some 95 s, the earliest long past by the revocation.
        int request = 0;
        for (; request < 100; request++) {
            admitRequest(partition, "r-" + request, Map.of());
        }

        for (int tenth = 0; tenth < 1_400; tenth++) {
            if (tenth == 400) {
                // Revoked and assigned back; a new call arrives before the next parked record comes back.
                partition.revoke();
                partition.reassigned();
                admitRequest(partition, "r-" + request++, Map.of());
            }
            publishDue(partition, schedule);
            time.advanceTimeBy(Duration.ofMillis(100));
        }

        assertThat(registry.find("dialer.dispatcher.lanes.parked.recounts").counters())
                .as("records coming back at the lane's pace are no gap, whatever the backlog's earliest due time")
                .allSatisfy(counter -> assertThat(counter.count()).isZero());
        assertThat(dialled).as("the new call after the backlog").endsWith(100);
    }

    @Test
    void aGainedPartitionsLaneParksWhatArrivesBehindTheRecordsItsPreviousOwnerParked() {
        // The previous owner parked caller ID A's backlog: due from 2 s to 20 s from now, some of it still to come.
        List<ParkingLot.Parked> parked = Collections.synchronizedList(new ArrayList<>());
        Instant now = clock.instant();
        PartitionLanes partition = gainedAfter(parked, new ParkingLot.ParkedLane(A, now.plusSeconds(2),
                now.plusSeconds(20)), new ParkingLot.ParkedLane(B, now.minusSeconds(60), now.minusSeconds(30)));

        admit(partition, A);
        admit(partition, A);
        admit(partition, B);
        time.advanceTimeBy(Duration.ofSeconds(1));

        assertThat(startsOf(A)).as("A's arrivals wait behind its parked backlog").isEmpty();
        assertThat(parked).extracting(row -> row.command().callerId()).containsExactly(A, A);
        assertThat(parked).extracting(ParkingLot.Parked::dueAt).as("due after the previous owner's last, at A's rate")
                .containsExactly(now.plusSeconds(21), now.plusSeconds(22));
        assertThat(startsOf(B)).as("B's parked records all came back long ago").hasSize(1);
        assertThat(registry.get("dialer.dispatcher.lanes.parked").tag("reason", "behind").counter().count())
                .isEqualTo(2.0);
    }

    @Test
    void aGainedPartitionsLaneTellsWhatIsReadAgainByTheOffsetsItsPreviousOwnerParked() {
        // The previous owner parked the records of caller ID A at offsets 10 to 20, due from 2 s to 20 s from now.
        List<ParkingLot.Parked> parked = Collections.synchronizedList(new ArrayList<>());
        Instant now = clock.instant();
        PartitionLanes partition = gainedAfter(parked, new ParkingLot.ParkedLane(A, now.plusSeconds(2),
                now.plusSeconds(20), new PartitionLanes.ParkedOffsets(0, 10, 20)));

        admitRequest(partition, 5, "r-5", Map.of());
        admitRequest(partition, 15, "r-15", Map.of());
        admitRequest(partition, 25, "r-25", Map.of());
        time.advanceTimeBy(Duration.ofMillis(100));

        assertThat(startsOf(A)).as("held by the previous owner, ahead of what it parked: dialled").hasSize(1);
        assertThat(parked).extracting(row -> row.command().requestId()).containsExactly("r-15", "r-25");
        assertThat(parked).extracting(ParkingLot.Parked::dueAt)
                .as("parked again at the backlog's last due time (its row keeps its own), and the next behind it")
                .containsExactly(now.plusSeconds(20), now.plusSeconds(21));
        assertThat(parked).extracting(ParkingLot.Parked::offset).containsExactly(15L, 25L);
        assertThat(registry.get("dialer.dispatcher.lanes.read.again").tag("went", "lane").counter().count())
                .isEqualTo(1.0);
        assertThat(registry.get("dialer.dispatcher.lanes.read.again").tag("went", "schedule").counter().count())
                .isEqualTo(1.0);
    }

    @Test
    void recordsWhoseParkingWasNeverWrittenAreReadAgainAsNewArrivalsSpacedAtTheLanesPace() {
        // The first parking batch never ends (PostgreSQL slow); the partition is revoked meanwhile.
        List<ParkingLot.Parked> parked = Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicInteger batches = new java.util.concurrent.atomic.AtomicInteger();
        parking = new ParkingLot(null) {
            @Override
            Mono<Void> parkAll(List<Parked> batch) {
                if (batches.getAndIncrement() == 0) {
                    return Mono.never();
                }
                return Mono.fromRunnable(() -> parked.addAll(batch));
            }
        };
        PartitionLanes partition = lanes(pacing(1, 1, 0, Map.of()),
                new LanesProperties(1000, 50, Duration.ofSeconds(10), 150));
        for (int request = 0; request < 15; request++) {
            admitRequest(partition, "r-" + request, Map.of());
        }
        time.advanceTimeBy(Duration.ofMillis(100));
        assertThat(batches).as("the lane's backlog beyond ten seconds is being parked").hasValue(1);

        partition.revoke();
        partition.reassigned();
        for (long offset = 1; offset < 15; offset++) {
            admitRequest(partition, offset, "r-" + offset, Map.of());
        }
        time.advanceTimeBy(Duration.ofMillis(100));

        assertThat(registry.get("dialer.dispatcher.lanes.read.again").tag("went", "schedule").counter().count())
                .as("none of them known to be parked").isZero();
        assertThat(parked).extracting(ParkingLot.Parked::dueAt).as("spaced, in their order, not one due time")
                .isSorted().doesNotHaveDuplicates().isNotEmpty();
    }

    @Test
    void aParkingBatchWrittenAfterTheRevocationIsKnownToTheLaneMadeAnew() {
        List<ParkingLot.Parked> parked = Collections.synchronizedList(new ArrayList<>());
        PartitionLanes partition = revokedWhileItsFirstParkingBatchIsWritten(15, parked);
        // Read again: the records of the batch written (those queued behind it were dropped unwritten).
        List<ParkingLot.Parked> batch = List.copyOf(parked);
        int written = batch.size();
        assertThat(written).as("the first of the lane's backlog beyond ten seconds").isPositive();
        batch.forEach(row -> admitRequest(partition, row.offset(), row.command().requestId(), Map.of()));
        time.advanceTimeBy(Duration.ofMillis(100));

        assertThat(registry.get("dialer.dispatcher.lanes.read.again").tag("went", "schedule").counter().count())
                .as("each known parked").isEqualTo(written);
        // At the lane's last due time, none before its row's own, which the schedule keeps (the earlier wins).
        List<ParkingLot.Parked> again = parked.subList(written, parked.size());
        assertThat(again).hasSize(written).extracting(ParkingLot.Parked::dueAt).containsOnly(again.get(0).dueAt());
        assertThat(again.get(0).dueAt()).isAfterOrEqualTo(batch.get(written - 1).dueAt());
    }

    @Test
    void recordsDroppedUnwrittenAtARevocationComeBackRightBehindThoseWrittenWithNoGap() {
        // The records queued behind the first parking batch are dropped unwritten.
        List<ParkingLot.Parked> parked = Collections.synchronizedList(new ArrayList<>());
        int sent = 60;
        PartitionLanes partition = revokedWhileItsFirstParkingBatchIsWritten(sent, parked);
        List<ParkingLot.Parked> written = List.copyOf(parked);
        assertThat(written).as("the first batch written").isNotEmpty();
        ParkingLot.Parked lastWritten = written.get(written.size() - 1);
        assertThat(lastWritten.offset()).as("records were dropped behind it").isLessThan(sent - 10);
        // Read again: those after the batch written, which arrive as new ones.
        for (long offset = lastWritten.offset() + 1; offset < sent; offset++) {
            admitRequest(partition, offset, "r-" + offset, Map.of());
        }
        time.advanceTimeBy(Duration.ofMillis(100));

        List<ParkingLot.Parked> again = parked.subList(written.size(), parked.size());
        assertThat(again).hasSize((int) (sent - 1 - lastWritten.offset()));
        assertThat(again.get(0).dueAt()).as("a start interval behind the last written, not behind the dropped places")
                .isEqualTo(lastWritten.dueAt().plusSeconds(1));
        assertThat(again).extracting(ParkingLot.Parked::dueAt).isSorted().doesNotHaveDuplicates();
    }

    /**
     * {@code count} calls of one caller ID at 1 CPS (those beyond ten seconds parked), the partition revoked and
     * assigned back while the first parking batch is written (PostgreSQL slow), which it is then, into {@code parked}.
     */
    private PartitionLanes revokedWhileItsFirstParkingBatchIsWritten(int count, List<ParkingLot.Parked> parked) {
        Sinks.Empty<Void> slow = Sinks.empty();
        java.util.concurrent.atomic.AtomicInteger batches = new java.util.concurrent.atomic.AtomicInteger();
        parking = new ParkingLot(null) {
            @Override
            Mono<Void> parkAll(List<Parked> batch) {
                Mono<Void> written = Mono.fromRunnable(() -> parked.addAll(batch));
                return batches.getAndIncrement() == 0 ? slow.asMono().then(written) : written;
            }
        };
        PartitionLanes partition = lanes(pacing(1, 1, 0, Map.of()),
                new LanesProperties(1000, 50, Duration.ofSeconds(10), 150));
        for (int request = 0; request < count; request++) {
            admitRequest(partition, "r-" + request, Map.of());
        }
        time.advanceTimeBy(Duration.ofMillis(100));

        partition.revoke();
        partition.reassigned();
        slow.tryEmitEmpty();
        time.advanceTimeBy(Duration.ofMillis(100));
        return partition;
    }

    @Test
    void aLaneKeepsItsParkedOffsetsOnlyWhileItsParkedRecordsMayStillComeBack() {
        Instant now = clock.instant();
        Duration parkAfter = Duration.ofSeconds(10);
        PartitionLanes.ParkedOffsets offsets = new PartitionLanes.ParkedOffsets(0, 10, 20);
        PartitionLanes.Lane waiting = new PartitionLanes.Lane(A, new PartitionLanes.Kept(null, now.plusSeconds(20),
                now.plusSeconds(2), 0, offsets), 0);
        PartitionLanes.Lane cameBack = new PartitionLanes.Lane(A, new PartitionLanes.Kept(null, now.minusSeconds(20),
                now.minusSeconds(30), 0, offsets), 0);

        assertThat(waiting.kept(now, parkAfter).parked()).isEqualTo(offsets);
        assertThat(cameBack.kept(now, parkAfter).parked()).as("a run that has come back says nothing").isNull();
        assertThat(waiting.readAgain(15, now, parkAfter)).isEqualTo(PartitionLanes.ReadAgain.PARKED);
        assertThat(waiting.readAgain(5, now, parkAfter)).isEqualTo(PartitionLanes.ReadAgain.HELD);
        assertThat(waiting.readAgain(21, now, parkAfter)).as("a new arrival").isNull();
        assertThat(cameBack.readAgain(15, now, parkAfter)).isNull();
    }

    @Test
    void keptOffsetsGiveWayToThoseReadOfTheSamePartitionAndAreWidenedByABatchWrittenLate() {
        Instant now = clock.instant();
        // Kept here at a revocation, hours of backlog ahead; meanwhile another dispatcher's lane ended that run (a
        // recount found it cancelled) and parked a new one, which the parked lanes' row names.
        PartitionLanes.Kept here = new PartitionLanes.Kept(null, now.plusSeconds(3600), now.plusSeconds(10), 0,
                new PartitionLanes.ParkedOffsets(0, 101, 103));
        PartitionLanes.Kept read = new PartitionLanes.Kept(null, now.plusSeconds(50), now.plusSeconds(5), 0,
                new PartitionLanes.ParkedOffsets(0, 152, 155));
        PartitionLanes.Kept elsewhere = new PartitionLanes.Kept(null, now.plusSeconds(5), now.minusSeconds(5), 0,
                new PartitionLanes.ParkedOffsets(7, 11, 13));

        assertThat(here.with(read).parked()).isEqualTo(new PartitionLanes.ParkedOffsets(0, 152, 155));
        assertThat(here.with(read).lastParkDue()).isEqualTo(now.plusSeconds(3600));
        assertThat(read.with(elsewhere).parked()).as("of two partitions, the later run's")
                .isEqualTo(new PartitionLanes.ParkedOffsets(0, 152, 155));
        assertThat(elsewhere.with(read).parked()).isEqualTo(new PartitionLanes.ParkedOffsets(0, 152, 155));
        assertThat(read.with(new PartitionLanes.Kept(null, now, now, 0)).parked())
                .isEqualTo(new PartitionLanes.ParkedOffsets(0, 152, 155));
        assertThat(read.withParked(new PartitionLanes.ParkedOffsets(0, 156, 160)).parked())
                .isEqualTo(new PartitionLanes.ParkedOffsets(0, 152, 160));
    }

    @Test
    void offsetsParkedOnAnotherPartitionSayNothingOfARecordReadHere() {
        List<ParkingLot.Parked> parked = Collections.synchronizedList(new ArrayList<>());
        Instant now = clock.instant();
        // Parked before the topic's partitions were counted anew: A's records were on partition 7 then.
        PartitionLanes partition = gainedAfter(parked, new ParkingLot.ParkedLane(A, now.plusSeconds(2),
                now.plusSeconds(20), new PartitionLanes.ParkedOffsets(7, 10, 20)));

        admitRequest(partition, 5, "r-5", Map.of());
        time.advanceTimeBy(Duration.ofMillis(100));

        assertThat(startsOf(A)).as("an arrival, parked behind the backlog").isEmpty();
        assertThat(parked).extracting(ParkingLot.Parked::dueAt).containsExactly(now.plusSeconds(21));
    }

    @Test
    void anAssignmentWhoseParkedDueTimesCannotBeReadStartsItsLanesAsNewOnesAndCountsIt() {
        parking = new ParkingLot(null) {
            @Override
            Flux<ParkedLane> parkedLanes(Instant since, Instant at) {
                return Flux.error(new IllegalStateException("the database is down"));
            }
        };
        PartitionLanes partition = lanes(pacing(1, 1, 0, Map.of()),
                new LanesProperties(1000, 50, Duration.ofSeconds(10), 150));
        built.owns(Set.of(0), Set.of(), 1);

        admit(partition, A);
        time.advanceTimeBy(Duration.ofMillis(100));

        assertThat(startsOf(A)).hasSize(1);
        assertThat(registry.get("dialer.dispatcher.lanes.parked.lanes.unread").counter().count()).isEqualTo(1.0);
    }

    @Test
    void aRevokedGenerationsPaceTimerGivesUpItsPlaceInTheJobStreamAtOnce() {
        // One job at a time: caller ID A's second call waits 10 s for its turn, its timer holding that one place.
        PartitionLanes partition = lanes(pacing(0.1, 1, 0, Map.of()),
                new LanesProperties(1000, 50, Duration.ofMinutes(5), 150), this::work, 1);
        admit(partition, A);
        admit(partition, A);
        assertThat(startsOf(A)).hasSize(1);

        partition.revoke();
        partition.reassigned();
        admit(partition, B);
        time.advanceTimeBy(Duration.ofSeconds(1));

        assertThat(startsOf(B)).as("dialled without waiting for the revoked lane's timer").hasSize(1);
        time.advanceTimeBy(Duration.ofSeconds(20));
        assertThat(startsOf(A)).as("the revoked lane's call is the next owner's").hasSize(1);
    }

    /** Pacing with a rate for one campaign, the trunk's rate and concurrency as given (0: none), else the defaults. */
    private static PacingProperties campaignPacing(String campaign, double cps, int trunkCps, int trunkConcurrency) {
        return new PacingProperties(10, 1, Map.of(), Map.of(), Map.of(campaign, cps), trunkCps, trunkConcurrency,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
    }

    private PartitionLanes lanes(PacingProperties pacing, LanesProperties properties) {
        return lanes(pacing, properties, this::work);
    }

    private PartitionLanes lanes(PacingProperties pacing, LanesProperties properties, LaneWork work) {
        return lanes(pacing, properties, work, 10_000);
    }

    /** @param concurrency how many of the partition's jobs run at once */
    private PartitionLanes lanes(PacingProperties pacing, LanesProperties properties, LaneWork work,
                                 int concurrency) {
        Lanes lanes = new Lanes(properties, pacing,
                new ConfiguredCallerLimits(pacing, account -> accountCps.containsKey(account)
                        ? OptionalDouble.of(accountCps.get(account)) : OptionalDouble.empty()), parking, clock,
                new PacingMetrics(registry), inFlightCalls, time, time, command -> !downCallerIds.contains(command.callerId()),
                command -> {
                    if ("defect".equals(command.campaign())) {
                        throw new IllegalStateException("a defect");
                    }
                    return command.campaign() != null && cancelledCampaigns.contains(command.campaign());
                }, command -> dncNumbers.contains(command.to()));
        built = lanes;
        PartitionLanes partition = lanes.forPartition("dialer.call.commands", 0, new PartitionFlow(), work);
        running = partition.jobs(concurrency).subscribe();
        return partition;
    }

    private Mono<LaneWork.Placement> work(InboundRecord record, LaneTicket ticket) {
        return Mono.fromRunnable(() -> {
            started.add(new Started(record.key(), time.now(TimeUnit.NANOSECONDS), record.offset()));
            record.acknowledge();
        }).thenReturn(placed ? LaneWork.Placement.PLACED : LaneWork.Placement.NOT_PLACED);
    }

    private void admit(PartitionLanes lanes, String callerId) {
        admit(lanes, "acc", callerId);
    }

    private void admit(PartitionLanes lanes, String account, String callerId) {
        admit(lanes, account, callerId, Map.of());
    }

    private void admit(PartitionLanes lanes, String account, String callerId, Map<String, String> headers) {
        long offset = nextOffset++;
        String json = """
                {"version":1,"request_id":"r-%d","account_id":"%s","caller_id":"%s","to":"+4915112345678",
                 "audio":"welcome.wav","created_at":"2025-06-01T12:00:00Z"}""".formatted(offset, account, callerId);
        byte[] value = json.getBytes(StandardCharsets.UTF_8);
        CallCommand command = reader.read(value);
        lanes.admit(new InboundRecord("dialer.call.commands", 0, offset, callerId, value, headers,
                () -> acknowledged.add(offset)), new LaneTicket(command));
    }

    private void admitWithOptions(PartitionLanes lanes, String callerId, String carrierOptions) {
        admitWithField(lanes, callerId, "\"carrier_options\":" + carrierOptions);
    }

    /**
     * Partition 0 at 1 CPS a caller ID, gained from a dispatcher whose lanes parked {@code previous} (those still to
     * come back are read); what is parked here goes to {@code parked}.
     */
    private PartitionLanes gainedAfter(List<ParkingLot.Parked> parked, ParkingLot.ParkedLane... previous) {
        parking = new ParkingLot(null) {
            @Override
            Mono<Void> parkAll(List<Parked> batch) {
                return Mono.fromRunnable(() -> parked.addAll(batch));
            }

            @Override
            Flux<ParkedLane> parkedLanes(Instant since, Instant at) {
                return Flux.fromArray(previous).filter(lane -> lane.lastDueAt().isAfter(since));
            }
        };
        PartitionLanes partition = lanes(pacing(1, 1, 0, Map.of()),
                new LanesProperties(1000, 50, Duration.ofSeconds(10), 150));
        built.owns(Set.of(0), Set.of(), 1);
        return partition;
    }

    /**
     * A parking lot whose schedule is {@code schedule}, one row per request; a row parked again keeps the earlier due
     * time, as the SQL keeps a parked row's that the retry scheduler has not claimed.
     */
    private Map<String, ParkingLot.Parked> scheduleInto() {
        Map<String, ParkingLot.Parked> schedule = new ConcurrentHashMap<>();
        parking = new ParkingLot(null) {
            @Override
            Mono<Void> parkAll(List<Parked> batch) {
                return Mono.fromRunnable(() -> batch.forEach(row -> schedule.merge(row.command().requestId(), row,
                        (kept, again) -> again.dueAt().isBefore(kept.dueAt()) ? again : kept)));
            }
        };
        return schedule;
    }

    /**
     * Dials as the attempt ledger lets them, into {@code dialled} (each request's number, "r-N"): a request once, a
     * copy of it read again only acknowledged.
     */
    private LaneWork dialledOnce(List<Integer> dialled) {
        return dialledOnce(dialled, new ConcurrentHashMap<>());
    }

    /** {@link #dialledOnce(List)}, noting when each request was dialled, on the virtual clock. */
    private LaneWork dialledOnce(List<Integer> dialled, Map<String, Long> dialledAt) {
        return (record, ticket) -> Mono.fromRunnable(() -> {
            int request = Integer.parseInt(ticket.command().requestId().substring(2));
            if (!dialled.contains(request)) {
                dialled.add(request);
                dialledAt.put(ticket.command().requestId(), time.now(TimeUnit.MILLISECONDS));
            }
            record.acknowledge();
        }).thenReturn(LaneWork.Placement.NOT_PLACED);
    }

    /** Work that notes each request dialled (by its number, "r-7" as 7) and when, on the virtual clock. */
    private LaneWork dialling(List<Integer> dialled, Map<String, Long> dialledAt) {
        return (record, ticket) -> Mono.fromRunnable(() -> {
            dialled.add(Integer.parseInt(ticket.command().requestId().substring(2)));
            dialledAt.put(ticket.command().requestId(), time.now(TimeUnit.MILLISECONDS));
            record.acknowledge();
        }).thenReturn(LaneWork.Placement.NOT_PLACED);
    }

    /**
     * A parking lot whose schedule is {@code schedule}, one row per attempt; a recount moves the caller ID's rows still
     * to come as the SQL does, and is noted in {@code recounts}.
     */
    private static ParkingLot recountingInto(Map<String, ParkingLot.Parked> schedule, List<Instant> recounts) {
        return new ParkingLot(null) {
            @Override
            Mono<Void> parkAll(List<Parked> batch) {
                return Mono.fromRunnable(() -> batch.forEach(row -> schedule.put(row.command().requestId(), row)));
            }

            @Override
            Mono<Backlog> recount(String callerId, Instant from, Instant start, Duration step, Instant handedOut,
                                  boolean later) {
                return Mono.fromCallable(() -> {
                    recounts.add(from);
                    List<Parked> waiting = schedule.values().stream()
                            .filter(row -> row.command().callerId().equals(callerId) && row.dueAt().isAfter(from))
                            .sorted(java.util.Comparator.comparing(Parked::dueAt)).toList();
                    for (int i = 0; i < waiting.size(); i++) {
                        Instant moved = start.plus(step.multipliedBy(i));
                        if (later || moved.isBefore(waiting.get(i).dueAt())) {
                            schedule.put(waiting.get(i).command().requestId(),
                                    new Parked(waiting.get(i).command(), moved));
                        }
                    }
                    return schedule.values().stream().filter(row -> row.command().callerId().equals(callerId))
                            .map(Parked::dueAt).filter(due -> due.isAfter(from)).sorted().toList();
                }).filter(left -> !left.isEmpty()).map(left -> new Backlog(left.get(0), left.get(left.size() - 1)));
            }
        };
    }

    /** The retry scheduler publishes what is due, in due order, to the end of the partition. */
    private void publishDue(PartitionLanes lanes, Map<String, ParkingLot.Parked> schedule) {
        List<ParkingLot.Parked> due = schedule.values().stream()
                .filter(row -> !row.dueAt().isAfter(clock.instant()))
                .sorted(java.util.Comparator.comparing(ParkingLot.Parked::dueAt)).toList();
        due.forEach(row -> schedule.remove(row.command().requestId()));
        due.forEach(row -> admitRequest(lanes, row.command().requestId(),
                Map.of(PartitionLanes.PARKED_HEADER, row.dueAt().toString())));
    }

    /**
     * Caller ID A's lanes at 10 calls a second, park-after 10 s, with three calls of the campaign "trickle" (one call
     * every 50 s): the first started, the other two parked for the campaign's wait.
     */
    private PartitionLanes threeCallsOfATrickleCampaign() {
        PacingProperties pacing = campaignPacing("trickle", 0.02, 0, 0);
        PartitionLanes lanes = lanes(pacing, new LanesProperties(1000, 50, Duration.ofSeconds(10), 150));
        for (int i = 0; i < 3; i++) {
            admitInCampaign(lanes, A, "trickle");
        }
        return lanes;
    }

    /** {@code tenths} tenths of a second, the schedule's due rows published as commands at the start of each. */
    private void publishDueCommandsFor(PartitionLanes lanes, Map<String, ParkingLot.Parked> schedule, int tenths) {
        for (int tenth = 0; tenth < tenths; tenth++) {
            publishDueCommands(lanes, schedule);
            time.advanceTimeBy(Duration.ofMillis(100));
        }
    }

    /** As {@link #publishDue}, each command as it was parked (its campaign and caller ID kept). */
    private void publishDueCommands(PartitionLanes lanes, Map<String, ParkingLot.Parked> schedule) {
        List<ParkingLot.Parked> due = schedule.values().stream()
                .filter(row -> !row.dueAt().isAfter(clock.instant()))
                .sorted(java.util.Comparator.comparing(ParkingLot.Parked::dueAt)).toList();
        due.forEach(row -> schedule.remove(row.command().requestId()));
        for (ParkingLot.Parked row : due) {
            long offset = nextOffset++;
            byte[] value = Contract.toJson(row.command()).getBytes(StandardCharsets.UTF_8);
            lanes.admit(new InboundRecord("dialer.call.commands", 0, offset, row.command().callerId(), value,
                    Map.of(PartitionLanes.PARKED_HEADER, row.dueAt().toString()), () -> acknowledged.add(offset)),
                    new LaneTicket(row.command()));
        }
    }

    private void admitRequest(PartitionLanes lanes, String requestId, Map<String, String> headers) {
        admitRequest(lanes, nextOffset++, requestId, headers);
    }

    /** A record at {@code offset}, as one read again from the partition. */
    private void admitRequest(PartitionLanes lanes, long offset, String requestId, Map<String, String> headers) {
        String json = """
                {"version":1,"request_id":"%s","account_id":"acc","caller_id":"%s","to":"+4915112345678",
                 "audio":"welcome.wav","created_at":"2025-06-01T12:00:00Z"}""".formatted(requestId, A);
        byte[] value = json.getBytes(StandardCharsets.UTF_8);
        lanes.admit(new InboundRecord("dialer.call.commands", 0, offset, A, value, headers,
                () -> acknowledged.add(offset)), new LaneTicket(reader.read(value)));
    }

    private void admitInCampaign(PartitionLanes lanes, String callerId, String campaign) {
        admitWithField(lanes, callerId, "\"campaign\":\"" + campaign + "\"");
    }

    private void admitWithPriority(PartitionLanes lanes, String callerId, int priority) {
        admitWithField(lanes, callerId, "\"priority\":" + priority);
    }

    /** A command of account {@code acc} with one more field ({@code "name":value}). */
    private void admitTo(PartitionLanes lanes, String callerId, String to) {
        admitCommand(lanes, callerId, to, "");
    }

    private void admitWithField(PartitionLanes lanes, String callerId, String field) {
        admitCommand(lanes, callerId, "+4915112345678", field + ",");
    }

    private void admitCommand(PartitionLanes lanes, String callerId, String to, String fields) {
        admitCommand(lanes, "acc", callerId, to, fields);
    }

    private void admitCommand(PartitionLanes lanes, String account, String callerId, String to, String fields) {
        long offset = nextOffset++;
        String json = """
                {"version":1,"request_id":"r-%d","account_id":"%s","caller_id":"%s","to":"%s",
                 "audio":"welcome.wav",%s"created_at":"2025-06-01T12:00:00Z"}"""
                .formatted(offset, account, callerId, to, fields);
        byte[] value = json.getBytes(StandardCharsets.UTF_8);
        lanes.admit(new InboundRecord("dialer.call.commands", 0, offset, callerId, value, Map.of(),
                () -> acknowledged.add(offset)), new LaneTicket(reader.read(value)));
    }

    /** Lanes park into a list from here on, as the schedule would store them; the list is returned. */
    private List<ParkingLot.Parked> parkingInto() {
        List<ParkingLot.Parked> parked = Collections.synchronizedList(new ArrayList<>());
        parking = new ParkingLot(null) {
            @Override
            Mono<Void> parkAll(List<Parked> batch) {
                return Mono.fromRunnable(() -> parked.addAll(batch));
            }
        };
        return parked;
    }

    private List<Long> startsOf(String callerId) {
        return started.stream().filter(s -> s.callerId().equals(callerId)).map(Started::at).toList();
    }

    private static PacingProperties pacing(double callerCps, int burst, double trunkCps, Map<String, Double> numbers) {
        return new PacingProperties(callerCps, burst, Map.of(), numbers, Map.of(), trunkCps, 0,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
    }

    private record Started(String callerId, long at, long offset) {
    }
}
