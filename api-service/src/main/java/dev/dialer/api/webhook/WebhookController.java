package dev.dialer.api.webhook;

import dev.dialer.api.ApiProperties;
import dev.dialer.api.account.Account;
import dev.dialer.api.problem.ApiProblem;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * {@code /api/v2/webhooks}: an endpoint is stored here and published on the compacted {@code dialer.webhook.config}
 * topic for webhook-service; the answer comes after Kafka acknowledged it. The secret is shown once, on creation.
 */
@RestController
class WebhookController {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Webhooks webhooks;
    private final KafkaPublisher publisher;
    private final Duration ackTimeout;
    private final MeterRegistry meters;

    WebhookController(Webhooks webhooks, KafkaPublisher publisher, ApiProperties properties, MeterRegistry meters) {
        this.webhooks = webhooks;
        this.publisher = publisher;
        this.ackTimeout = properties.kafka().ackTimeout();
        this.meters = meters;
    }

    record CreateWebhook(String url, String description) {
    }

    @PostMapping("/api/v2/webhooks")
    @ResponseStatus(HttpStatus.CREATED)
    Mono<Map<String, Object>> create(@RequestAttribute(Account.ATTRIBUTE) Account account,
                                     @RequestBody(required = false) CreateWebhook request) {
        Webhooks.Stored webhook = newWebhook(account, validUrl(request), request.description());
        return webhooks.insert(webhook)
                .then(publish(webhook))
                .then(Mono.fromCallable(() -> view(webhook, true)))
                .doOnSuccess(ok -> count("accepted"))
                .doOnError(e -> count(e instanceof ApiProblem ? "rejected" : "unavailable"));
    }

    @GetMapping("/api/v2/webhooks/{id}")
    Mono<Map<String, Object>> get(@RequestAttribute(Account.ATTRIBUTE) Account account, @PathVariable String id) {
        return webhooks.find(account.id(), id)
                .switchIfEmpty(Mono.error(() -> ApiProblem.notFound("webhook " + id)))
                .map(webhook -> view(webhook, false));
    }

    private static String validUrl(CreateWebhook request) {
        if (request == null || request.url() == null || request.url().isBlank()) {
            throw ApiProblem.invalid("url", "is required");
        }
        try {
            URI uri = URI.create(request.url().strip());
            if (uri.getScheme() == null || !uri.getScheme().matches("(?i)https?") || uri.getHost() == null) {
                throw ApiProblem.invalid("url", "must be an absolute http or https URL");
            }
            return uri.toString();
        } catch (IllegalArgumentException e) {
            throw ApiProblem.invalid("url", "is not a URL: " + e.getMessage());
        }
    }

    private static Webhooks.Stored newWebhook(Account account, String url, String description) {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        return new Webhooks.Stored(UUID.randomUUID().toString(), account.id(), url, description,
                "whsec_" + Base64.getEncoder().encodeToString(secret), true,
                Instant.now().truncatedTo(ChronoUnit.MICROS));
    }

    private Mono<Void> publish(Webhooks.Stored webhook) {
        WebhookConfig config = new WebhookConfig(webhook.id(), webhook.accountId(), webhook.url(),
                webhook.description(), webhook.secret(), webhook.enabled(), Instant.now());
        return publisher.publish(OutboundRecord.of(Topics.WEBHOOK_CONFIG, webhook.id(), Contract.toBytes(config)))
                .timeout(ackTimeout, Schedulers.parallel())
                .onErrorMap(e -> !(e instanceof ApiProblem), e -> ApiProblem.unavailable(
                        e instanceof TimeoutException ? "Kafka did not acknowledge in time" : "Kafka refused the record",
                        Duration.ofSeconds(5)));
    }

    private static Map<String, Object> view(Webhooks.Stored webhook, boolean withSecret) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", webhook.id());
        view.put("url", webhook.url());
        view.put("description", webhook.description());
        if (withSecret) {
            view.put("secret", webhook.secret());
        }
        view.put("enabled", webhook.enabled());
        view.put("created_at", webhook.createdAt().toString());
        return view;
    }

    private void count(String outcome) {
        meters.counter("dialer.api.requests", "endpoint", "webhooks", "outcome", outcome).increment();
    }
}
