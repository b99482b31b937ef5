package dev.dialer.dispatcher.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.dialer.dispatcher.command.CommandConsumer;
import dev.dialer.dispatcher.policy.PolicyViewsLifecycle;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/** The command pipeline joins the consumer group only once the policy topics are read in full. */
class CommandConsumerLifecycleTest {

    @Test
    void consumesNoCommandBeforeThePolicyTopicsAreReadInFull() {
        Sinks.Empty<Void> readInFull = Sinks.empty();
        PolicyViewsLifecycle policy = mock(PolicyViewsLifecycle.class);
        when(policy.readInFull()).thenReturn(readInFull.asMono());
        AtomicBoolean consuming = new AtomicBoolean();
        CommandConsumer consumer = mock(CommandConsumer.class);
        when(consumer.run()).thenReturn(Flux.<Void>never().doOnSubscribe(subscription -> consuming.set(true)));
        CommandConsumerLifecycle lifecycle = new CommandConsumerLifecycle(null, null, consumer, null, policy, null,
                null);

        Disposable pipeline = lifecycle.pipeline().subscribe();
        try {
            assertThat(consuming).as("account settings not known yet: no command may be paced").isFalse();

            readInFull.tryEmitEmpty();
            assertThat(consuming).isTrue();
        } finally {
            pipeline.dispose();
        }
    }
}
