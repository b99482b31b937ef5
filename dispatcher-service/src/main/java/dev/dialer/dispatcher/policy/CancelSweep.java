package dev.dialer.dispatcher.policy;

import dev.dialer.common.contract.CallControl;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Removes request cancels from {@code dialer.call.control} once their requests have ended. Every
 * {@code cancel-sweep-interval} the request cancels in the view are looked up in {@code dispatch.requests},
 * {@value #BATCH} at a time, and each whose request has a final status gets a tombstone: every dispatcher's view drops
 * it on reading the tombstone, and compaction drops the record. So the topic, and every dispatcher's memory, hold the
 * cancels of requests still open, not every cancel ever issued.
 *
 * <p>A cancel of an open request, or of one this dialer has not recorded yet (its command may still be on its way),
 * stays: the gate needs it. An ended request needs none: the gate and the control applier look at its final status
 * first. Several dispatchers may sweep the same cancels; a second tombstone changes nothing.
 */
@Component
class CancelSweep {

    static final int BATCH = 1_000;
    private static final Logger log = LoggerFactory.getLogger(CancelSweep.class);

    private final PolicyViews views;
    private final DatabaseClient db;
    private final KafkaPublisher publisher;
    private final PolicyProperties properties;
    private final Counter removed;

    CancelSweep(PolicyViews views, DatabaseClient db, KafkaPublisher publisher, PolicyProperties properties,
                MeterRegistry registry) {
        this.views = views;
        this.db = db;
        this.publisher = publisher;
        this.properties = properties;
        this.removed = Counter.builder("dialer.dispatcher.controls.swept")
                .description("Request cancels removed from the controls topic once their requests had ended")
                .register(registry);
    }

    /** Sweeps every {@code cancel-sweep-interval} until cancelled; a failed sweep is logged and the next one runs. */
    Flux<Long> run() {
        return Flux.interval(properties.cancelSweepInterval())
                .onBackpressureDrop()
                .concatMap(tick -> sweep().onErrorResume(error -> {
                    log.warn("request cancels not swept; again in {}: {}", properties.cancelSweepInterval(),
                            error.toString());
                    return Mono.empty();
                }), 1);
    }

    /** One sweep; emits how many cancels it removed. */
    Mono<Long> sweep() {
        return Flux.fromIterable(views.cancelledRequests())
                .buffer(BATCH)
                .concatMap(this::removeEnded)
                .reduce(0L, Long::sum)
                .doOnNext(count -> {
                    if (count > 0) {
                        log.info("{} request cancels removed: their requests have ended", count);
                    }
                });
    }

    private Mono<Long> removeEnded(List<String> requestIds) {
        return db.sql("SELECT request_id FROM dispatch.requests WHERE request_id = ANY($1) AND final_status IS NOT NULL")
                .bind(0, requestIds.toArray(String[]::new))
                .map(row -> new OutboundRecord(Topics.CALL_CONTROL, CallControl.requestKey(row.get(0, String.class)),
                        null, Map.of()))
                .all()
                .collectList()
                .flatMap(tombstones -> publisher.publishAll(tombstones)
                        .then(Mono.fromCallable(() -> {
                            removed.increment(tombstones.size());
                            return (long) tombstones.size();
                        })));
    }
}
