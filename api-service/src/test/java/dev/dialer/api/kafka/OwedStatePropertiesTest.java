package dev.dialer.api.kafka;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class OwedStatePropertiesTest {

    private static OwedStateProperties withGraceAndLease(Duration grace, Duration lease) {
        return new OwedStateProperties(true, Duration.ofSeconds(5), grace, lease, Duration.ofSeconds(5),
                Duration.ofMinutes(5), 50, 4);
    }

    @Test
    void shouldRefuseAGraceShorterThanTheLongestLandingAtStartUp() {
        assertThatThrownBy(() -> withGraceAndLease(Duration.ofSeconds(15), Duration.ofMinutes(2))
                .requireAtLeast(Duration.ofSeconds(20)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("grace");
    }

    @Test
    void shouldRefuseALeaseNoLongerThanTheLongestLandingAtStartUp() {
        assertThatThrownBy(() -> withGraceAndLease(Duration.ofSeconds(30), Duration.ofSeconds(20))
                .requireAtLeast(Duration.ofSeconds(20)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lease");
    }

    @Test
    void shouldTakeTheDefaults() {
        // ack-timeout PT10S: a handed-over record may land for 20 s.
        assertThatCode(() -> withGraceAndLease(Duration.ofSeconds(30), Duration.ofMinutes(2))
                .requireAtLeast(Duration.ofMillis(20_002))).doesNotThrowAnyException();
    }

    @Test
    void shouldRefuseAMaximumRetryBelowTheFirst() {
        assertThatThrownBy(() -> new OwedStateProperties(true, Duration.ofSeconds(5), Duration.ofSeconds(30),
                Duration.ofMinutes(2), Duration.ofMinutes(1), Duration.ofSeconds(5), 50, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max-retry");
    }
}
