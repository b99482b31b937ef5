package dev.dialer.dispatcher.lifecycle;

import dev.dialer.dispatcher.retry.RetryScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;

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
    private volatile Disposable subscription;

    RetrySchedulerLifecycle(CommandConsumerLifecycle commands, RetryScheduler scheduler) {
        // The dependency is the point: it orders start and stop (see the class comment).
        this.scheduler = scheduler;
    }

    @Override
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        subscription = scheduler.run().subscribe(
                ignored -> { },
                error -> log.error("retry pipeline ended with an error; the service is no longer ready", error),
                () -> log.warn("retry pipeline completed; the service is no longer ready"));
        log.info("firing due retries");
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

    /** Whether the pipeline is subscribed and has not ended: what readiness reports. */
    boolean pipelineRunning() {
        Disposable current = subscription;
        return current != null && !current.isDisposed();
    }
}
