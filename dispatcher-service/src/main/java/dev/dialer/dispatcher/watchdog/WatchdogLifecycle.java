package dev.dialer.dispatcher.watchdog;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;

/** Runs the {@link Watchdog} from start-up to shut-down, unless {@code dialer.dispatcher.watchdog.enabled=false}. */
@Component
class WatchdogLifecycle implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(WatchdogLifecycle.class);

    private final Watchdog watchdog;
    private final WatchdogProperties properties;
    private volatile Disposable running;

    WatchdogLifecycle(Watchdog watchdog, WatchdogProperties properties) {
        this.watchdog = watchdog;
        this.properties = properties;
    }

    @Override
    public synchronized void start() {
        if (properties.enabled() && running == null) {
            running = watchdog.run().subscribe(null, error -> log.error("watchdog stopped", error));
            log.info("watchdog started: polls every {}", properties.pollInterval());
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
