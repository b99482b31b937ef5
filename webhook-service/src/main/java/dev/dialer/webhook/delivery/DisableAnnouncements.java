package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DeliveryAttempt;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Tells api-service that a webhook was disabled here, come what may. api-service learns of a disable only from the
 * try that caused it, a {@link DeliveryAttempt} with {@code endpoint_disabled} on {@code dialer.webhook.deliveries}
 * (its delivery log then disables the webhook); the {@link AttemptFeed} publishes that try at most once, so a broker
 * outage or a crash right after the disable would leave the webhook enabled there for ever while nothing is sent to
 * it. The try is therefore stored with the disable ({@link EndpointHealth}, {@code webhook.endpoint_state
 * .announcement}), and every {@code interval} the stored ones are published and, once the broker has acknowledged
 * one, cleared.
 *
 * <p>Delivery guarantee: at least once. The same try is usually published by the feed as well, and several instances
 * may publish it together; api-service records an attempt id once, so a repeat changes nothing. A disable lifted
 * before its announcement went out takes the announcement with it: the webhook is enabled on both sides again.
 */
public final class DisableAnnouncements {

    private static final Logger log = LoggerFactory.getLogger(DisableAnnouncements.class);
    private static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(10);
    private static final String PENDING = """
            SELECT webhook_id, disabled_at, announcement FROM webhook.endpoint_state
            WHERE announcement IS NOT NULL ORDER BY disabled_at LIMIT 500""";
    private static final String PUBLISHED = """
            UPDATE webhook.endpoint_state SET announcement = NULL
            WHERE webhook_id = :id AND disabled_at = :disabledAt""";

    private record Pending(String webhookId, Instant disabledAt, byte[] announcement) {
    }

    private final DatabaseClient database;
    private final Function<OutboundRecord, Mono<Void>> publisher;
    private final AttemptFeed feed;
    private final DeliveryMetrics metrics;
    private final Duration interval;

    /** @param publisher publishes one record, completing once the broker has it ({@code KafkaPublisher::publish}) */
    DisableAnnouncements(DatabaseClient database, Function<OutboundRecord, Mono<Void>> publisher, AttemptFeed feed,
                         DeliveryMetrics metrics, Duration interval) {
        this.database = database;
        this.publisher = publisher;
        this.feed = feed;
        this.metrics = metrics;
        this.interval = interval;
    }

    /** Publishes what is pending every interval until cancelled; a failure is logged and tried again next time. */
    public Mono<Void> run() {
        return Flux.interval(Duration.ZERO, interval)
                .onBackpressureDrop()
                .concatMap(tick -> publishPending()
                        .onErrorResume(error -> {
                            log.warn("reading the disables to announce failed: {}", error.toString());
                            return Mono.empty();
                        }))
                .then();
    }

    /**
     * Publishes every stored announcement once; completes when each is published (and cleared) or has failed. Their
     * read, and each clearing, fails after {@link RetryStore#STATEMENT_TIMEOUT}: on a connection that hangs, the
     * announcements would otherwise stop for good.
     */
    Mono<Void> publishPending() {
        return database.sql(PENDING)
                .map(row -> new Pending(row.get("webhook_id", String.class), row.get("disabled_at", Instant.class),
                        row.get("announcement", byte[].class)))
                .all()
                .collectList()
                .timeout(RetryStore.STATEMENT_TIMEOUT)
                .flatMapMany(Flux::fromIterable)
                .concatMap(this::announce)
                .then();
    }

    private Mono<Void> announce(Pending pending) {
        return Mono.defer(() -> publisher.apply(feed.toRecord(Contract.read(pending.announcement(),
                        DeliveryAttempt.class))))
                .timeout(PUBLISH_TIMEOUT)
                .then(database.sql(PUBLISHED)
                        .bind("id", pending.webhookId())
                        .bind("disabledAt", pending.disabledAt())
                        .then()
                        .timeout(RetryStore.STATEMENT_TIMEOUT))
                .doOnSuccess(done -> log.info("disable of webhook {} announced on {}", pending.webhookId(),
                        Topics.WEBHOOK_DELIVERIES))
                .onErrorResume(error -> {
                    log.warn("disable of webhook {} not announced on {} yet, tried again in {}: {}",
                            pending.webhookId(), Topics.WEBHOOK_DELIVERIES, interval, error.toString());
                    metrics.unannouncedDisable();
                    return Mono.empty();
                });
    }
}
