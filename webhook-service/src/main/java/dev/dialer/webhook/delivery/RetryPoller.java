package dev.dialer.webhook.delivery;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Sends the deliveries that are due in {@code webhook.retries}: every poll interval it claims as many due rows as it
 * has free capacity (at most {@code concurrency} in flight, separate from the first tries, which keep their own
 * capacity), leases them for longer than a try can take, and hands each to the {@link WebhookDeliverer}. A claim takes
 * accounts, and each account's endpoints, in turn, those with the fewest of the poller's tries in flight first, and
 * no more rows of either than their concurrency limits leave room for ({@link RetriesInFlight}), so that a backlog of
 * a few accounts to slow endpoints does not take every slot while other accounts' retries are due. Rows of targets
 * whose endpoint refuses tries now ({@link HeldTargets}) are left for later, so they never take the capacity other
 * endpoints' retries need. Also keeps the pending gauge current and purges expired log rows, events and dead
 * letters, and the endpoint state of deleted webhooks.
 *
 * <p>Delivery guarantee: at least once. A row stays in the table until its outcome is written; an instance that
 * dies mid-try leaves the row leased, and it is claimed again when the lease runs out.
 */
public final class RetryPoller {

    private static final Logger log = LoggerFactory.getLogger(RetryPoller.class);
    /** How often the rows waiting in the table are counted for the pending gauge. */
    static final Duration PENDING_COUNT_INTERVAL = Duration.ofSeconds(15);
    /**
     * How long a count may take before it is given up (a connection that hangs without failing): far longer than the
     * interval, since counting a table of millions takes a while, and a count given up too soon would never finish.
     */
    static final Duration PENDING_COUNT_TIMEOUT = Duration.ofMinutes(5);
    /** The most claims a poll tick makes ({@link #claimRounds}). */
    static final int CLAIMS_A_TICK = 4;
    /**
     * The most rows past the schedule's span one claim of the expiry takes ({@link #expiring}), all handled at once:
     * few, so that each is handled well within the lease the claim took, and so that, should the endpoint take tries
     * again during a pass, no more go to it at once than half its limit.
     */
    static final int EXPIRY_BATCH = 8;
    /** The most claims one pass of the expiry makes: at most 1,000 rows a pass. */
    static final int EXPIRY_CLAIMS_A_PASS = 125;

    private final DueDeliveries store;
    private final Delivery deliverer;
    private final RetryProperties properties;
    private final Duration lease;
    private final DeliveryMetrics metrics;
    private final Housekeeping housekeeping;
    private final Duration purgeInterval;
    private final Supplier<HeldTargets.Held> held;
    private final RetriesInFlight retriesInFlight;
    private final Expiry expiry;

    /** Deletes what has outlived its retention, or its webhook. */
    interface Housekeeping {
        Mono<Void> purge();
    }

    /** The retry table as the poller sees it ({@link RetryStore}). */
    interface DueDeliveries {

        /** Rows waiting in the table. */
        Mono<Long> pending();

        /**
         * Claims up to {@code limit} due rows for {@code lease}, accounts and their endpoints in turn, none of a held
         * target or account and none beyond the {@code room} of its endpoint or account.
         */
        Flux<DeliveryTask> claim(int limit, Duration lease, HeldTargets.Held held, RetriesInFlight.Room room);

        /**
         * Claims up to {@code limit} rows of the {@code held} targets and accounts, the rows {@link #claim} passes
         * over, stored before {@code storedBefore}, the oldest first, due or not, for {@code lease}.
         */
        Flux<DeliveryTask> claimHeldStoredBefore(Instant storedBefore, int limit, Duration lease,
                                                 HeldTargets.Held held);
    }

    /**
     * What the expiry gives up ({@link #expiring}).
     *
     * @param shut         the targets whose endpoint is shut now ({@link HeldTargets#shut}), asked afresh at every
     *                     claim
     * @param storedBefore when a row must have been stored before to have waited longer than the retry schedule can
     *                     last ({@link RetrySchedule#span()}), asked afresh at every claim
     */
    record Expiry(Supplier<HeldTargets.Held> shut, Supplier<Instant> storedBefore) {
    }

    /** One try of a claimed delivery and its durable outcome ({@link WebhookDeliverer#deliver}). */
    interface Delivery {
        Mono<Void> deliver(DeliveryTask task);
    }

    /**
     * @param held            the targets to pass over, asked afresh at every claim
     * @param retriesInFlight the poller's own tries in flight, by endpoint and account, which each claim's turns count
     * @param expiry          what the expiry gives up
     */
    RetryPoller(DueDeliveries store, Delivery deliverer, RetryProperties properties, Duration lease,
                DeliveryMetrics metrics, Housekeeping housekeeping, Duration purgeInterval,
                Supplier<HeldTargets.Held> held, RetriesInFlight retriesInFlight, Expiry expiry) {
        this.expiry = expiry;
        this.purgeInterval = purgeInterval;
        this.held = held;
        this.retriesInFlight = retriesInFlight;
        this.store = store;
        this.deliverer = deliverer;
        this.properties = properties;
        this.lease = lease;
        this.metrics = metrics;
        this.housekeeping = housekeeping;
    }

    /** Runs until cancelled. */
    public Mono<Void> run() {
        Flux<DeliveryTask> due = Flux.interval(Duration.ZERO, properties.pollInterval())
                .onBackpressureDrop()
                .concatMap(tick -> claimDue(), 1);
        return Mono.when(due.flatMap(this::deliver, properties.concurrency()).then(), purging(), counting(),
                expiring());
    }

    /**
     * Gives up, every {@code refusal-delay} (as often as a refused row comes due again), the rows of the targets whose
     * endpoint is shut now (its circuit open, or backing off after a 429) that have waited longer than the retry
     * schedule can last: each is handed to the deliverer as a claimed row is, its endpoint refuses it, and the refusal
     * past the span sends it to the dead letters (decision 0114), or, should the endpoint take a trial just then, it
     * is tried. A claim passes held rows over, so without this pass they were given up only as the endpoint's open
     * periods let a claim reach them, a claim's worth per period: an endpoint that stays down under steady traffic grew
     * the table without bound, and every claim ranked past its rows. An endpoint held only for its tries in flight is
     * left alone: it answers. A pass claims at most {@link #EXPIRY_CLAIMS_A_PASS} batches, the next only after a full
     * one has been handled, the shut endpoints asked again for it; its tries do not count among the poller's own in
     * flight, which the claims share out. A failed or hung pass is logged and the next interval makes another.
     */
    private Mono<Void> expiring() {
        Duration interval = properties.refusalDelay();
        return Flux.interval(interval, interval)
                .onBackpressureDrop()
                .concatMap(tick -> expirePass(EXPIRY_CLAIMS_A_PASS)
                        .onErrorResume(error -> {
                            log.warn("giving up held webhook retries past the schedule's span failed: {}",
                                    error.toString());
                            return Mono.empty();
                        }))
                .then();
    }

    private Mono<Void> expirePass(int claims) {
        return Mono.defer(() -> {
            HeldTargets.Held shut = expiry.shut().get();
            if (claims == 0 || shut.isEmpty()) {
                return Mono.empty();
            }
            return store.claimHeldStoredBefore(expiry.storedBefore().get(), EXPIRY_BATCH, lease, shut)
                    .timeout(lease)
                    .collectList()
                    .flatMap(claimed -> Flux.fromIterable(claimed)
                            .flatMap(this::settled)
                            .then(claimed.size() < EXPIRY_BATCH ? Mono.empty() : expirePass(claims - 1)));
        });
    }

    /**
     * Keeps the pending gauge current, on its own: counting a large table takes a while, and the claims must not wait
     * for it. A failure is logged and counted again at the next interval.
     */
    private Mono<Void> counting() {
        return Flux.interval(Duration.ZERO, PENDING_COUNT_INTERVAL)
                .onBackpressureDrop()
                .concatMap(tick -> store.pending()
                        .timeout(PENDING_COUNT_TIMEOUT)
                        .doOnNext(metrics::retriesPending)
                        .onErrorResume(error -> {
                            log.warn("counting pending webhook retries failed: {}", error.toString());
                            return Mono.empty();
                        }))
                .then();
    }

    /**
     * Deletes expired rows now and then; a failure is logged and tried again at the next interval, and so is a purge
     * still running after an interval (a connection that hangs without failing), which would otherwise stop purging
     * for good.
     */
    private Mono<Void> purging() {
        return Flux.interval(purgeInterval, purgeInterval)
                .onBackpressureDrop()
                .concatMap(tick -> housekeeping.purge()
                        .timeout(purgeInterval)
                        .onErrorResume(error -> {
                            log.warn("purging expired delivery records failed: {}", error.toString());
                            return Mono.empty();
                        }))
                .then();
    }

    /** Claims what capacity allows; after a failure the next tick tries again. */
    private Flux<DeliveryTask> claimDue() {
        return claimRounds(CLAIMS_A_TICK)
                // An error here would end the poller for good; PostgreSQL may well be back at the next tick.
                .onErrorResume(error -> {
                    log.warn("polling due webhook retries failed: {}", error.toString());
                    return Flux.empty();
                });
    }

    /**
     * Claims again, within the tick, after a claim that took rows, up to {@code rounds} claims, while capacity is free.
     * A claim ranks only the oldest {@link RetryStore#CANDIDATES} due rows: one account's backlog of more than that,
     * due before everything else (a replay of a week of events queues them all due at once), fills the window, and the
     * claim takes only its endpoint's share of it. Once those tries are in flight their endpoint is full, and its rows
     * are passed over before the window is drawn: the next claim reaches the other accounts' due rows. Claimed once a
     * tick, an endpoint fast enough to finish its share within the tick never showed as full, and every other account's
     * retries waited until the backlog was down to the window's size, hours for a large replay.
     */
    private Flux<DeliveryTask> claimRounds(int rounds) {
        int free = properties.concurrency() - retriesInFlight.total();
        if (free <= 0 || rounds == 0) {
            return Flux.empty();
        }
        return claim(Math.min(free, properties.batchSize()))
                .collectList()
                .flatMapMany(claimed -> claimed.isEmpty() ? Flux.empty()
                        : Flux.fromIterable(claimed).concatWith(Flux.defer(() -> claimRounds(rounds - 1))));
    }

    /**
     * One claim, given up (counted failed) when it has not answered within the lease it takes: its rows would be
     * another poller's to claim by then, and a statement on a connection that hangs without failing would otherwise
     * hold every later tick, and every retry of this instance, for good. The rows it leased on the server meanwhile are
     * claimed again once that lease runs out.
     */
    private Flux<DeliveryTask> claim(int limit) {
        return Flux.defer(() -> {
            long started = System.nanoTime();
            return store.claim(limit, lease, held.get(), retriesInFlight.room())
                    .timeout(lease)
                    .doOnNext(retriesInFlight::started)
                    .doOnComplete(() -> metrics.claim(Duration.ofNanos(System.nanoTime() - started), true))
                    .doOnError(error -> metrics.claim(Duration.ofNanos(System.nanoTime() - started), false));
        });
    }

    /**
     * One try; whatever it throws, even while it is being made, settles it alone and the poller goes on. One not
     * settled within its lease is given up here (its row is claimed again then), so that a try whose outcome can never
     * be written does not hold its place among this instance's retries in flight for good.
     */
    private Mono<Void> deliver(DeliveryTask task) {
        return settled(task).doFinally(signal -> retriesInFlight.ended(task));
    }

    /** A claimed row's try or refusal, settled alone whatever it throws, and given up at its lease. */
    private Mono<Void> settled(DeliveryTask task) {
        return Mono.defer(() -> deliverer.deliver(task))
                .timeout(lease)
                .onErrorResume(error -> {
                    // Its row keeps its lease and is claimed again when the lease runs out.
                    log.warn("retry of event {} to {} {} failed to settle: {}", task.eventId(),
                            task.target().kind().tag(), task.target().id(), error.toString());
                    return Mono.empty();
                });
    }
}
