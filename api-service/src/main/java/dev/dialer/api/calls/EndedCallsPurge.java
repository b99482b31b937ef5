package dev.dialer.api.calls;

import dev.dialer.api.prune.BatchPruner;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Deletes the calls that ended longer than {@code dialer.api.read-model.retention} ago (90 days by default), with
 * their attempts and {@code foreign_id} claims, every {@code purge-every}, {@code purge-batch} at a time, at most
 * {@value #MAX_BATCHES_PER_TICK} batches a tick (decision 0105). A retention of zero keeps every call: nothing runs.
 */
@Component
class EndedCallsPurge extends BatchPruner<Void> {

    private static final Logger log = LoggerFactory.getLogger(EndedCallsPurge.class);
    /** Batches a tick at most: 50,000 calls a minute at the defaults (72 million a day), above the rate calls end. */
    static final int MAX_BATCHES_PER_TICK = 50;

    private final CallLedger ledger;
    private final Duration retention;

    EndedCallsPurge(CallLedger ledger, ReadModelProperties properties, MeterRegistry registry) {
        super("calls past their retention", properties.purgeEvery(), properties.purgeBatch(), registry,
                "dialer.api.calls.purged", "dialer.api.calls.purge.failures");
        this.ledger = ledger;
        this.retention = properties.retention();
    }

    @Override
    protected Mono<Long> deleteBatch(Void pass, int limit) {
        return ledger.purgeEnded(retention, limit);
    }

    @Override
    protected int maxBatchesPerPass() {
        return MAX_BATCHES_PER_TICK;
    }

    @Override
    public void start() {
        if (retention.isZero()) {
            log.info("dialer.api.read-model.retention is zero: every call is kept");
            return;
        }
        super.start();
    }
}
