package dev.dialer.api.calls;

import dev.dialer.api.prune.BatchPruner;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Deletes recorded sends whose calls all have a row of their own, every
 * {@code dialer.api.read-model.sends-prune-every}, in batches of {@code sends-prune-batch} (decision 0086). A send
 * left a while longer changes no answer (the reads prefer a call's own row), but each one waiting is read by the
 * calls lists and campaign counts of its account. A send accepted longer than {@code dialer.api.read-model.retention}
 * ago goes whatever its calls (decision 0105).
 */
@Component
class AcceptedSendsPruner extends BatchPruner<Void> {

    private final CallLedger ledger;
    private final Duration retention;

    AcceptedSendsPruner(CallLedger ledger, ReadModelProperties properties, MeterRegistry registry) {
        super("recorded sends whose calls all have rows", properties.sendsPruneEvery(), properties.sendsPruneBatch(),
                registry, "dialer.api.accepted.sends.pruned", "dialer.api.accepted.sends.prune.failures");
        this.ledger = ledger;
        this.retention = properties.retention();
    }

    @Override
    protected Mono<Long> deleteBatch(Void pass, int limit) {
        return ledger.pruneSends(limit, retention);
    }
}
