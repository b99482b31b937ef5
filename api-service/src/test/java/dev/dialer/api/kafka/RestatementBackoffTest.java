package dev.dialer.api.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RestatementBackoffTest {

    private final RestatementBackoff backoff = new RestatementBackoff(Duration.ofSeconds(5), Duration.ofMinutes(5));

    @Test
    void shouldWaitTheFirstRetryAfterTheFirstFailureAndDoubleAfterEachOne() {
        assertThat(backoff.after(1)).isEqualTo(Duration.ofSeconds(5));
        assertThat(backoff.after(2)).isEqualTo(Duration.ofSeconds(10));
        assertThat(backoff.after(3)).isEqualTo(Duration.ofSeconds(20));
        assertThat(backoff.after(6)).isEqualTo(Duration.ofSeconds(5 * 32));
        assertThat(backoff.after(7)).as("5 s doubled six times is past 5 min").isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void shouldNeverWaitLongerThanTheMaximumHoweverManyFailures() {
        assertThat(backoff.after(8)).isEqualTo(Duration.ofMinutes(5));
        assertThat(backoff.after(63)).isEqualTo(Duration.ofMinutes(5));
        assertThat(backoff.after(64)).isEqualTo(Duration.ofMinutes(5));
        assertThat(backoff.after(Integer.MAX_VALUE)).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void shouldTakeARowNeverTriedAsItsFirstTry() {
        assertThat(backoff.after(0)).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void shouldRefuseABackoffWhoseMaximumIsBelowItsFirstWait() {
        assertThatThrownBy(() -> new RestatementBackoff(Duration.ofSeconds(5), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RestatementBackoff(Duration.ZERO, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
