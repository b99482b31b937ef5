package dev.dialer.webhook;

import dev.dialer.webhook.delivery.CallEventConsumer;
import dev.dialer.webhook.directory.WebhookDirectory;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Part of the readiness group ({@code webhookPipelines}): up once the webhook directory has caught up with its topic
 * and the call event consumer is running. Before that an event could be skipped for a webhook not yet read.
 */
@Component
class WebhookPipelinesHealthIndicator implements HealthIndicator {

    private final WebhookDirectory directory;
    private final CallEventConsumer consumer;

    WebhookPipelinesHealthIndicator(WebhookDirectory directory, CallEventConsumer consumer) {
        this.directory = directory;
        this.consumer = consumer;
    }

    @Override
    public Health health() {
        boolean caughtUp = directory.isCaughtUp();
        boolean consuming = consumer.isRunning();
        return (caughtUp && consuming ? Health.up() : Health.down())
                .withDetail("webhookDirectoryCaughtUp", caughtUp)
                .withDetail("callEventConsumerRunning", consuming)
                .build();
    }
}
