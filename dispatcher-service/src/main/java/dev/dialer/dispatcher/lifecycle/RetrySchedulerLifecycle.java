package dev.dialer.dispatcher.lifecycle;

import dev.dialer.dispatcher.retry.RetryScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Owns the retry pipeline: subscribes on start, disposes on stop. It depends on {@link CommandConsumerLifecycle},
 * which Spring therefore starts first (the topics it publishes to are created there) and stops after this one.
 *
 * <p>Stopping cancels a tick in flight: rows it had claimed keep their lease and are fired after it lapses, by this
 * dispatcher after a restart or by another one.
 */
@Component
class RetrySchedulerLifecycle implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(RetrySchedulerLifecycle.class);

    private final RetryScheduler scheduler;
    private final PipelineSubscription pipeline = new PipelineSubscription("retry");

    RetrySchedulerLifecycle(CommandConsumerLifecycle commands, RetryScheduler scheduler) {
        // The dependency is the point: it orders start and stop (see the class comment).
        this.scheduler = scheduler;
    }

    @Override
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        pipeline.start(scheduler.run());
        log.info("firing due retries");
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
