package dev.dialer.api.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
