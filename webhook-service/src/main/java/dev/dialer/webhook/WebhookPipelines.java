package dev.dialer.webhook;

import dev.dialer.common.kafka.TopicProvisioner;
import dev.dialer.common.kafka.Topics;
import dev.dialer.webhook.delivery.CallEventConsumer;
import dev.dialer.webhook.delivery.DisableAnnouncements;
import dev.dialer.webhook.delivery.EndpointStateLoader;
import dev.dialer.webhook.delivery.ReplayConsumer;
import dev.dialer.webhook.delivery.RetryPoller;
import dev.dialer.webhook.delivery.WebhookDeliverer;
import java.time.Duration;
import dev.dialer.webhook.directory.WebhookDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;

/**
 * Owns the service's pipelines: on start it creates any missing topics and loads the durable endpoint state, then
 * follows the webhook directory and, once the directory has caught up with its topic, consumes call events, sends due
 * retries and consumes replay requests; from the start it also announces disables to api-service
 * ({@link DisableAnnouncements}); on stop it disposes them all. Until the directory has caught up every webhook
 * would look unknown: a due retry would be dropped, a subscribed webhook skipped and a replay ignored. Stopping in
 * the middle of a first try leaves its record unacknowledged, so the next consumer of the partition tries it again;
 * stopping in the middle of a retry leaves its row leased until the lease runs out (at least once, both).
 */
@Component
class WebhookPipelines implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(WebhookPipelines.class);
    private static final long TOPIC_TIMEOUT_MILLIS = 30_000;
    /** How long the stop waits for the steps following tries already made (a retry's row removed, its try logged). */
    static final Duration FOLLOW_UPS_WAIT = Duration.ofSeconds(5);

    private final KafkaProperties kafka;
    private final WebhookDirectory directory;
    private final CallEventConsumer consumer;
    private final RetryPoller retries;
    private final ReplayConsumer replays;
    private final EndpointStateLoader endpointState;
    private final DisableAnnouncements disables;
    private final WebhookDeliverer deliverer;
    private volatile Disposable running;

    WebhookPipelines(KafkaProperties kafka, WebhookDirectory directory, CallEventConsumer consumer,
                     RetryPoller retries, ReplayConsumer replays, EndpointStateLoader endpointState,
                     DisableAnnouncements disables, WebhookDeliverer deliverer) {
        this.kafka = kafka;
        this.directory = directory;
        this.consumer = consumer;
        this.retries = retries;
        this.replays = replays;
        this.endpointState = endpointState;
        this.disables = disables;
        this.deliverer = deliverer;
    }

    @Override
    public void start() {
        TopicProvisioner.ensure(kafka.settings(), Topics.all(kafka.partitions()),
                (short) kafka.replicationFactor(), TOPIC_TIMEOUT_MILLIS);
        // Start-up thread, not an event loop: a disabled webhook must be known before anything is delivered.
        endpointState.load().block(Duration.ofMillis(TOPIC_TIMEOUT_MILLIS));
        running = Disposables.composite(
                directory.follow().subscribe(null, error -> log.error("webhook directory stopped", error)),
                afterDirectory(consumer.run(), "call event consumer"),
                afterDirectory(retries.run(), "webhook retry poller"),
                afterDirectory(replays.run(), "webhook replay consumer"),
                disables.run().subscribe(null, error -> log.error("disable announcements stopped", error)));
        log.info("webhook pipelines started; delivering once the webhook directory has caught up");
    }

    /** Waits without blocking start-up; readiness stays down meanwhile, as the call event consumer is not running. */
    private Disposable afterDirectory(Mono<Void> pipeline, String name) {
        return directory.caughtUp()
                .then(pipeline)
                .subscribe(null, error -> log.error("{} stopped", name, error));
    }

    @Override
    public void stop() {
        Disposable pipelines = running;
        running = null;
        if (pipelines != null) {
            pipelines.dispose();
            awaitFollowUps();
        }
    }

    /**
     * A try that ended just before the stop may still be writing what follows it: a delivered retry's row is removed
     * before its try is logged, and the database pool closing in between would leave the delivery log showing it
     * retrying for ever, with no row left to bring it back (decision 0163).
     */
    private void awaitFollowUps() {
        try {
            if (!deliverer.awaitFollowUps(FOLLOW_UPS_WAIT)) {
                log.warn("steps following tries still ran after {} s; stopping all the same",
                        FOLLOW_UPS_WAIT.toSeconds());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        return running != null;
    }
}
