package dev.dialer.api.delivery;

import dev.dialer.api.account.Account;
import dev.dialer.api.kafka.AcknowledgedPublisher;
import dev.dialer.api.problem.Problems;
import dev.dialer.api.webhook.WebhookDirectory;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.ReplayRequest;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Mono;

/**
 * Asks webhook-service to deliver events to a webhook again: a {@link ReplayRequest} on
 * {@code dialer.webhook.control}, keyed by the webhook id. At least once: answered only after Kafka acknowledged
 * (a 503 otherwise, after which the request may still have been stored, so a retried replay can deliver twice;
 * receivers de-duplicate on the stable {@code webhook-id} header).
 */
@Service
class Replays {

    /** What a 503 says after why Kafka did not have the replay. */
    private static final String MAY_LAND = "The replay may still take place: Kafka may store it late. A repeat may "
            + "deliver the events twice; receivers de-duplicate on webhook-id.";

    private final WebhookDirectory webhooks;
    private final AcknowledgedPublisher publisher;
    private final DeliveryProperties properties;
    private final MeterRegistry registry;

    Replays(WebhookDirectory webhooks, AcknowledgedPublisher publisher, DeliveryProperties properties,
            MeterRegistry registry) {
        this.webhooks = webhooks;
        this.publisher = publisher;
        this.properties = properties;
        this.registry = registry;
    }

    Mono<ReplayRequest> request(Account account, String webhookId, String body) {
        return Mono.fromCallable(() -> ReplayBody.parse(body, properties.maxReplayEvents(),
                        properties.maxReplayRange(), Instant.now().plus(properties.replayClockSkew())))
                .flatMap(replay -> webhooks.belongsTo(webhookId, account.id())
                        .flatMap(own -> own ? Mono.just(replay)
                                : Mono.error(Problems.notFound("No webhook " + webhookId + " in this account."))))
                .map(replay -> new ReplayRequest(ReplayRequest.VERSION, UUID.randomUUID().toString(), account.id(),
                        webhookId, replay.eventIds(), replay.from(), replay.to(),
                        Instant.now().truncatedTo(ChronoUnit.MICROS)))
                .flatMap(request -> publisher.publishAll(List.of(OutboundRecord.of(Topics.WEBHOOK_CONTROL,
                                webhookId, Contract.toBytes(request))), MAY_LAND)
                        .thenReturn(request))
                .doOnNext(request -> registry.counter("dialer.api.replays.requested", "by",
                        request.eventIds().isEmpty() ? "range" : "events").increment());
    }
}
