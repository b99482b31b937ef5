package dev.dialer.dispatcher.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.dialer.dispatcher.command.CommandConsumer;
import dev.dialer.dispatcher.command.CommandConsumerProperties;
import dev.dialer.dispatcher.pacing.Lanes;
import dev.dialer.dispatcher.policy.PolicyViewsLifecycle;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * The command pipeline joins the consumer group only once the policy topics are read in full, and a stop that waits
 * for the dials running ends by its bound.
 */
class CommandConsumerLifecycleTest {

    @Test
    void aStopWhoseDialsDoNotEndCompletesOnceTheDrainTimeoutHasPassed() {
        Lanes lanes = mock(Lanes.class);
        when(lanes.dialsRunning()).thenReturn(1);
        CommandConsumerProperties commands = new CommandConsumerProperties("dialer-dispatcher", 500, 12,
                Duration.ofSeconds(1), 4, Duration.ofMillis(200));
        CommandConsumerLifecycle lifecycle = new CommandConsumerLifecycle(null, null, mock(CommandConsumer.class),
                null, null, null, commands, lanes, Duration.ofSeconds(30));
        AtomicInteger stopped = new AtomicInteger();

        lifecycle.stop(stopped::incrementAndGet);

        ArgumentCaptor<Runnable> idle = ArgumentCaptor.forClass(Runnable.class);
        verify(lanes).stopDialling(idle.capture());
        await().atMost(Duration.ofSeconds(5)).until(() -> stopped.get() == 1);
        // The dial that ran past the bound ends after all: the stop is not reported twice.
        idle.getValue().run();
        assertThat(stopped).hasValue(1);
    }

    @Test
    void aStopWithNoDialRunningCompletesAtOnce() {
        Lanes lanes = mock(Lanes.class);
        doAnswer(invocation -> {
            invocation.<Runnable>getArgument(0).run();
            return null;
        }).when(lanes).stopDialling(any());
        CommandConsumerProperties commands = new CommandConsumerProperties("dialer-dispatcher", 500, 12,
                Duration.ofSeconds(1), 4, Duration.ofHours(1));
        CommandConsumerLifecycle lifecycle = new CommandConsumerLifecycle(null, null, mock(CommandConsumer.class),
                null, null, null, commands, lanes, Duration.ofSeconds(30));

        lifecycle.stop();

        verify(lanes).stopDialling(any());
    }

    @Test
    void aDrainTimeoutThatWouldOutlastTheShutdownPhaseIsCutToIt() {
        assertThat(CommandConsumerLifecycle.drainWithin(Duration.ofSeconds(15), Duration.ofSeconds(30)))
                .isEqualTo(Duration.ofSeconds(15));
        assertThat(CommandConsumerLifecycle.drainWithin(Duration.ofSeconds(45), Duration.ofSeconds(30)))
                .isEqualTo(Duration.ofSeconds(28));
        assertThat(CommandConsumerLifecycle.drainWithin(Duration.ofSeconds(30), Duration.ofSeconds(30)))
                .isEqualTo(Duration.ofSeconds(28));
        assertThat(CommandConsumerLifecycle.drainWithin(Duration.ofSeconds(15), Duration.ofSeconds(3)))
                .isEqualTo(Duration.ofMillis(1500));
    }

    @Test
    void aStopWaitsNoLongerThanTheShutdownPhaseAllows() {
        Lanes lanes = mock(Lanes.class);
        when(lanes.dialsRunning()).thenReturn(1);
        CommandConsumerProperties commands = new CommandConsumerProperties("dialer-dispatcher", 500, 12,
                Duration.ofSeconds(1), 4, Duration.ofHours(1));
        CommandConsumerLifecycle lifecycle = new CommandConsumerLifecycle(null, null, mock(CommandConsumer.class),
                null, null, null, commands, lanes, Duration.ofMillis(400));
        AtomicInteger stopped = new AtomicInteger();

        lifecycle.stop(stopped::incrementAndGet);

        await().atMost(Duration.ofSeconds(5)).until(() -> stopped.get() == 1);
    }

    @Test
    void consumesNoCommandBeforeThePolicyTopicsAreReadInFull() {
        Sinks.Empty<Void> readInFull = Sinks.empty();
        PolicyViewsLifecycle policy = mock(PolicyViewsLifecycle.class);
        when(policy.readInFull()).thenReturn(readInFull.asMono());
        AtomicBoolean consuming = new AtomicBoolean();
        CommandConsumer consumer = mock(CommandConsumer.class);
        when(consumer.run()).thenReturn(Flux.<Void>never().doOnSubscribe(subscription -> consuming.set(true)));
        CommandConsumerLifecycle lifecycle = new CommandConsumerLifecycle(null, null, consumer, null, policy, null,
                null, null, Duration.ofSeconds(30));

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
