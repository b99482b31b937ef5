package dev.dialer.dispatcher.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.dispatcher.TestClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Status;
import reactor.core.publisher.SignalType;

class WatchdogHealthIndicatorTest {

    private final TestClock clock = TestClock.at(Instant.parse("2026-01-01T00:00:00Z"));
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final WatchdogHeartbeat heartbeat = new WatchdogHeartbeat(clock, registry);

    @Test
    void isDownBeforeTheWatchdogStarts() {
        assertThat(indicator(true).health().getStatus()).isEqualTo(Status.DOWN);
    }

    @Test
    void isUpFromTheStartUntilStaleAfterPassesWithoutAPoll() {
        heartbeat.started();
        clock.advance(Duration.ofSeconds(90));
        assertThat(indicator(true).health().getStatus()).isEqualTo(Status.UP);

        clock.advance(Duration.ofSeconds(31));

        assertThat(indicator(true).health().getStatus()).isEqualTo(Status.DOWN);
    }

    @Test
    void eachFinishedPollKeepsItUpAndTheGaugeShowsItsAge() {
        heartbeat.started();
        for (int poll = 0; poll < 10; poll++) {
            clock.advance(Duration.ofSeconds(30));
            heartbeat.polled();
        }
        clock.advance(Duration.ofSeconds(45));

        assertThat(indicator(true).health().getStatus()).isEqualTo(Status.UP);
        assertThat(registry.get("dialer.dispatcher.watchdog.poll.age").gauge().value()).isEqualTo(45.0);
    }

    @Test
    void isDownOnceStopped() {
        heartbeat.started();
        heartbeat.polled();

        heartbeat.stopped(SignalType.CANCEL);

        assertThat(indicator(true).health().getStatus()).isEqualTo(Status.DOWN);
        assertThat(registry.get("dialer.dispatcher.watchdog.poll.age").gauge().value()).isZero();
    }

    @Test
    void aWatchdogThatEndedByItselfKeepsAgeingSoItsAlertFires() {
        heartbeat.started();
        clock.advance(Duration.ofSeconds(30));
        heartbeat.polled();

        heartbeat.stopped(SignalType.ON_ERROR);
        clock.advance(Duration.ofSeconds(1));
        assertThat(indicator(true).health().getStatus()).as("no poll will come: down at once").isEqualTo(Status.DOWN);
        assertThat(indicator(true).health().getDetails()).containsEntry("ended", true);
        clock.advance(Duration.ofSeconds(120));

        assertThat(registry.get("dialer.dispatcher.watchdog.poll.age").gauge().value()).isEqualTo(121.0);
        assertThat(indicator(true).health().getStatus()).isEqualTo(Status.DOWN);

        heartbeat.stopped(SignalType.ON_COMPLETE);
        clock.advance(Duration.ofSeconds(60));
        assertThat(registry.get("dialer.dispatcher.watchdog.poll.age").gauge().value()).isEqualTo(181.0);

        // Started again (its lifecycle restarts it): up as a watchdog that just started.
        heartbeat.started();
        assertThat(indicator(true).health().getStatus()).isEqualTo(Status.UP);
        assertThat(indicator(true).health().getDetails()).doesNotContainKey("ended");
    }

    @Test
    void isUpWhenTheWatchdogIsDisabledOnThisInstance() {
        assertThat(indicator(false).health().getStatus()).isEqualTo(Status.UP);
    }

    @Test
    void refusesStaleAfterShorterThanTwoPolls() {
        assertThatThrownBy(() -> properties(true, Duration.ofSeconds(30), Duration.ofSeconds(59)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("stale-after");
    }

    private WatchdogHealthIndicator indicator(boolean enabled) {
        return new WatchdogHealthIndicator(heartbeat, properties(enabled, Duration.ofSeconds(30),
                Duration.ofMinutes(2)));
    }

    @Test
    void refusesStaleAfterThatAClaimGivenUpAtItsLeaseWouldReach() {
        assertThatThrownBy(() -> new WatchdogProperties(true, Duration.ofMinutes(5), Duration.ofSeconds(30),
                Duration.ofMinutes(2), 50, Duration.ofMinutes(2), Duration.ofMinutes(15)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("stale-after must be longer than lease");
    }

    @Test
    void staleAfterUnsetIsTwiceALeaseAndAPollInterval() {
        assertThat(new WatchdogProperties(true, Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofMinutes(2),
                50, null, Duration.ofMinutes(15)).staleAfter()).isEqualTo(Duration.ofMinutes(5));
        assertThat(new WatchdogProperties(true, Duration.ofMinutes(5), Duration.ofSeconds(10), Duration.ofSeconds(20),
                50, null, Duration.ofMinutes(15)).staleAfter()).as("at least 2 minutes")
                .isEqualTo(Duration.ofMinutes(2));
    }

    private static WatchdogProperties properties(boolean enabled, Duration pollInterval, Duration staleAfter) {
        return new WatchdogProperties(enabled, Duration.ofMinutes(5), pollInterval, Duration.ofMinutes(1), 50,
                staleAfter, Duration.ofMinutes(15));
    }
}
