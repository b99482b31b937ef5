package dev.dialer.dispatcher.policy;

import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.TopicProvisioner;
import dev.dialer.common.kafka.TopicSpec;
import dev.dialer.common.kafka.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Reads the policy topics and acts on controls from start to stop, and reports {@code policyViews} in the readiness
 * group: DOWN until the DNC list, account settings and call controls are read in full (the gate decides nothing
 * before that either), and again if reading ends. It names how long ago each view was last known current
 * ({@code staleness-seconds}); a view fallen behind leaves the service ready (the alert on
 * {@code dialer.dispatcher.policy.view.staleness} tells of it; decision 0171): every dispatcher reads the same
 * topics, and taking them all out of service would stop the callbacks of the calls they are dialling. Starts before
 * the command pipeline, creating the dialer's topics if they do not exist yet.
 */
@Component("policyViewsHealthIndicator")
public class PolicyViewsLifecycle implements SmartLifecycle, HealthIndicator {

    private static final Logger log = LoggerFactory.getLogger(PolicyViewsLifecycle.class);
    private static final long TOPIC_TIMEOUT_MILLIS = 30_000;
    private static final Set<String> TOPICS = Set.of(Topics.DNC, Topics.ACCOUNT_CONFIG, Topics.CALL_CONTROL);

    private final PolicyViews views;
    private final ControlApplier controls;
    private final CancelSweep cancels;
    private final KafkaSettings kafka;
    private final int partitions;
    private final short replicationFactor;
    private volatile Disposable subscription;

    PolicyViewsLifecycle(PolicyViews views, ControlApplier controls, CancelSweep cancels,
                         KafkaSettings kafka,
                         @Value("${dialer.kafka.partitions:12}") int partitions,
                         @Value("${dialer.kafka.replication-factor:1}") short replicationFactor) {
        this.views = views;
        this.controls = controls;
        this.cancels = cancels;
        this.kafka = kafka;
        this.partitions = partitions;
        this.replicationFactor = replicationFactor;
    }

    @Override
    public synchronized void start() {
        if (subscription != null) {
            return;
        }
        // Blocks the starting thread, by design: a reader of a topic that does not exist would read nothing. Every
        // dialer topic is created here, not only the three read, and start-up goes on only once the broker describes
        // them: a topic just created can be briefly unknown to the broker that answers the next request.
        List<TopicSpec> specs = Topics.all(partitions);
        TopicProvisioner.ensure(kafka, specs, replicationFactor, TOPIC_TIMEOUT_MILLIS);
        specs.forEach(spec -> awaitDescribed(spec.name()));
        subscription = Mono.when(views.follow(), controls.run().then(), cancels.run().then()).subscribe(
                ignored -> { },
                error -> log.error("policy views ended with an error; the service is no longer ready", error));
        log.info("reading {}", TOPICS);
    }

    /**
     * Completes once the DNC list, account settings and call controls have been read up to where they ended when
     * reading began. What acts on a command before the dial-time gate does (the lanes: its caller ID's rate from the
     * account's settings, whether it is cancelled) waits for this as the gate does: a command taken in earlier would
     * be paced on defaults (a caller ID whose account set 1 call a second dialled at the default 10).
     */
    public Mono<Void> readInFull() {
        return views.ready();
    }

    private void awaitDescribed(String topic) {
        long deadline = System.currentTimeMillis() + TOPIC_TIMEOUT_MILLIS;
        while (true) {
            try {
                TopicProvisioner.partitionCount(kafka, topic, TOPIC_TIMEOUT_MILLIS);
                return;
            } catch (IllegalStateException e) {
                if (System.currentTimeMillis() > deadline) {
                    throw e;
                }
                log.debug("{} not described yet: {}", topic, e.toString());
                LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
            }
        }
    }

    @Override
    public synchronized void stop() {
        Disposable current = subscription;
        subscription = null;
        if (current != null) {
            current.dispose();
        }
    }

    @Override
    public boolean isRunning() {
        return subscription != null;
    }

    /** Before the command pipeline, which runs in the last phase. */
    @Override
    public int getPhase() {
        return DEFAULT_PHASE - 2_000;
    }

    @Override
    public Health health() {
        Disposable current = subscription;
        boolean reading = current != null && !current.isDisposed();
        return (reading && views.isReady() ? Health.up() : Health.down())
                .withDetail("caught-up", views.isReady())
                .withDetail("topics", TOPICS)
                .withDetail("staleness-seconds", views.staleness())
                .build();
    }
}
