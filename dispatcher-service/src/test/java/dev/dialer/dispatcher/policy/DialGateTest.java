package dev.dialer.dispatcher.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class DialGateTest {

    private static final Instant NOW = Instant.parse("2026-03-02T10:00:00Z");

    @Test
    void calleeBelowItsCapIsNotHeld() {
        List<Instant> dials = List.of(NOW.minus(Duration.ofHours(3)), NOW.minus(Duration.ofHours(1)));

        assertThat(DialGate.capFreesAt(dials, 3, NOW)).isNull();
    }

    @Test
    void calleeAtItsCapFreesADayAfterTheOldestCountedDial() {
        Instant oldest = NOW.minus(Duration.ofHours(20));
        List<Instant> dials = List.of(oldest, NOW.minus(Duration.ofHours(2)));

        assertThat(DialGate.capFreesAt(dials, 2, NOW)).isEqualTo(oldest.plus(Duration.ofHours(24)));
    }

    @Test
    void calleeAboveItsCapWaitsUntilEnoughDialsAgeOut() {
        // Cap lowered after three dials: two must age out before one more call fits.
        Instant first = NOW.minus(Duration.ofHours(23));
        Instant second = NOW.minus(Duration.ofHours(10));
        List<Instant> dials = List.of(first, second, NOW.minus(Duration.ofHours(1)));

        assertThat(DialGate.capFreesAt(dials, 2, NOW)).isEqualTo(second.plus(Duration.ofHours(24)));
    }

    @Test
    void capOfZeroHoldsEveryCallAndLooksAgainInADay() {
        assertThat(DialGate.capFreesAt(List.of(), 0, NOW)).isEqualTo(NOW.plus(Duration.ofHours(24)));
    }

    @Test
    void scheduleReasonsFollowThePolicyReason() {
        assertThat(Reasons.rowReason(Reasons.CAP_EVENT)).isEqualTo("cap");
        assertThat(Reasons.rowReason(Reasons.WINDOW_EVENT)).isEqualTo("window");
    }
}
