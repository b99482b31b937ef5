package dev.dialer.webhook;

import dev.dialer.common.kafka.TopicProvisioner;
import dev.dialer.common.kafka.Topics;
import dev.dialer.webhook.delivery.CallEventConsumer;
import dev.dialer.webhook.directory.WebhookDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.Disposables;

/**
 * Owns the service's Kafka pipelines: on start it creates any missing topics, then follows the webhook directory and
 * consumes call events; on stop it disposes both. Stopping in the middle of a delivery leaves its record
 * unacknowledged, so the next consumer of the partition delivers it again (at least once).
 */
@Component
class WebhookPipelines implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(WebhookPipelines.class);
    private static final long TOPIC_TIMEOUT_MILLIS = 30_000;

    private final KafkaProperties kafka;
    private final WebhookDirectory directory;
    private final CallEventConsumer consumer;
    private volatile Disposable running;

    WebhookPipelines(KafkaProperties kafka, WebhookDirectory directory, CallEventConsumer consumer) {
        this.kafka = kafka;
        this.directory = directory;
        this.consumer = consumer;
    }

    @Override
    public void start() {
        TopicProvisioner.ensure(kafka.bootstrapServers(), Topics.all(kafka.partitions()),
                (short) kafka.replicationFactor(), TOPIC_TIMEOUT_MILLIS);
        running = Disposables.composite(
                directory.follow().subscribe(null, error -> log.error("webhook directory stopped", error)),
                consumer.run().subscribe(null, error -> log.error("call event consumer stopped", error)));
        log.info("webhook pipelines started");
    }

    @Override
    public void stop() {
        Disposable pipelines = running;
        running = null;
        if (pipelines != null) {
            pipelines.dispose();
        }
    }

    @Override
    public boolean isRunning() {
        return running != null;
    }
}
