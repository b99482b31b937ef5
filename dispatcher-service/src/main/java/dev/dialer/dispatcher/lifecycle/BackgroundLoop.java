package dev.dialer.dispatcher.lifecycle;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Runs one background loop (a {@link Flux} that ticks until cancelled) from start-up to shut-down, when it is
 * enabled. An error that ends the loop is logged; the loop is not restarted.
 */
public abstract class BackgroundLoop implements SmartLifecycle {

    private final Logger log = LoggerFactory.getLogger(getClass());
    private final String name;
    private volatile Disposable running;

    /** @param name what the loop is, for the log line when it stops on an error ("watchdog") */
    protected BackgroundLoop(String name) {
        this.name = name;
    }

    /** Whether the loop runs at all. */
    protected abstract boolean enabled();

    /** The loop, subscribed at start and disposed at stop. */
    protected abstract Flux<?> loop();

    /** What is logged once the loop started. */
    protected abstract String started();

    @Override
    public synchronized void start() {
        if (enabled() && running == null) {
            running = loop().subscribe(null, error -> log.error("{} stopped", name, error));
            log.info(started());
        }
    }

    @Override
    public synchronized void stop() {
        if (running != null) {
            running.dispose();
            running = null;
        }
    }

    @Override
    public boolean isRunning() {
        return running != null && !running.isDisposed();
    }
}
