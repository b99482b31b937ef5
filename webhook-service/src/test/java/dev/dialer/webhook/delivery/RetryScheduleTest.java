package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetryScheduleTest {

    private static final List<Duration> DEFAULT = List.of(Duration.ZERO, Duration.ofSeconds(5), Duration.ofMinutes(5),
            Duration.ofMinutes(30), Duration.ofHours(2), Duration.ofHours(5), Duration.ofHours(10));
    private static final AttemptResult SERVER_ERROR = AttemptResult.answered(500, Duration.ofMillis(10));

    @Test
    void followsTheDefaultScheduleAndDeadLettersAfterTheSeventhTry() {
        RetrySchedule schedule = new RetrySchedule(properties(Duration.ofSeconds(1), 0.2), () -> 0.0);

        assertThat(schedule.tries()).isEqualTo(7);
        assertThat(schedule.next(1, SERVER_ERROR)).contains(Duration.ofSeconds(5));
        assertThat(schedule.next(2, SERVER_ERROR)).contains(Duration.ofMinutes(5));
        assertThat(schedule.next(6, SERVER_ERROR)).contains(Duration.ofHours(10));
        assertThat(schedule.next(7, SERVER_ERROR)).isEmpty();
    }

    @Test
    void jitterOnlyAddsAndStaysWithinItsFraction() {
        RetrySchedule none = new RetrySchedule(properties(Duration.ofSeconds(1), 0.2), () -> 0.0);
        RetrySchedule most = new RetrySchedule(properties(Duration.ofSeconds(1), 0.2), () -> 0.999_999);

        assertThat(none.next(2, SERVER_ERROR)).contains(Duration.ofMinutes(5));
        assertThat(most.next(2, SERVER_ERROR).orElseThrow())
                .isGreaterThan(Duration.ofMinutes(5))
                .isLessThanOrEqualTo(Duration.ofMinutes(6));
    }

    @Test
    void aTooManyRequestsOrATimeoutWaitsAtLeastTheThrottledMinimum() {
        RetrySchedule schedule = new RetrySchedule(properties(Duration.ofSeconds(1), 0), () -> 0.0);
        AttemptResult throttled = AttemptResult.answered(429, Duration.ofMillis(10));
        AttemptResult timedOut = AttemptResult.failed(Reason.TIMEOUT, "timeout", Duration.ofSeconds(15));

        assertThat(schedule.next(1, throttled)).contains(Duration.ofSeconds(60));
        assertThat(schedule.next(1, timedOut)).contains(Duration.ofSeconds(60));
        // A later step that is already longer is kept.
        assertThat(schedule.next(2, throttled)).contains(Duration.ofMinutes(5));
    }

    @Test
    void retryAfterCanOnlyPushATryLater() {
        RetrySchedule schedule = new RetrySchedule(properties(Duration.ofSeconds(1), 0), () -> 0.0);

        assertThat(schedule.next(1, withRetryAfter(Duration.ofSeconds(120)))).contains(Duration.ofSeconds(120));
        assertThat(schedule.next(2, withRetryAfter(Duration.ofSeconds(1)))).contains(Duration.ofMinutes(5));
        assertThat(schedule.next(1, withRetryAfter(Duration.ofDays(30)))).contains(Duration.ofHours(24));
    }

    @Test
    void theTimeUnitCompressesEveryWaitButRetryAfter() {
        RetrySchedule schedule = new RetrySchedule(properties(Duration.ofMillis(10), 0), () -> 0.0);

        assertThat(schedule.next(1, SERVER_ERROR)).contains(Duration.ofMillis(50));
        assertThat(schedule.next(2, SERVER_ERROR)).contains(Duration.ofSeconds(3));
        assertThat(schedule.next(1, AttemptResult.answered(429, Duration.ZERO))).contains(Duration.ofMillis(600));
    }

    @Test
    void theSpanIsTheLongestTheScheduleCanLastWithEveryWaitAtItsLongest() {
        RetrySchedule schedule = new RetrySchedule(properties(Duration.ofSeconds(1), 0.2), () -> 0.0);

        // Ordering wait 10 min, Retry-After 24 h, and 1.2 x (60 s (the throttled minimum over 5 s) + 5 min + 30 min
        // + 2 h + 5 h + 10 h).
        assertThat(schedule.span()).isEqualTo(Duration.ofMinutes(10).plusHours(24).plusSeconds(76_032));
    }

    @Test
    void theSpanIsCompressedByTheTimeUnitButForRetryAfter() {
        RetrySchedule schedule = new RetrySchedule(properties(Duration.ofMillis(10), 0), () -> 0.0);

        assertThat(schedule.span()).isEqualTo(Duration.ofHours(24).plusMillis(6_000 + 633_600));
    }

    private static AttemptResult withRetryAfter(Duration retryAfter) {
        return AttemptResult.answered(503, Duration.ofMillis(10), null, retryAfter);
    }

    private static RetryProperties properties(Duration unit, double jitter) {
        return new RetryProperties(DEFAULT, unit, jitter, Duration.ofSeconds(60), Duration.ofHours(24),
                Duration.ofMinutes(10), Duration.ofSeconds(5), Duration.ofSeconds(1), 100, 64);
    }
}
