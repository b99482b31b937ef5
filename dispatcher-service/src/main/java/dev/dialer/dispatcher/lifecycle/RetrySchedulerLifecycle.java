package dev.dialer.dispatcher.lifecycle;

import dev.dialer.dispatcher.policy.PolicyViewsLifecycle;
import dev.dialer.dispatcher.retry.RetryScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;

/**
 * Owns the retry pipeline: subscribes on start, disposes on stop. It depends on {@link CommandConsumerLifecycle},
 * which Spring therefore starts first (the topics it publishes to are created there) and stops after this one.
 *
 * <p>The schedule is fired only once the policy topics are read in full, as commands are consumed: until then a
 * campaign's pause is not known, and a call waiting for its resume would be published to wait again, with another
 * {@code call.deferred} and its lane's and trunk's rate spent.
 *
 * <p>Stopping cancels a tick in flight: rows it had claimed keep their lease and are fired after it lapses, by this
 * dispatcher after a restart or by another one.
 */
@Component
class RetrySchedulerLifecycle implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(RetrySchedulerLifecycle.class);

    private final RetryScheduler scheduler;
    private final PolicyViewsLifecycle policy;
    private final PipelineSubscription pipeline = new PipelineSubscription("retry",
            "no wait ends on this instance until it restarts (retryScheduler is DOWN in /actuator/health)");

    RetrySchedulerLifecycle(CommandConsumerLifecycle commands, RetryScheduler scheduler, PolicyViewsLifecycle policy) {
        // The dependency is the point: it orders start and stop (see the class comment).
        this.scheduler = scheduler;
        this.policy = policy;
    }

    @Override
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        pipeline.start(pipeline());
    }

    /** The scheduler's ticks, once the policy topics are read in full. */
    Flux<Void> pipeline() {
        return policy.readInFull()
                .thenMany(Flux.defer(() -> {
                    log.info("firing due retries");
                    return scheduler.run();
                }));
    }

    @Override
    public void stop() {
        pipeline.stop();
    }

    @Override
    public boolean isRunning() {
        return pipeline.started();
    }

    /** Whether the pipeline is subscribed and has not ended: what its health component reports. */
    boolean pipelineRunning() {
        return pipeline.running();
    }
}
