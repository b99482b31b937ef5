package dev.dialer.api.kafka;

import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;

/**
 * How long a change waits for another's lock: at most {@value #WAIT} ({@code lock_timeout}, for the rest of its
 * transaction), then it fails with {@code 55P03}, which the API answers 503 with {@code Retry-After}. A change that
 * publishes holds its locks until Kafka acknowledged (up to {@code dialer.api.kafka.ack-timeout}); waiting behind a
 * few such changes, each on a connection of the pool, the waiters would take every connection, and every other
 * request of every account would fail for want of one.
 */
public final class LockWaits {

    public static final String WAIT = "2s";

    private LockWaits() {
    }

    /** Bounds the lock waits of the transaction it runs in; outside one it changes nothing. */
    public static Mono<Void> bounded(DatabaseClient db) {
        return bounded(db, WAIT);
    }

    /** {@link #bounded(DatabaseClient)}, waiting at most {@code wait} (PostgreSQL's interval text, e.g. {@code 5s}). */
    public static Mono<Void> bounded(DatabaseClient db, String wait) {
        return db.sql("SELECT set_config('lock_timeout', :wait, true)")
                .bind("wait", wait)
                .fetch().all()
                .then();
    }
}
