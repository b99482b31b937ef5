package dev.dialer.api.kafka;

import java.util.function.Consumer;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

/**
 * Transactions that write PostgreSQL and publish to Kafka, committed after Kafka acknowledged: the row and the record
 * agree. Once started, such a transaction runs to its end whatever becomes of its caller. Cancelled part-way (the
 * client hung up while the broker acknowledged), it would roll back the rows of records Kafka already has: a
 * number the dispatcher blocks while the API says it is not on the list and cannot take it off, a subscription that
 * delivers but cannot be seen or deleted.
 */
public final class PublishingTransactions {

    private final TransactionalOperator transactions;

    private PublishingTransactions(TransactionalOperator transactions) {
        this.transactions = transactions;
    }

    public static PublishingTransactions create(ReactiveTransactionManager manager) {
        return new PublishingTransactions(TransactionalOperator.create(manager));
    }

    /**
     * Runs {@code work} in a transaction to its commit or rollback; cancelling the result does not stop it. The
     * caller's context travels with it, so a transaction the caller already runs in is joined, not a second one begun.
     */
    public <T> Mono<T> transactional(Mono<T> work) {
        return transactional(work, error -> { });
    }

    /**
     * As {@link #transactional(Mono)}, telling {@code rolledBack} of a failure once the transaction has rolled back
     * (its commit's failure included), whether or not the caller still waits.
     */
    public <T> Mono<T> transactional(Mono<T> work, Consumer<Throwable> rolledBack) {
        return Mono.deferContextual(context -> Mono.fromFuture(
                work.as(transactions::transactional).doOnError(rolledBack).contextWrite(context).toFuture(), true));
    }
}
