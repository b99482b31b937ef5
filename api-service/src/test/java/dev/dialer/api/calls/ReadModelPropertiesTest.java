package dev.dialer.api.calls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ReadModelPropertiesTest {

    @Test
    void aRetentionIsZeroOrLongerThanTheDispatcherKeepsARequest() {
        assertThat(properties(Duration.ZERO).retention()).isZero();
        assertThat(properties(Duration.ofDays(31)).retention()).isEqualTo(Duration.ofDays(31));
        assertThatThrownBy(() -> properties(Duration.ofDays(30)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dialer.api.read-model.retention")
                .hasMessageContaining("dialer.dispatcher.ledger.retention");
        assertThatThrownBy(() -> properties(Duration.ofDays(-90))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void callsArePurgedAtMostEverySecond() {
        assertThatThrownBy(() -> new ReadModelProperties(true, "group", 200, Duration.ofDays(8), 2, 5000,
                Duration.ofMinutes(2), Duration.ofSeconds(5), 500, Duration.ofDays(90), Duration.ofMillis(500), 1000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dialer.api.read-model.purge-every");
    }

    private static ReadModelProperties properties(Duration retention) {
        return new ReadModelProperties(true, "group", 200, Duration.ofDays(8), 2, 5000, Duration.ofMinutes(2),
                Duration.ofSeconds(5), 500, retention, Duration.ofMinutes(1), 1000);
    }
}
