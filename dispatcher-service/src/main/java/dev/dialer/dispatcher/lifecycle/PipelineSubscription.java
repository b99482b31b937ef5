package dev.dialer.dispatcher.lifecycle;

import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * One long-lived pipeline's subscription, as a lifecycle bean owns it: subscribed on start, disposed on stop, and
 * whether it is still running (for readiness, or for a health component outside it). An error or completion ends it
 * and is logged with what then no longer happens.
 */
final class PipelineSubscription {

    private static final Logger log = LoggerFactory.getLogger(PipelineSubscription.class);

    private final String name;
    private final String consequence;
    private volatile Disposable subscription;

    /** @param consequence what no longer happens once it ended ("the service is no longer ready") */
    PipelineSubscription(String name, String consequence) {
        this.name = name;
        this.consequence = consequence;
    }

    synchronized void start(Publisher<?> pipeline) {
        subscription = Flux.from(pipeline).subscribe(
                ignored -> { },
                error -> log.error("{} pipeline ended with an error; {}", name, consequence, error),
                () -> log.error("{} pipeline completed; {}", name, consequence));
    }

    synchronized void stop() {
        Disposable current = subscription;
        subscription = null;
        if (current != null) {
            current.dispose();
        }
    }

    /** Started and not stopped (what {@code SmartLifecycle.isRunning} reports). */
    boolean started() {
        return subscription != null;
    }

    /** Subscribed and not ended: what readiness reports. */
    boolean running() {
        Disposable current = subscription;
        return current != null && !current.isDisposed();
    }
}
