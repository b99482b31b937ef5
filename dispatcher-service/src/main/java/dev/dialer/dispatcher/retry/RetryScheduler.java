package dev.dialer.dispatcher.retry;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import dev.dialer.common.trace.TraceParent;
import dev.dialer.dispatcher.carrier.CarrierReadiness;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.pacing.PartitionLanes;
import dev.dialer.dispatcher.policy.KnownControls;
import dev.dialer.dispatcher.resilience.Heartbeat;
import dev.dialer.dispatcher.resilience.InfraRetry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The retry pipeline: every {@code poll-interval} it claims the due rows of {@code dispatch.schedule} (a lease, so
 * other dispatchers skip them), asks the {@link WaitEndCheck} whether the request still wants the attempt, publishes
 * the attempt's command to {@code dialer.call.commands} keyed by caller ID ({@code acks=all}) and only then deletes
 * the row. The command consumer then dials it like any other command.
 *
 * <p>Delivery: at least once per scheduled attempt. A crash (or an error) after publishing and before deleting
 * leaves the row, which is fired again once its lease lapses; the second command is harmless, because the attempt
 * ledger records each attempt once ({@code INSERT … ON CONFLICT DO NOTHING}) and does not dial a command whose
 * attempt row already exists. A retry is never early: rows are claimed only when {@code due_at} has passed.
 *
 * <p>A due row whose route has no carrier taking calls (every breaker open) stays in the schedule and is looked at
 * again 5 s later, rather than published to wait in its lane (decision 0067).
 *
 * <p>A tick that finds work still running when the next one comes is skipped ({@code onBackpressureDrop}), so a
 * slow database never piles up ticks. A tick serves the accounts with rows due in turn (decision 0134): it finds them
 * (at most {@value #MAX_CLAIMS_PER_TICK} × {@code batch-size}, starting after the account the tick before served
 * last), then claims {@code batch-size} rows at a time, shared among up to {@code batch-size} accounts, and fires them,
 * {@value #CONCURRENCY} caller IDs at a time, the rows of one caller ID one after another in due order (so its parked
 * commands reach its lane in their turn). An account that had as many rows as its share has its turn again in the next
 * claim, at once (up to {@value #MAX_CLAIMS_PER_TICK} claims), so a schedule with many rows due (a parked backlog,
 * retries of a large campaign, the waits that piled up during an outage, a calling window opening on a whole
 * campaign) drains as fast as its rows can be fired, not {@code batch-size} per {@code poll-interval}, and one
 * account's backlog never holds another account's waits behind it for longer than a claim. Each claim of a tick takes
 * only what was due when the tick began.
 *
 * <p>Whether the ticks still complete is what its health component reads ({@link #stalledFor}): a tick that hangs or
 * fails, one after another, leaves the pipeline subscribed while no wait ends.
 */
@Component
public class RetryScheduler {

    private static final Logger log = LoggerFactory.getLogger(RetryScheduler.class);
    static final int CONCURRENCY = 16;
    /**
     * Claims one tick makes at most: 2,000 rows a second at the default batch size. Bounds how long a tick runs, and
     * how fast records a busy lane sheds (due again at once, to keep their order) can cycle through the schedule.
     */
    static final int MAX_CLAIMS_PER_TICK = 20;

    /**
     * How long a row's command may take to be acknowledged, at most, before its commands partition is taken as not
     * writable (its leader away, too few in-sync replicas) until the row's lease lapses: the row, and every row of
     * that partition claimed meanwhile, stay in the schedule, all claimable again when that lease lapses, so one such
     * partition does not hold every claim for the producer's whole delivery time-out. A command that lands after all
     * is published again with its row: the attempt ledger dials it once. A third of the lease when that is shorter,
     * so that the partition is found out before the claim is given up.
     */
    static final Duration PUBLISH_PATIENCE = Duration.ofSeconds(5);

    /** How soon a row held for want of a carrier is looked at again. */
    private static final Duration CARRIER_RECHECK = Duration.ofSeconds(5);
    /** The reason of a row the lanes parked for their backlog. */
    private static final String PARKED = "parked";
    /** {@code error.code} of a request whose waiting attempt's command Kafka refuses for its size. */
    static final String COMMAND_TOO_LARGE = "command_too_large";

    private final RetrySchedule schedule;
    private final WaitEndCheck waitEndCheck;
    private final Function<OutboundRecord, Mono<Void>> publish;
    private final RetryProperties properties;
    private final Clock clock;
    private final RetryMetrics metrics;
    private final Predicate<CallCommand> carrierAccepting;
    private final Predicate<CallCommand> campaignPaused;
    private final Duration pauseRecheck;
    private final Heartbeat progress;
    private final BiFunction<CallCommand, String, Mono<Void>> endFailed;
    private final Function<String, Mono<Integer>> partitionOf;
    private final Duration publishPatience;
    /**
     * Partitions of {@code dialer.call.commands} that took no command in time, each until the lease of the first row
     * left for it lapses; and caller IDs whose row failed, each until that row's lease lapses. Their rows claimed
     * meanwhile are not published: they are left in the schedule, claimable again at that same time, so that a caller
     * ID's rows come back together and are fired in their order, not a later one first.
     */
    private final Map<Integer, Instant> stalledPartitions = new ConcurrentHashMap<>();
    private final Map<String, Instant> heldCallerIds = new ConcurrentHashMap<>();
    /**
     * When the running tick began: a hold is judged by it, as the claims judge leases, so that a hold that ends while
     * the tick runs still holds in it (the rows it left are not claimable again before the next tick).
     */
    private volatile Instant tickStarted = Instant.MIN;
    /** The account the latest claim served last: the next tick's turns start after it. */
    private final AtomicReference<String> lastServed = new AtomicReference<>("");

    @Autowired
    RetryScheduler(RetrySchedule schedule, WaitEndCheck waitEndCheck, KafkaPublisher publisher,
                   RetryProperties properties, Clock clock, RetryMetrics metrics, CarrierReadiness carrier,
                   KnownControls controls, CallEvents events) {
        this(schedule, waitEndCheck, publisher::publish, properties, clock, metrics, carrier::accepting,
                controls::paused, controls.pauseRecheck(), (command, message) -> events.finishOnce(command,
                        FinalStatus.FAILED, event -> event.error(COMMAND_TOO_LARGE, message),
                        InfraRetry.brief("end request " + command.requestId())),
                callerId -> publisher.partitionOf(Topics.CALL_COMMANDS, callerId));
    }

    RetryScheduler(RetrySchedule schedule, WaitEndCheck waitEndCheck, Function<OutboundRecord, Mono<Void>> publish,
                   RetryProperties properties, Clock clock, RetryMetrics metrics,
                   Predicate<CallCommand> carrierAccepting) {
        this(schedule, waitEndCheck, publish, properties, clock, metrics, carrierAccepting, command -> false,
                Duration.ofMinutes(5));
    }

    RetryScheduler(RetrySchedule schedule, WaitEndCheck waitEndCheck, Function<OutboundRecord, Mono<Void>> publish,
                   RetryProperties properties, Clock clock, RetryMetrics metrics,
                   Predicate<CallCommand> carrierAccepting, Predicate<CallCommand> campaignPaused,
                   Duration pauseRecheck) {
        this(schedule, waitEndCheck, publish, properties, clock, metrics, carrierAccepting, campaignPaused,
                pauseRecheck, (command, message) -> Mono.error(new IllegalStateException(
                        "this scheduler ends no request")));
    }

    /**
     * @param endFailed ends a request {@code failed} with {@value #COMMAND_TOO_LARGE} and the message given: its
     *                  waiting attempt's command is larger than Kafka takes
     */
    RetryScheduler(RetrySchedule schedule, WaitEndCheck waitEndCheck, Function<OutboundRecord, Mono<Void>> publish,
                   RetryProperties properties, Clock clock, RetryMetrics metrics,
                   Predicate<CallCommand> carrierAccepting, Predicate<CallCommand> campaignPaused,
                   Duration pauseRecheck, BiFunction<CallCommand, String, Mono<Void>> endFailed) {
        this(schedule, waitEndCheck, publish, properties, clock, metrics, carrierAccepting, campaignPaused,
                pauseRecheck, endFailed, callerId -> Mono.just(0));
    }

    /**
     * @param partitionOf the partition of {@code dialer.call.commands} a caller ID's commands go to
     */
    RetryScheduler(RetrySchedule schedule, WaitEndCheck waitEndCheck, Function<OutboundRecord, Mono<Void>> publish,
                   RetryProperties properties, Clock clock, RetryMetrics metrics,
                   Predicate<CallCommand> carrierAccepting, Predicate<CallCommand> campaignPaused,
                   Duration pauseRecheck, BiFunction<CallCommand, String, Mono<Void>> endFailed,
                   Function<String, Mono<Integer>> partitionOf) {
        this.endFailed = endFailed;
        this.partitionOf = partitionOf;
        Duration third = properties.lease().dividedBy(3);
        this.publishPatience = third.compareTo(PUBLISH_PATIENCE) < 0 ? third : PUBLISH_PATIENCE;
        this.campaignPaused = campaignPaused;
        this.pauseRecheck = pauseRecheck;
        this.schedule = schedule;
        this.waitEndCheck = waitEndCheck;
        this.publish = publish;
        this.properties = properties;
        this.clock = clock;
        this.metrics = metrics;
        this.carrierAccepting = carrierAccepting;
        this.progress = metrics.progress(clock);
    }

    /** Runs until cancelled; errors are logged per tick and per row and never end it. */
    public Flux<Void> run() {
        return Flux.interval(properties.pollInterval())
                .onBackpressureDrop()
                .concatMap(tick -> fireDue(), 1)
                // Counted from the start: the first tick is due within one poll interval.
                .doOnSubscribe(subscription -> progress.beat())
                .doFinally(progress::stop);
    }

    /**
     * Whether no tick has completed for {@code staleAfter} (each one given up or failed, or one still running): then
     * no wait ends on this dispatcher. False while the scheduler is not running (its health tells that apart).
     */
    public boolean stalledFor(Duration staleAfter) {
        return progress.staleFor(staleAfter);
    }

    /** When a tick last completed (or the scheduler started); {@code null} while it is not running. */
    public Instant lastProgress() {
        return progress.last();
    }

    /**
     * One tick: what was due when it began, fired claim by claim, the accounts with rows due served in turn; completes
     * when no account has rows left in its turn, a row could not be moved on, {@value #MAX_CLAIMS_PER_TICK} claims
     * were made, or a claim ran past its lease. A claim still running then (a connection that hangs without failing)
     * would hold up every later tick for ever, while the rows it claimed are free for the taking again; it is given
     * up, and the next tick claims afresh. A claim is progress if it found nothing due or moved at least one row on
     * (fired, held or dropped), whether it completed or was given up at its lease (a partition slow to acknowledge):
     * one whose every row failed (Kafka refusing every command at once) released nothing.
     */
    Mono<Void> fireDue() {
        return Mono.defer(() -> {
            // Every claim of the tick takes what was due when it began: a row it held (due again a few seconds on)
            // or whose lease lapsed while it ran waits for a later tick.
            Instant tickStart = clock.instant();
            tickStarted = tickStart;
            stalledPartitions.values().removeIf(until -> !until.isAfter(tickStart));
            heldCallerIds.values().removeIf(until -> !until.isAfter(tickStart));
            int batch = properties.batchSize();
            return schedule.dueAccounts(tickStart, lastServed.get(), batch * MAX_CLAIMS_PER_TICK)
                    .timeout(properties.lease())
                    .flatMap(accounts -> {
                        if (accounts.isEmpty()) {
                            // Nothing due: the tick is done, and it made progress.
                            progress.beat();
                            return Mono.empty();
                        }
                        Deque<RetrySchedule.Share> turns = new ArrayDeque<>(accounts.size());
                        accounts.forEach(account -> turns.add(new RetrySchedule.Share(account, 0)));
                        return Mono.defer(() -> fireClaim(tickStart, turns))
                                .repeat(MAX_CLAIMS_PER_TICK - 1)
                                .takeUntil(done -> done)
                                .then();
                    })
                    .onErrorResume(error -> {
                        log.warn("could not find the accounts with retries due; trying again next tick: {}",
                                error.toString());
                        return Mono.empty();
                    });
        });
    }

    /**
     * One claim of due rows, fired: {@code batch-size} shared among the first accounts of {@code turns} (as evenly as
     * it divides), each taken from the front; one that had as many rows due as its share goes to the back for another
     * turn, which starts after the last row this one took for it. Emits whether the tick is done: no account has a
     * turn left, a row it claimed could not be moved on (claiming again at once would only meet the same failure, and
     * could publish a caller ID's later rows before the one that failed), or what it moved on could not be removed.
     *
     * <p>The claim and its firing are given up after the lease (the rows are free for the taking again by then);
     * the rows it released or dropped until then are removed in any case, with a time limit of their own, so a slow
     * firing does not send its whole claim to Kafka again.
     */
    private Mono<Boolean> fireClaim(Instant tickStart, Deque<RetrySchedule.Share> turns) {
        if (turns.isEmpty()) {
            return Mono.just(true);
        }
        List<RetrySchedule.Share> shares = shares(turns, properties.batchSize());
        lastServed.set(shares.get(shares.size() - 1).accountId());
        Moved moved = new Moved();
        return Flux.defer(() -> schedule.claimDue(tickStart, clock.instant(), properties.lease(), shares))
                .collectList()
                .doOnNext(rows -> {
                    Map<String, List<ScheduledAttempt>> claimed = rows.stream()
                            .collect(Collectors.groupingBy(RetrySchedule::accountOf));
                    for (RetrySchedule.Share share : shares) {
                        List<ScheduledAttempt> taken = claimed.getOrDefault(share.accountId(), List.of());
                        if (taken.size() >= share.most()) {
                            turns.addLast(new RetrySchedule.Share(share.accountId(), 0,
                                    RetrySchedule.lastInOrder(taken)));
                        }
                    }
                })
                .flatMap(rows -> fireRows(rows, moved))
                .timeout(properties.lease())
                // The rows not moved on stay and are claimed again on a later tick, once the lease lapses. Rows moved
                // on before it was given up are progress: a partition slow to acknowledge is not a stalled schedule.
                .onErrorResume(error -> {
                    log.warn("could not claim or fire due retries; trying again next tick: {}", error.toString());
                    return Mono.just(moved.rows().isEmpty() ? Fired.FAILED : Fired.GIVEN_UP_AFTER_MOVING);
                })
                .flatMap(fired -> removeMoved(moved).map(removed -> {
                    if (removed && fired.progressed()) {
                        progress.beat();
                    }
                    return fired.done() || !removed || turns.isEmpty();
                }));
    }

    /**
     * The shares of the next claim, taken from the front of {@code turns} (an account each, and where its turn
     * starts): {@code batch} rows among at most {@code batch} accounts, as evenly as it divides (the first ones one
     * more).
     */
    static List<RetrySchedule.Share> shares(Deque<RetrySchedule.Share> turns, int batch) {
        int accounts = Math.min(batch, turns.size());
        List<RetrySchedule.Share> shares = new ArrayList<>(accounts);
        for (int turn = 0; turn < accounts; turn++) {
            RetrySchedule.Share next = turns.pollFirst();
            shares.add(new RetrySchedule.Share(next.accountId(), batch / accounts + (turn < batch % accounts ? 1 : 0),
                    next.after()));
        }
        return shares;
    }

    /**
     * Fires a claim's rows into {@code moved}: whether their requests are still wanted is asked once for all of
     * them; the rows released or dropped are removed once every caller ID's turn has ended ({@link #removeMoved}: a
     * row leaves the schedule only after its command is on Kafka; until then its lease keeps it). Rows of a stalled
     * partition or a held caller ID are left ({@link #stalledPartitions}).
     */
    private Mono<Fired> fireRows(List<ScheduledAttempt> rows, Moved moved) {
        if (rows.isEmpty()) {
            // Nothing claimable in these accounts' turns (held by another claim, or fired meanwhile): progress.
            return Mono.just(new Fired(false, true));
        }
        List<CallCommand> released = rows.stream().map(row -> row.command().withAttempt(row.attempt())).toList();
        return waitEndCheck.stillWantedOf(released).flatMap(wanted -> Flux.fromIterable(byCallerId(rows))
                .flatMap(rowsOfOneCallerId -> fireInOrder(rowsOfOneCallerId, wanted, moved), CONCURRENCY)
                .collectList()
                .map(results -> new Fired(results.contains(Fate.FAILED), results.contains(Fate.MOVED))));
    }

    /** How a claim's firing ended: whether the tick is done, and whether it moved any row on. */
    private record Fired(boolean done, boolean progressed) {

        /** Given up or failed: the tick is done, and it was no progress. */
        static final Fired FAILED = new Fired(true, false);

        /** Given up after it moved rows on: the tick is done, and what it moved was progress. */
        static final Fired GIVEN_UP_AFTER_MOVING = new Fired(true, true);
    }

    /**
     * Removes the claim's released and dropped rows and counts them; emits false when they could not be removed (they
     * are fired again once their lease lapses: a command published twice, which the attempt ledger dials once). The
     * rows it left are leased until their hold ends first.
     */
    private Mono<Boolean> removeMoved(Moved moved) {
        List<ScheduledAttempt> rows = moved.rows();
        Map<ScheduledAttempt, Instant> left = moved.left();
        Mono<Void> relet = left.isEmpty() ? Mono.empty()
                : schedule.leaseUntil(left).timeout(properties.lease())
                        .onErrorResume(error -> {
                            log.warn("{} retries left for a stalled partition or a failed row keep their own lease: {}",
                                    left.size(), error.toString());
                            return Mono.empty();
                        });
        if (rows.isEmpty()) {
            return relet.thenReturn(true);
        }
        return schedule.removeAll(rows)
                .timeout(properties.lease())
                .then(Mono.fromCallable(() -> {
                    moved.count(metrics);
                    return true;
                }))
                .onErrorResume(error -> {
                    log.warn("{} retries fired or dropped but not removed; fired again after their lease: {}",
                            rows.size(), error.toString());
                    return Mono.just(false);
                })
                .flatMap(removed -> relet.thenReturn(removed));
    }

    /**
     * What a claim moved on for good, to be removed: rows released (with how late each fired) and rows dropped, each
     * counted under its row's reason. Thread-safe.
     */
    private static final class Moved {
        private final List<Released> released = new ArrayList<>();
        private final List<ScheduledAttempt> dropped = new ArrayList<>();
        private final Map<ScheduledAttempt, Instant> left = new LinkedHashMap<>();

        synchronized void left(ScheduledAttempt row, Instant until) {
            left.put(row, until);
        }

        /** Until when {@code row} was left. */
        synchronized Instant leftUntil(ScheduledAttempt row) {
            return left.get(row);
        }

        /** The rows left in the schedule, each with the time its hold ends, when it is to be claimable again. */
        synchronized Map<ScheduledAttempt, Instant> left() {
            return Map.copyOf(left);
        }

        synchronized void released(ScheduledAttempt row, Duration late) {
            released.add(new Released(row, late));
        }

        synchronized void dropped(ScheduledAttempt row) {
            dropped.add(row);
        }

        synchronized List<ScheduledAttempt> rows() {
            List<ScheduledAttempt> rows = new ArrayList<>(released.size() + dropped.size());
            released.forEach(row -> rows.add(row.row()));
            rows.addAll(dropped);
            return rows;
        }

        synchronized void count(RetryMetrics metrics) {
            released.forEach(row -> metrics.fired(row.row().reason(), row.late()));
            dropped.forEach(row -> metrics.dropped(row.reason()));
        }

        /** A row whose command was published, {@code late} after its wait first became due. */
        private record Released(ScheduledAttempt row, Duration late) {
        }
    }

    /**
     * The tick's rows by caller ID (the commands' key), each caller ID's in the claim's order (due time first). The
     * claim returns them in no particular order, and the lane takes a parked command in the order it arrives.
     */
    private static Collection<List<ScheduledAttempt>> byCallerId(List<ScheduledAttempt> rows) {
        return rows.stream()
                .sorted(RetrySchedule.CLAIM_ORDER)
                .collect(Collectors.groupingBy(row -> row.command().callerId(), LinkedHashMap::new,
                        Collectors.toList()))
                .values();
    }

    /**
     * Fires one caller ID's rows one after another, each published only once the one due before it is: published side
     * by side, they could reach Kafka in any order, and the lane would dial its parked records out of their turn. A row
     * that fails ends the caller ID's turn in this tick: the rows after it stay claimed and are fired with it, in due
     * order, once their lease lapses; and the caller ID's rows claimed in later ticks before then are left for that
     * time too ({@link #heldCallerIds}), so that its later rows are not fired first. So does a row left for its
     * partition.
     */
    private Flux<Fate> fireInOrder(List<ScheduledAttempt> rowsOfOneCallerId, Set<String> wanted, Moved moved) {
        String callerId = rowsOfOneCallerId.get(0).command().callerId();
        Instant held = heldUntil(heldCallerIds, callerId);
        if (held != null) {
            rowsOfOneCallerId.forEach(row -> moved.left(row, held));
            return Flux.just(Fate.LEFT);
        }
        AtomicInteger fired = new AtomicInteger();
        return Flux.fromIterable(rowsOfOneCallerId)
                .concatMap(row -> fire(row, wanted.contains(row.command().requestId()), moved))
                .doOnNext(fate -> fired.incrementAndGet())
                .takeUntil(fate -> fate != Fate.MOVED)
                .doOnNext(fate -> {
                    if (fate == Fate.MOVED) {
                        return;
                    }
                    ScheduledAttempt stopped = rowsOfOneCallerId.get(fired.get() - 1);
                    if (fate == Fate.LEFT) {
                        // Its partition is stalled: the caller ID's rows after it, leased by this claim for longer,
                        // are left until the same time (later ticks leave its rows by their partition).
                        Instant until = moved.leftUntil(stopped);
                        rowsOfOneCallerId.subList(fired.get(), rowsOfOneCallerId.size())
                                .forEach(row -> left(row, until, moved));
                    } else {
                        // Its rows after it keep this claim's lease; those later ticks claim meanwhile are left.
                        hold(heldCallerIds, callerId, leaseOf(stopped));
                    }
                });
    }

    /** The end of {@code key}'s hold in {@code holds} if it still holds in the running tick, else null. */
    private <K> Instant heldUntil(Map<K, Instant> holds, K key) {
        Instant until = holds.get(key);
        return until != null && until.isAfter(tickStarted) ? until : null;
    }

    /**
     * Holds {@code key} until {@code until} unless it is held already (a hold is never moved later: the rows it left
     * are claimable again at its end); one that has ended is replaced. Answers the hold's end.
     */
    private <K> Instant hold(Map<K, Instant> holds, K key, Instant until) {
        return holds.compute(key, (k, held) -> held != null && held.isAfter(tickStarted) ? held : until);
    }

    /** When the row's lease lapses, by the claim that took it. */
    private Instant leaseOf(ScheduledAttempt row) {
        return row.leaseUntil() != null ? row.leaseUntil() : clock.instant().plus(properties.lease());
    }

    /** What became of a row a claim fired. */
    private enum Fate {
        /** Released, held or dropped: done with in this tick. */
        MOVED,
        /** Not moved on for a failure: it stays claimed, and the tick ends after the claim. */
        FAILED,
        /** Left in the schedule until a hold ends: its partition took no command in time, or its caller ID failed. */
        LEFT
    }

    /** What became of the row. */
    private Mono<Fate> fire(ScheduledAttempt row, boolean wanted, Moved moved) {
        return Mono.defer(() -> !wanted ? drop(row, moved).thenReturn(Fate.MOVED)
                        // Past its valid_until: published, the dial-time policy ends it expired, held or not.
                        : expired(row) ? release(row, moved)
                        // Still paused: published, the command would spend its lane's and the trunk's rate only to
                        // wait again, with another call.deferred; it stays here silently until a resume releases it.
                        : stillPaused(row) ? schedule.holdPaused(row, row.command().byValidUntil(
                                        clock.instant().plus(pauseRecheck)))
                                .then(Mono.fromRunnable(() -> metrics.stillPaused(row.reason())))
                                .thenReturn(Fate.MOVED)
                        : carrierAccepting.test(row.command()) ? release(row, moved)
                        // No carrier of its route takes calls: published, it would only wait in its lane (and, past
                        // the lane's budget, be parked here again).
                        : keep(row, CARRIER_RECHECK, () -> metrics.held(row.reason())).thenReturn(Fate.MOVED))
                .onErrorResume(RetryScheduler::refusedForItsSize, error -> endUnpublishable(row, moved, error))
                .onErrorResume(error -> {
                    log.warn("retry of request {} attempt {} not fired; again after its lease: {}",
                            row.command().requestId(), row.attempt(), error.toString());
                    return Mono.just(Fate.FAILED);
                });
    }

    /**
     * A command Kafka refuses for its size (one that reached the topic compressed before the dialer refused such
     * commands at intake, or a topic whose limit was lowered since) would be refused at every lease, for ever, and
     * its request would never end: the request ends {@code failed}, with {@value #COMMAND_TOO_LARGE}, and the row is
     * dropped. The caller ID's later rows are fired in their turn.
     */
    private Mono<Fate> endUnpublishable(ScheduledAttempt row, Moved moved, Throwable error) {
        CallCommand command = row.command().withAttempt(row.attempt());
        String message = "attempt " + row.attempt() + "'s command could not be published again: " + error.getMessage();
        log.error("retry of request {} attempt {} is refused by Kafka for its size; the request ends failed: {}",
                command.requestId(), row.attempt(), error.toString());
        return endFailed.apply(command, message)
                .then(Mono.fromRunnable(() -> moved.dropped(row)))
                .thenReturn(Fate.MOVED);
    }

    private static boolean refusedForItsSize(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof RecordTooLargeException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Publish first, delete after (with the claim's other rows, {@link #removeMoved}): the order that makes a crash in
     * between repeat the command, never lose it. A requeued attempt is marked to go to the front of its lane
     * ({@link PartitionLanes#FRONT_OF_LANE_HEADER}), a parked one as back for its turn
     * ({@link PartitionLanes#PARKED_HEADER}). Its lateness counts from when its wait first
     * became due, holds included: a hold moves the row's due time.
     *
     * <p>A row of a stalled partition is left ({@link #stalledPartitions}); one whose command is not acknowledged
     * within the patience ({@link #PUBLISH_PATIENCE}) stalls its partition until its own lease lapses, and is left too.
     */
    private Mono<Fate> release(ScheduledAttempt row, Moved moved) {
        CallCommand next = row.command().withAttempt(row.attempt());
        Map<String, String> headers = new HashMap<>(2);
        if (row.requeued()) {
            headers.put(PartitionLanes.FRONT_OF_LANE_HEADER, row.reason());
        } else if (PARKED.equals(row.reason())) {
            headers.put(PartitionLanes.PARKED_HEADER, row.dueAt().toString());
        }
        // In the request's trace: the command read back records nothing new, and its events continue the request's.
        if (row.traceparent() != null) {
            headers.put(TraceParent.HEADER, row.traceparent());
        }
        Mono<Fate> published = publish.apply(new OutboundRecord(Topics.CALL_COMMANDS, next.callerId(),
                        Contract.toBytes(next), headers))
                .timeout(publishPatience)
                .then(Mono.fromRunnable(() -> moved.released(row,
                        Duration.between(row.firstDueAt(), clock.instant()))))
                .thenReturn(Fate.MOVED)
                .onErrorResume(TimeoutException.class, slow -> partitionOf.apply(next.callerId())
                        .map(partition -> {
                            boolean stalls = heldUntil(stalledPartitions, partition) == null;
                            Instant until = hold(stalledPartitions, partition, leaseOf(row));
                            if (stalls) {
                                log.warn("{} partition {} took no command within {}; its due rows wait until {} to be "
                                        + "fired again", Topics.CALL_COMMANDS, partition, publishPatience, until);
                            }
                            return left(row, until, moved);
                        }));
        return stalledPartitions.isEmpty() ? published : partitionOf.apply(next.callerId())
                .flatMap(partition -> {
                    Instant until = heldUntil(stalledPartitions, partition);
                    return until != null ? Mono.just(left(row, until, moved)) : published;
                });
    }

    /** The row left in the schedule until {@code until}, its partition stalled, and counted. */
    private Fate left(ScheduledAttempt row, Instant until, Moved moved) {
        moved.left(row, until);
        metrics.stalled(row.reason());
        return Fate.LEFT;
    }

    private boolean stillPaused(ScheduledAttempt row) {
        return KnownControls.isPauseWait(row.reason()) && campaignPaused.test(row.command());
    }

    private boolean expired(ScheduledAttempt row) {
        return row.command().expiredAt(clock.instant());
    }

    /**
     * The row stays due here, looked at again {@code recheck} from now (by its {@code valid_until} at the latest, so
     * that a held call expires on time), and is counted.
     */
    private Mono<Void> keep(ScheduledAttempt row, Duration recheck, Runnable counted) {
        Instant again = row.command().byValidUntil(clock.instant().plus(recheck));
        return schedule.holdUntil(row, again)
                .then(Mono.fromRunnable(counted));
    }

    private Mono<Void> drop(ScheduledAttempt row, Moved moved) {
        log.debug("request {} no longer wants attempt {}; dropped", row.command().requestId(), row.attempt());
        return Mono.fromRunnable(() -> moved.dropped(row));
    }

}
