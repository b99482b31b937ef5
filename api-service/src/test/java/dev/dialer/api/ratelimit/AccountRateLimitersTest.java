package dev.dialer.api.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AccountRateLimitersTest {

    private final AtomicLong clock = new AtomicLong();

    private AccountRateLimiters limiters(double rate, Map<String, Double> overrides) {
        return new AccountRateLimiters(new RateLimitProperties(true, rate, Duration.ofMillis(100), overrides,
                Duration.ofMinutes(10)), clock::get);
    }

    @Test
    void refusesTheRequestAfterTheAllowanceWithARetryAfterWithinOnePeriod() {
        AccountRateLimiters limiters = limiters(0.5, Map.of());

        assertThat(limiters.acquire("a").allowed()).isTrue();
        AccountRateLimiters.Verdict refused = limiters.acquire("a");

        assertThat(refused.allowed()).isFalse();
        assertThat(refused.retryAfter()).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void limitsEachAccountOnItsOwn() {
        AccountRateLimiters limiters = limiters(0.5, Map.of());

        assertThat(limiters.acquire("a").allowed()).isTrue();
        assertThat(limiters.acquire("b").allowed()).isTrue();
        assertThat(limiters.acquire("a").allowed()).isFalse();
    }

    @Test
    void appliesAPerAccountOverride() {
        AccountRateLimiters limiters = limiters(0.5, Map.of("big", 1000.0));

        int allowed = 0;
        for (int i = 0; i < 50; i++) {
            allowed += limiters.acquire("big").allowed() ? 1 : 0;
        }
        // 1000/s with a 100 ms period allows a burst of 100.
        assertThat(allowed).isEqualTo(50);
        assertThat(limiters.acquire("small").allowed()).isTrue();
        assertThat(limiters.acquire("small").allowed()).isFalse();
    }

    @Test
    void shouldRefillAnOverrideAtExactlyItsRateWhenThePeriodHoldsNoWholeNumberOfPermits() {
        Map<String, Double> rates = Map.of("r14", 14.0, "r15", 15.0, "r25", 25.0, "half", 0.5);
        AccountRateLimiters limiters = limiters(1000, rates);

        // The 100 ms period's share of the rate rounded up to whole permits, refilled as often as the rate allows.
        assertThat(refill(limiters, "r14")).isEqualTo(new Refill(2, Duration.ofNanos(142_857_143)));
        assertThat(refill(limiters, "r15")).isEqualTo(new Refill(2, Duration.ofNanos(133_333_333)));
        assertThat(refill(limiters, "r25")).isEqualTo(new Refill(3, Duration.ofMillis(120)));
        assertThat(refill(limiters, "half")).isEqualTo(new Refill(1, Duration.ofSeconds(2)));
        rates.forEach((account, rate) ->
                assertThat(refill(limiters, account).perSecond()).as(account).isCloseTo(rate, within(1e-6)));
    }

    @Test
    void shouldKeepThePeriodWhenItHoldsAWholeNumberOfPermits() {
        AccountRateLimiters limiters = limiters(1000, Map.of("r30", 30.0));

        assertThat(refill(limiters, "default")).isEqualTo(new Refill(100, Duration.ofMillis(100)));
        assertThat(refill(limiters, "r30")).isEqualTo(new Refill(3, Duration.ofMillis(100)));
    }

    private record Refill(int permits, Duration every) {

        double perSecond() {
            return permits * 1e9 / every.toNanos();
        }
    }

    private static Refill refill(AccountRateLimiters limiters, String account) {
        RateLimiterConfig config = limiters.configFor(account);
        return new Refill(config.getLimitForPeriod(), config.getLimitRefreshPeriod());
    }

    @Test
    void evictsLimitersOfIdleAccounts() {
        AccountRateLimiters limiters = limiters(10, Map.of());
        limiters.acquire("idle");
        limiters.acquire("busy");
        assertThat(limiters.size()).isEqualTo(2);

        clock.addAndGet(Duration.ofMinutes(11).toNanos());
        limiters.acquire("busy");

        assertThat(limiters.size()).isEqualTo(1);
    }

    @Test
    void refusesANonPositiveRateAtStartUp() {
        assertThatThrownBy(() -> new RateLimitProperties(true, 0, Duration.ofMillis(100), Map.of(),
                Duration.ofMinutes(1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RateLimitProperties(true, 5, Duration.ofMillis(100), Map.of("x", -1.0),
                Duration.ofMinutes(1))).isInstanceOf(IllegalArgumentException.class);
    }
}
