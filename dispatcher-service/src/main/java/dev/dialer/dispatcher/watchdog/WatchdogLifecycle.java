package dev.dialer.dispatcher.watchdog;

import dev.dialer.dispatcher.lifecycle.BackgroundLoop;
import dev.dialer.dispatcher.policy.PolicyViewsLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;

/**
 * Runs the {@link Watchdog} from start-up to shut-down, unless {@code dialer.dispatcher.watchdog.enabled=false}. Its
 * first tick waits for the policy topics to be read in full: an attempt it ends is put to the retry policy, which
 * until then would read the default calling window for an account whose own is not known yet, and end a request
 * {@code expired} that its window would have let retry.
 */
@Component
class WatchdogLifecycle extends BackgroundLoop {

    private final Watchdog watchdog;
    private final WatchdogProperties properties;
    private final PolicyViewsLifecycle policy;

    WatchdogLifecycle(Watchdog watchdog, WatchdogProperties properties, PolicyViewsLifecycle policy) {
        super("watchdog");
        this.watchdog = watchdog;
        this.properties = properties;
        this.policy = policy;
    }

    @Override
    protected boolean enabled() {
        return properties.enabled();
    }

    @Override
    protected Flux<?> loop() {
        return policy.readInFull().thenMany(Flux.defer(watchdog::run));
    }

    @Override
    protected String started() {
        return "watchdog started: polls every " + properties.pollInterval();
    }
}
