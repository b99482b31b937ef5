package dev.dialer.dispatcher.watchdog;

import dev.dialer.dispatcher.lifecycle.BackgroundLoop;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;

/** Runs the {@link Watchdog} from start-up to shut-down, unless {@code dialer.dispatcher.watchdog.enabled=false}. */
@Component
class WatchdogLifecycle extends BackgroundLoop {

    private final Watchdog watchdog;
    private final WatchdogProperties properties;

    WatchdogLifecycle(Watchdog watchdog, WatchdogProperties properties) {
        super("watchdog");
        this.watchdog = watchdog;
        this.properties = properties;
    }

    @Override
    protected boolean enabled() {
        return properties.enabled();
    }

    @Override
    protected Flux<?> loop() {
        return watchdog.run();
    }

    @Override
    protected String started() {
        return "watchdog started: polls every " + properties.pollInterval();
    }
}
