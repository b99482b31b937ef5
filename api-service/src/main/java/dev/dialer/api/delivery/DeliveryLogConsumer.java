package dev.dialer.api.delivery;

import dev.dialer.api.kafka.ConsumerProgress;
import dev.dialer.common.db.RefusedStatements;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.KafkaSubscriber;
import dev.dialer.common.kafka.PausingPartitions;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Owns the one pipeline that keeps the delivery log: consumes {@code dialer.webhook.deliveries} in its own group and
 * records each attempt ({@link DeliveryLog#record}), acknowledging a record only after its row (and, for an attempt
 * that disabled its endpoint, the webhook's change and its republished config) is committed. At least once: a
 * failure leaves the record unacknowledged and it is retried in place, so the log skips none but an attempt PostgreSQL
 * refuses for what it holds, which is skipped after a few tries, counted and logged ({@link #recordOne}). A partition's
 * records are handled one after another, which keeps each webhook's attempts (one key, one partition) in order and
 * acknowledges them in offset order, so a committed offset never passes a record not yet recorded; partitions are
 * handled side by side, so a record retried in one does not hold up the others. Reported as the
 * {@code deliveryLogConsumer} health indicator: DOWN when not consuming, or when one record has been in hand
 * (retried) for longer than {@code dialer.api.deliveries.stale-after}, since the retries of a database away never end
 * on their own.
 */
@Component
class DeliveryLogConsumer implements SmartLifecycle, HealthIndicator {

    private static final Logger log = LoggerFactory.getLogger(DeliveryLogConsumer.class);
    private static final Duration RETRY_FIRST = Duration.ofMillis(200);
    private static final Duration RETRY_MAX = Duration.ofSeconds(10);
    /** How long recording one attempt may take before it fails as an outage and is tried again. */
    static final Duration STATEMENT_LIMIT = Duration.ofSeconds(30);
    /** Records of a partition held, received and not acknowledged, before it stops fetching. */
    static final int MAX_UNACKNOWLEDGED_PER_PARTITION = 1_000;
    /**
     * How long a revocation waits for records already handed out to be acknowledged (kept short, as {@link
     * KafkaSubscriber} says why; reactor-kafka's default is a minute): an attempt is recorded in milliseconds, and one
     * recorded again is a duplicate.
     */
    static final Duration REBALANCE_WAIT = Duration.ofSeconds(10);
    /** Handlings of an attempt whose statement PostgreSQL refuses, before it is skipped. */
    static final int REFUSED_STATEMENT_TRIES = 5;

    private final DeliveryLog deliveryLog;
    private final DeliveryProperties properties;
    private final KafkaSettings kafka;
    private final ConsumerProgress progress;
    private final Counter refused;
    private volatile Disposable running;

    @Autowired
    DeliveryLogConsumer(DeliveryLog deliveryLog, DeliveryProperties properties,
                        KafkaSettings kafka, MeterRegistry registry) {
        this(deliveryLog, properties, kafka, registry, Clock.systemUTC());
    }

    DeliveryLogConsumer(DeliveryLog deliveryLog, DeliveryProperties properties, KafkaSettings kafka,
                        MeterRegistry registry, Clock clock) {
        this.deliveryLog = deliveryLog;
        this.properties = properties;
        this.kafka = kafka;
        this.progress = new ConsumerProgress(clock, registry, "dialer.api.delivery.log.in_hand.age",
                "Seconds the delivery attempt longest in hand (retries included) has been (0 when none is)");
        // Registered at start, so that an instance's first refusal is an increase the alert sees.
        this.refused = registry.counter(DeliveryLog.RECORDS, "outcome", "refused");
    }

    Flux<InboundRecord> consume() {
        PausingPartitions partitions = new PausingPartitions(Topics.WEBHOOK_DELIVERIES,
                MAX_UNACKNOWLEDGED_PER_PARTITION);
        return recordAll(KafkaSubscriber.receive(kafka, properties.groupId(), List.of(Topics.WEBHOOK_DELIVERIES),
                        properties.maxPollRecords(), partitions.flow(), REBALANCE_WAIT), partitions)
                .doOnSubscribe(subscription -> progress.started())
                .doFinally(signal -> progress.stopped());
    }

    /**
     * Records each partition's records in order, partitions side by side, each acknowledged once recorded; answers
     * each record then. A partition whose record is retried stops fetching once it holds
     * {@value #MAX_UNACKNOWLEDGED_PER_PARTITION} records, and the others go on.
     */
    Flux<InboundRecord> recordAll(Flux<InboundRecord> records, PausingPartitions partitions) {
        return partitions.handle(records, 1, record -> recordOne(record).thenReturn(record));
    }

    /**
     * Records one attempt, retrying until the database takes it; acknowledging it is its caller's. One whose statement
     * PostgreSQL refuses for what it holds ({@link RefusedStatements}: refused again however often it is sent) is
     * tried {@value #REFUSED_STATEMENT_TRIES} times, then counted ({@code outcome="refused"}), logged with what
     * PostgreSQL said and skipped: retried for ever, it would stop its partition's log, every webhook on it, for good.
     */
    Mono<Void> recordOne(InboundRecord record) {
        return progress.track(RefusedStatements.retried(Mono.defer(() -> deliveryLog.record(record.value())),
                REFUSED_STATEMENT_TRIES, RETRY_FIRST, RETRY_MAX, STATEMENT_LIMIT,
                failure -> log.warn("delivery log could not record {}-{}@{}, retrying", record.topic(),
                        record.partition(), record.offset(), failure),
                error -> {
                    log.error("delivery attempt at {}-{}@{} skipped: PostgreSQL refused it {} times: {}",
                            record.topic(), record.partition(), record.offset(), REFUSED_STATEMENT_TRIES,
                            RefusedStatements.answer(error));
                    refused.increment();
                    return Mono.empty();
                }));
    }

    @Override
    public void start() {
        if (!properties.consume()) {
            log.info("delivery log consumer is off (dialer.api.deliveries.consume=false)");
            return;
        }
        running = consume().subscribe(null, error -> log.error("delivery log consumer stopped", error));
        log.info("delivery log consumer started in group {}", properties.groupId());
    }

    @Override
    public void stop() {
        Disposable pipeline = running;
        running = null;
        if (pipeline != null) {
            pipeline.dispose();
        }
    }

    @Override
    public boolean isRunning() {
        return running != null;
    }

    @Override
    public Health health() {
        if (!properties.consume()) {
            return Health.up().withDetail("consuming", false).build();
        }
        return progress.health(properties.staleAfter());
    }

    ConsumerProgress progress() {
        return progress;
    }
}
