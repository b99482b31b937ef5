package dev.dialer.dispatcher.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.dialer.dispatcher.policy.PolicyViewsLifecycle;
import dev.dialer.dispatcher.retry.RetryScheduler;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/** The schedule is fired only once the policy topics are read in full. */
class RetrySchedulerLifecycleTest {

    @Test
    void firesNothingBeforeThePolicyTopicsAreReadInFull() {
        Sinks.Empty<Void> readInFull = Sinks.empty();
        PolicyViewsLifecycle policy = mock(PolicyViewsLifecycle.class);
        when(policy.readInFull()).thenReturn(readInFull.asMono());
        AtomicBoolean firing = new AtomicBoolean();
        RetryScheduler scheduler = mock(RetryScheduler.class);
        when(scheduler.run()).thenReturn(Flux.<Void>never().doOnSubscribe(subscription -> firing.set(true)));
        RetrySchedulerLifecycle lifecycle = new RetrySchedulerLifecycle(null, scheduler, policy);

        Disposable pipeline = lifecycle.pipeline().subscribe();
        try {
            assertThat(firing).as("a campaign's pause not known yet: a paused call would be published").isFalse();

            readInFull.tryEmitEmpty();
            assertThat(firing).isTrue();
        } finally {
            pipeline.dispose();
        }
    }
}
