package dev.dialer.dispatcher.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.dialer.dispatcher.policy.PolicyViewsLifecycle;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/** The watchdog ticks only once the policy topics are read in full. */
class WatchdogLifecycleTest {

    @Test
    void reconcilesNothingBeforeThePolicyTopicsAreReadInFull() {
        Sinks.Empty<Void> readInFull = Sinks.empty();
        PolicyViewsLifecycle policy = mock(PolicyViewsLifecycle.class);
        when(policy.readInFull()).thenReturn(readInFull.asMono());
        AtomicBoolean ticking = new AtomicBoolean();
        Watchdog watchdog = mock(Watchdog.class);
        when(watchdog.run()).thenReturn(Flux.<Void>never().doOnSubscribe(subscription -> ticking.set(true)));
        WatchdogProperties properties = new WatchdogProperties(true, Duration.ofMinutes(5), Duration.ofSeconds(30),
                Duration.ofMinutes(2), 50, null, Duration.ofMinutes(15));
        WatchdogLifecycle lifecycle = new WatchdogLifecycle(watchdog, properties, policy);

        lifecycle.start();
        try {
            assertThat(lifecycle.isRunning()).isTrue();
            assertThat(ticking).as("an account's calling window not known yet: a retry would be refused").isFalse();

            readInFull.tryEmitEmpty();
            assertThat(ticking).isTrue();
        } finally {
            lifecycle.stop();
        }
    }
}
