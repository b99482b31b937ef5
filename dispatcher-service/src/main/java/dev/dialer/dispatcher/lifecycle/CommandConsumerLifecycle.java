package dev.dialer.dispatcher.lifecycle;

import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.TopicProvisioner;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.attempt.LedgerProperties;
import dev.dialer.dispatcher.command.CommandConsumer;
import dev.dialer.dispatcher.command.CommandConsumerProperties;
import dev.dialer.dispatcher.command.KeyRouting;
import dev.dialer.dispatcher.pacing.Lanes;
import dev.dialer.dispatcher.policy.PolicyViewsLifecycle;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;

/**
 * Owns the command pipeline (commands and the carrier callbacks co-partitioned with them): creates the dialer's
 * topics, then subscribes on start, consuming once the policy topics are read in full; disposes the subscription on
 * stop. Runs in the last lifecycle phase, so the web server (and with it the status hook URL) is up before the first
 * call is placed, and the pipeline stops before the server does.
 *
 * <p>Stopping first lets the dials running end, starting no other, for at most
 * {@code dialer.dispatcher.commands.drain-timeout}: a dial's attempt is claimed before the carrier is asked, and a
 * claimed attempt is never dialled again, so a dial cancelled on its way to the carrier would leave its request
 * waiting for the watchdog (an hour and more) and end {@code failed} though nobody was called. Then the subscription
 * is disposed, which cancels what is left: records waiting in their lanes are not acknowledged, come back after a
 * restart or to the partitions' next owner, and are recognised by the attempt ledger, so none is dialled twice.
 */
@Component
class CommandConsumerLifecycle implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(CommandConsumerLifecycle.class);
    private static final long TOPIC_TIMEOUT_MILLIS = 30_000;
    /** What a stop leaves of the shutdown phase's bound, after its drain, to dispose the pipeline. */
    static final Duration PHASE_MARGIN = Duration.ofSeconds(2);

    private final KafkaProperties kafka;
    private final KafkaSettings settings;
    private final CommandConsumer consumer;
    private final KeyRouting routing;
    private final PolicyViewsLifecycle policy;
    private final LedgerProperties ledger;
    private final CommandConsumerProperties commands;
    private final Lanes lanes;
    private final PipelineSubscription pipeline = new PipelineSubscription("command",
            "the service is no longer ready");
    /** How long a stop waits for the dials running: {@code drain-timeout}, within the shutdown phase's bound. */
    private final Duration drain;

    CommandConsumerLifecycle(KafkaProperties kafka, KafkaSettings settings, CommandConsumer consumer,
                             KeyRouting routing, PolicyViewsLifecycle policy, LedgerProperties ledger,
                             CommandConsumerProperties commands, Lanes lanes,
                             @Value("${spring.lifecycle.timeout-per-shutdown-phase:30s}") Duration shutdownPhase) {
        this.drain = commands == null ? Duration.ZERO : drainWithin(commands.drainTimeout(), shutdownPhase);
        this.commands = commands;
        this.lanes = lanes;
        this.policy = policy;
        this.ledger = ledger;
        this.kafka = kafka;
        this.settings = settings;
        this.consumer = consumer;
        this.routing = routing;
    }

    @Override
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        // Blocks the starting thread, by design: nothing may consume before the topics exist.
        TopicProvisioner.ensure(settings, Topics.all(kafka.partitions()), kafka.replicationFactor(),
                TOPIC_TIMEOUT_MILLIS);
        // Refuses to start on topics that are not co-partitioned (created earlier by hand, or one of them grown).
        int commandsPartitions = partitionCount(Topics.CALL_COMMANDS);
        routing.topicsHave(commandsPartitions, partitionCount(Topics.CARRIER_CALLBACKS));
        // Refuses a topic with more partitions than the pipeline reads at once (created earlier by hand, or grown).
        commands.requireCovers(commandsPartitions);
        // Refuses to forget ended requests sooner than a command can be read again (a topic created elsewhere with a
        // longer retention): decision 0103.
        Duration commandsWindow = TopicProvisioner.rereadWindow(settings, Topics.CALL_COMMANDS, TOPIC_TIMEOUT_MILLIS);
        ledger.requireLongerThan(commandsWindow, Topics.CALL_COMMANDS);
        // A DLQ copy is read again only when an operator replays it: warned of, not refused (a DLQ made before its
        // copies were kept shorter than the ledger's retention keeps 30 days; kafka-configs shortens it). A copy may be
        // written as late as its command is read again: the two windows add up.
        String dlqOutlivesLedger;
        try {
            dlqOutlivesLedger = ledger.shorterThanReplays(commandsWindow, TopicProvisioner.rereadWindow(settings,
                    Topics.CALL_COMMANDS_DLQ, TOPIC_TIMEOUT_MILLIS), Topics.CALL_COMMANDS_DLQ);
        } catch (RuntimeException unread) {
            // Not allowed to describe it, or no answer in time: a warning, as the check's own finding is.
            log.warn("the configuration of {} could not be read to compare its retention with the ledger's: {}",
                    Topics.CALL_COMMANDS_DLQ, unread.toString());
            dlqOutlivesLedger = null;
        }
        if (dlqOutlivesLedger != null) {
            log.warn(dlqOutlivesLedger);
        }
        lanes.resumeDialling();
        pipeline.start(pipeline());
    }

    /**
     * The pipeline, joining the consumer group only once the policy topics are read in full: a command admitted
     * earlier would be paced before its account's settings were known, at the default rate. Readiness stays down
     * meanwhile ({@code policyViews}), and the partitions stay with the dispatchers that have them.
     */
    Flux<Void> pipeline() {
        return policy.readInFull()
                .doOnSubscribe(subscription -> log.info("waiting for the policy topics to be read in full before "
                        + "consuming {}", Topics.CALL_COMMANDS))
                .thenMany(Flux.defer(() -> {
                    log.info("consuming {} and {}", Topics.CALL_COMMANDS, Topics.CARRIER_CALLBACKS);
                    return consumer.run();
                }));
    }

    private int partitionCount(String topic) {
        return TopicProvisioner.partitionCount(settings, topic, TOPIC_TIMEOUT_MILLIS);
    }

    /**
     * {@code drain}, or less when it would outlast Spring's wait for the phase ({@code shutdownPhase} less
     * {@link #PHASE_MARGIN}): past that wait Spring goes on with the later phases and destroys the beans (the database
     * pool, the producer) under the dials still running, whose placed calls, their carrier ids never stored, were left
     * to the watchdog for an hour and more and ended {@code status_timeout}, what the drain is there to prevent.
     */
    static Duration drainWithin(Duration drain, Duration shutdownPhase) {
        Duration bound = shutdownPhase.compareTo(PHASE_MARGIN.multipliedBy(2)) > 0 ? shutdownPhase.minus(PHASE_MARGIN)
                : shutdownPhase.dividedBy(2);
        if (drain.compareTo(bound) <= 0) {
            return drain;
        }
        log.warn("dialer.dispatcher.commands.drain-timeout ({}) is not below "
                + "spring.lifecycle.timeout-per-shutdown-phase ({}): an orderly stop waits {} for the dials running; "
                + "raise the phase's timeout to wait longer",
                drain, shutdownPhase, bound);
        return bound;
    }

    /**
     * Starts no dial from now on and disposes the pipeline once the dials running have ended, or once
     * {@code drain-timeout} ({@link #drainWithin}) has passed: then the dials left are cancelled (logged), and their
     * attempts are the watchdog's to reconcile.
     */
    @Override
    public void stop(Runnable callback) {
        AtomicBoolean stopped = new AtomicBoolean();
        Duration timeout = drain;
        int running = lanes.dialsRunning();
        if (running > 0) {
            log.info("stopping: no dial starts from now on; waiting up to {} for the {} running to end", timeout,
                    running);
        }
        Runnable stop = () -> {
            if (stopped.compareAndSet(false, true)) {
                int left = lanes.dialsRunning();
                if (left > 0) {
                    log.warn("stopping: {} dials still running after {} are cancelled; their attempts are left to "
                            + "the watchdog", left, timeout);
                }
                pipeline.stop();
                callback.run();
            }
        };
        lanes.stopDialling(stop);
        CompletableFuture.delayedExecutor(timeout.toMillis(), TimeUnit.MILLISECONDS).execute(stop);
    }

    @Override
    public void stop() {
        CountDownLatch stopped = new CountDownLatch(1);
        stop(stopped::countDown);
        try {
            stopped.await();
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            pipeline.stop();
        }
    }

    @Override
    public boolean isRunning() {
        return pipeline.started();
    }

    /** Whether the pipeline is subscribed and has not ended: what readiness reports. */
    boolean pipelineRunning() {
        return pipeline.running();
    }
}
