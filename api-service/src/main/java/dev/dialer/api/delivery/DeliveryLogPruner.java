package dev.dialer.api.delivery;

import dev.dialer.api.prune.BatchPruner;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Deletes delivery log attempts older than {@code dialer.api.deliveries.retention} (30 days, as the log is
 * documented to keep them), every {@code prune-every}, in batches of {@code prune-batch}. The consumer only ever
 * adds rows, so without this {@code api.webhook_deliveries} would grow with every attempt ever made. A deleted
 * webhook's attempts stay until then too (nobody can read them): the delete does not wait for its whole log.
 */
@Component
public class DeliveryLogPruner extends BatchPruner<Instant> {

    private final DeliveryLogRepository repository;
    private final DeliveryProperties properties;

    DeliveryLogPruner(DeliveryLogRepository repository, DeliveryProperties properties, MeterRegistry registry) {
        super("delivery log attempts past the retention", properties.pruneEvery(), properties.pruneBatch(),
                registry, "dialer.api.delivery.log.pruned", "dialer.api.delivery.log.prune.failures");
        this.repository = repository;
        this.properties = properties;
    }

    /** The pass's cutoff: its batches all delete what was attempted before the same instant. */
    @Override
    protected Instant startPass() {
        return Instant.now().minus(properties.retention());
    }

    @Override
    protected Mono<Long> deleteBatch(Instant cutoff, int limit) {
        return repository.pruneBefore(cutoff, limit);
    }
}
