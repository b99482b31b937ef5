package dev.dialer.dispatcher.attempt;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Deletes ended requests from the ledger once they are past {@code dialer.dispatcher.ledger.retention}: the request,
 * its attempts, their answering-machine results, its cancel rejections and the rows of the cancels that named it in
 * {@code dispatch.applied_controls} (decision 0164). A dialer placing millions of calls a day would otherwise keep
 * every one of them, and with them every index the dial path writes to.
 *
 * <p>Only requests with a final status are deleted, and only those with nothing in {@code dispatch.schedule}. Every
 * {@code purge-interval} they are deleted {@value #BATCH} at a time, oldest end first, until a batch comes back short
 * (at most {@value #BATCHES} batches a tick, so a long backlog is worked off over several ticks). Rows are taken with
 * {@code FOR UPDATE SKIP LOCKED}: several dispatchers may purge at once without waiting for each other, and a
 * request another statement has locked is left for a later tick. The age is PostgreSQL's own, as
 * {@code final_at} is: no dispatcher's clock takes part.
 */
@Component
public class LedgerRetention {

    static final int BATCH = 1_000;
    static final int BATCHES = 50;
    private static final Logger log = LoggerFactory.getLogger(LedgerRetention.class);

    /**
     * One batch: the attempts go first in the same statement (the foreign key is checked at its end), the
     * answering-machine results with them and the cancel rejections with the request ({@code ON DELETE CASCADE}); the
     * request's controls by the request id their rows name (no foreign key: a cancel may be claimed before its request
     * is recorded).
     */
    private static final String PURGE = """
            WITH ended AS (
                SELECT r.request_id FROM dispatch.requests r
                 WHERE r.final_at < now() - $1 * interval '1 second'
                   AND NOT EXISTS (SELECT 1 FROM dispatch.schedule s WHERE s.request_id = r.request_id)
                 ORDER BY r.final_at
                 LIMIT $2
                   FOR UPDATE SKIP LOCKED),
            attempts AS (
                DELETE FROM dispatch.attempts a USING ended WHERE a.request_id = ended.request_id),
            controls AS (
                DELETE FROM dispatch.applied_controls c USING ended WHERE c.request_id = ended.request_id)
            DELETE FROM dispatch.requests r USING ended WHERE r.request_id = ended.request_id""";

    private final DatabaseClient db;
    private final LedgerProperties properties;
    private final Counter purged;

    LedgerRetention(DatabaseClient db, LedgerProperties properties, MeterRegistry registry) {
        this.db = db;
        this.properties = properties;
        this.purged = Counter.builder("dialer.dispatcher.ledger.purged")
                .description("Ended requests deleted from the ledger, with their attempts, once past their retention")
                .register(registry);
    }

    /** Purges every {@code purge-interval} until cancelled; a failed tick is logged and the next one runs. */
    Flux<Long> run() {
        return Flux.interval(properties.purgeInterval())
                .onBackpressureDrop()
                .concatMap(tick -> purge().onErrorResume(error -> {
                    log.warn("ended requests not purged; again in {}: {}", properties.purgeInterval(),
                            error.toString());
                    return Mono.empty();
                }), 1);
    }

    /** One tick: emits how many requests it deleted (nothing is deleted when the retention is zero). */
    Mono<Long> purge() {
        if (!properties.purges()) {
            return Mono.just(0L);
        }
        long seconds = properties.retention().toSeconds();
        return Flux.range(0, BATCHES)
                .concatMap(batch -> purgeBatch(seconds), 1)
                .takeUntil(deleted -> deleted < BATCH)
                .reduce(0L, Long::sum)
                .doOnNext(count -> {
                    if (count > 0) {
                        purged.increment(count);
                        log.info("{} requests ended over {} ago deleted from the ledger", count,
                                properties.retention());
                    }
                });
    }

    private Mono<Long> purgeBatch(long retentionSeconds) {
        return db.sql(PURGE).bind(0, retentionSeconds).bind(1, BATCH).fetch().rowsUpdated();
    }
}
