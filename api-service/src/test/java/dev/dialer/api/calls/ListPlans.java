package dev.dialer.api.calls;

import java.time.Duration;
import java.time.Instant;
import java.util.stream.Collectors;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;

/** The plan PostgreSQL chooses for the calls list's own statement ({@link CallQueries#listing}), values bound. */
public final class ListPlans {

    private ListPlans() {
    }

    /**
     * The plan of a page of {@code account}'s calls, filtered by {@code campaign} and {@code status} (either may be
     * null), after the calls created at {@code after} (null: the first page), with sequential scans disabled for its
     * transaction: a scan of a whole table shows only where no index serves the statement.
     */
    public static String page(DatabaseClient db, ReactiveTransactionManager transactions, String account,
                              String campaign, String status, Instant after) {
        return page(db, transactions, account, new CallQueries.Filter(campaign, status, null), after);
    }

    /** As {@link #page(DatabaseClient, ReactiveTransactionManager, String, String, String, Instant)}, by foreign_id. */
    public static String pageOfForeignId(DatabaseClient db, ReactiveTransactionManager transactions, String account,
                                         String foreignId, Instant after) {
        return page(db, transactions, account, new CallQueries.Filter(null, null, foreignId), after);
    }

    private static String page(DatabaseClient db, ReactiveTransactionManager transactions, String account,
                               CallQueries.Filter filter, Instant after) {
        String cursor = after == null ? null : new CallQueries.Cursor(after, "z").encode();
        CallQueries.Statement page = CallQueries.listing(account, filter, cursor, 50);
        return db.sql("SET LOCAL enable_seqscan = off").then()
                .then(page.on(db, "EXPLAIN ").map(row -> row.get(0, String.class)).all()
                        .collect(Collectors.joining("\n")))
                .as(TransactionalOperator.create(transactions)::transactional)
                .block(Duration.ofSeconds(10));
    }
}
