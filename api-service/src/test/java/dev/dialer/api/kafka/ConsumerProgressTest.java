package dev.dialer.api.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.TestClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Status;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

class ConsumerProgressTest {

    private static final Duration STALE_AFTER = Duration.ofMinutes(2);

    private final TestClock clock = new TestClock();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final ConsumerProgress progress = new ConsumerProgress(clock, registry, "test.in_hand.age", "test");

    @Test
    void shouldStayUpWhileIdleHoweverLong() {
        progress.started();

        clock.advance(Duration.ofHours(6));

        assertThat(progress.health(STALE_AFTER).getStatus()).isEqualTo(Status.UP);
    }

    @Test
    void shouldGoDownOnceARecordHasBeenInHandLongerThanStaleAfterAndUpWhenItIsDone() {
        progress.started();
        Disposable handling = progress.track(Mono.never()).subscribe();

        clock.advance(STALE_AFTER);
        assertThat(progress.health(STALE_AFTER).getStatus()).isEqualTo(Status.UP);
        clock.advance(Duration.ofSeconds(1));
        assertThat(progress.health(STALE_AFTER).getStatus()).isEqualTo(Status.DOWN);
        assertThat(progress.health(STALE_AFTER).getDetails()).containsEntry("recordsInHand", 1)
                .containsEntry("longestInHand", "PT2M1S");
        assertThat(registry.get("test.in_hand.age").gauge().value()).isEqualTo(121.0);

        handling.dispose();

        assertThat(progress.health(STALE_AFTER).getStatus()).isEqualTo(Status.UP);
        assertThat(registry.get("test.in_hand.age").gauge().value()).isZero();
    }

    @Test
    void shouldTimeTheRecordLongestInHandNotTheLatest() {
        progress.started();
        Disposable stuck = progress.track(Mono.never()).subscribe();
        clock.advance(Duration.ofMinutes(3));

        progress.track(Mono.just(1)).subscribe();
        Disposable fresh = progress.track(Mono.never()).subscribe();

        assertThat(progress.longestInHand()).isEqualTo(Duration.ofMinutes(3));
        assertThat(progress.stalledFor(STALE_AFTER)).isTrue();
        stuck.dispose();
        fresh.dispose();
    }

    @Test
    void shouldBeDownWhileNotConsuming() {
        assertThat(progress.health(STALE_AFTER).getStatus()).isEqualTo(Status.DOWN);
        progress.started();
        assertThat(progress.health(STALE_AFTER).getStatus()).isEqualTo(Status.UP);
        progress.stopped();
        assertThat(progress.health(STALE_AFTER).getStatus()).isEqualTo(Status.DOWN);
    }
}
