package dev.dialer.api.kafka;

import dev.dialer.common.kafka.OutboundRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.ReactiveTransactionManager;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What follows a change of a compacted topic's state whose publish outcome is unknown (decision 0127). A change runs
 * in one transaction that commits after Kafka acknowledged its records; when it fails once its records were handed to
 * the producer (Kafka acknowledged too late for the answer, refused one of several records, or the commit failed),
 * the transaction rolls back while the records may still land. Left so, the consumers (webhook-service, the
 * dispatchers) would act on a change the API answered 503 and does not show.
 *
 * <p>So the object's committed state is published again after the rollback: its rows locked in a transaction of
 * their own, their records (or tombstones, for rows that are gone) handed to the same producer, the locks held until
 * the producer stored or gave up the records. The producer keeps the records of one key in order on their partition,
 * so the committed state lands after the late record if that lands at all; a concurrent change of the same object
 * either committed before (and is what is read and published again) or waits for the lock and lands after. A 503
 * then means that the change did not take effect. A campaign cancel is the exception: it is never undone but kept
 * ({@code CallControls}), and counted here too.
 *
 * <p>That restatement runs in this process, unwaited: a process that stops before it, or a restatement that fails,
 * would leave the late record in force. So each change first writes a row naming its object ({@link OwedStates},
 * decision 0129), committed on its own, and deletes it in its transaction once Kafka acknowledged; the restatement
 * deletes it once Kafka stored the committed state. A row left over is the sweeper's ({@link OwedStateSweeper}),
 * which publishes the object's committed state from it, read by the object kind's {@link CommittedStates}.
 *
 * <p>Counted as {@code dialer.api.compensations{change, outcome}}: {@code change} is one of a fixed set of kinds
 * ({@code webhook_update}, {@code campaign_pause}…), {@code outcome} {@code restated} (the committed state is
 * stored), {@code kept} (a cancel's state is committed) or {@code failed} (neither could be done: logged as an
 * error).
 */
@Component
public final class Compensations {

    /** What a 503 of a change undone says after why Kafka did not have its records. */
    public static final String UNDONE = "The change did not take effect: should Kafka still store it, the state the "
            + "API shows is published again after it. Retry the request.";

    private static final Logger log = LoggerFactory.getLogger(Compensations.class);

    private final DatabaseClient db;
    private final AcknowledgedPublisher publisher;
    private final PublishingTransactions transactions;
    private final OwedStates owed;
    private final MeterRegistry registry;

    Compensations(AcknowledgedPublisher publisher, ReactiveTransactionManager tx, OwedStates owed,
                  MeterRegistry registry, DatabaseClient db) {
        this.db = db;
        this.publisher = publisher;
        this.transactions = PublishingTransactions.create(tx);
        this.owed = owed;
        this.registry = registry;
    }

    /** Publishes a change's records, acknowledged, and answers a 503 saying it did not take effect. */
    @FunctionalInterface
    public interface Publication {
        Mono<Void> publish(List<OutboundRecord> records);
    }

    /**
     * Runs {@code work} in a publishing transaction ({@link PublishingTransactions}); {@code work} publishes through
     * the {@link Publication} it is given. If the transaction rolls back after that publish began, {@code committed}
     * is run in a transaction of its own: it locks the changed rows as the change does and answers the records of
     * their committed state, which are then published again.
     *
     * <p>The row owing {@code object}'s state is written before, and deleted with the change's commit, after the
     * restatement, or (nothing was handed to Kafka) after the rollback. One left over because the deletion failed
     * costs one needless restatement of the committed state.
     *
     * @param change    the kind of change, a metric tag: one of a fixed few
     * @param object    what was changed: the row's, and the log's
     * @param committed the committed state's records, its rows locked; cold, run only after such a rollback. The
     *                  records {@code object}'s {@link CommittedStates} reads, or more
     */
    public <T> Mono<T> transactional(String change, OwedState object, Mono<List<OutboundRecord>> committed,
                                     Function<Publication, Mono<T>> work) {
        return owed.owe(object).flatMap(row -> {
            AtomicBoolean published = new AtomicBoolean();
            Publication publication = records -> publisher.publishAll(records, UNDONE)
                    .doOnSubscribe(subscription -> published.set(true));
            // Its locks waited for at most LockWaits.WAIT: a change holds them until Kafka acknowledged.
            Mono<T> bounded = LockWaits.bounded(db).then(Mono.defer(() -> work.apply(publication)));
            return transactions.transactional(settledWith(bounded, row), failure -> {
                if (published.get()) {
                    restate(change, object, row, committed, failure);
                }
            }).onErrorResume(error -> published.get() ? Mono.error(error)
                    : owed.settle(row).onErrorResume(ignored -> Mono.empty()).then(Mono.error(error)));
        });
    }

    /** {@code work}, then the deletion of its row in the same transaction: Kafka acknowledged, nothing is owed. */
    private <T> Mono<T> settledWith(Mono<T> work, long row) {
        return work.map(Optional::of)
                .defaultIfEmpty(Optional.empty())
                .flatMap(result -> owed.settle(row).thenReturn(result))
                .flatMap(Mono::justOrEmpty);
    }

    /**
     * Publishes the committed state after a rolled-back change, then deletes its row. Not waited for by the request
     * (a Kafka slow to acknowledge is why it failed) and not cancelled: the producer goes on until its delivery
     * timeout. Should it fail, or the process stop first, the row is left to the sweeper.
     *
     * <p>Before it, a second row owing the object is written, due once the change's records can no longer land (the
     * producer's {@link AcknowledgedPublisher#longestLanding}, counted from the rollback, which follows the
     * hand-off). The change's own row is due from when the change began, before any wait for its lock: a sweep of it
     * may come before the late records land, and should this restatement then fail, nothing would follow them. The
     * second row's sweep does. Both rows are deleted once the committed state is stored.
     */
    private void restate(String change, OwedState object, long row, Mono<List<OutboundRecord>> committed,
                         Throwable failure) {
        log.warn("{} ({}) was rolled back after its records were handed to Kafka ({}): publishing its committed "
                + "state after them", change, object, failure.toString());
        owed.oweAgain(object, publisher.longestLanding())
                .map(again -> List.of(row, again))
                .onErrorResume(error -> {
                    log.warn("the state owed for {} could not be owed again after the {} that failed ({}): only row "
                            + "{} owes it, due from when the change began", object, change, error.toString(), row);
                    return Mono.just(List.of(row));
                })
                .flatMap(rows -> republish(committed).flatMap(records -> settle(rows).onErrorResume(error -> {
                    log.warn("the state owed for {} is stored, its rows {} not deleted ({}): it is published once "
                            + "more", object, rows, error.toString());
                    return Mono.empty();
                }).thenReturn(records)).doOnError(error -> log.error("the committed state of {} could not be "
                        + "published again after the {} that failed: {}; rows {} are left to the sweeper", object,
                        change, error.toString(), rows)))
                .subscribe(records -> {
                    log.info("the committed state of {} is stored again ({} records) after the {} that failed",
                            object, records, change);
                    count(change, "restated");
                }, error -> count(change, "failed"));
    }

    private Mono<Void> settle(List<Long> rows) {
        return Flux.fromIterable(rows).concatMap(owed::settle).then();
    }

    /**
     * Publishes {@code committed}, read in a transaction of its own that holds its rows' locks until the producer
     * stored or gave up the records; answers how many were stored.
     */
    Mono<Integer> republish(Mono<List<OutboundRecord>> committed) {
        return transactions.transactional(committed.flatMap(records -> stored(records).thenReturn(records.size())));
    }

    /** Completes once the producer stored every record, errors once it gave one up; the producer is not hurried. */
    private Mono<Void> stored(List<OutboundRecord> records) {
        return Mono.create(sink -> publisher.sendUnwaited(records, sink::success, sink::error));
    }

    /** Counts a compensation of a {@code change}: {@code restated}, {@code kept} or {@code failed}. */
    public void count(String change, String outcome) {
        Counter.builder("dialer.api.compensations")
                .description("Changes whose publish outcome was unknown, undone by publishing the committed state "
                        + "again or (a cancel) kept")
                .tag("change", change)
                .tag("outcome", outcome)
                .register(registry)
                .increment();
    }
}
