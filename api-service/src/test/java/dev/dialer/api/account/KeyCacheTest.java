package dev.dialer.api.account;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.TestClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class KeyCacheTest {

    private static final Account ACME = new Account("acme", "Acme", "IN");

    private final TestClock clock = new TestClock();

    @Test
    void trustsAVerifiedKeyUntilItsTimeToLiveEnds() {
        KeyCache<Account> cache = new KeyCache<>(Duration.ofSeconds(60), 10, clock);
        cache.put("h1", ACME);

        clock.advance(Duration.ofSeconds(59));
        assertThat(cache.get("h1")).isEqualTo(ACME);
        clock.advance(Duration.ofSeconds(1));
        assertThat(cache.get("h1")).isNull();
        assertThat(cache.size()).isZero();
    }

    @Test
    void neverHoldsMoreThanItsMaximum() {
        KeyCache<Account> cache = new KeyCache<>(Duration.ofSeconds(60), 3, clock);
        for (int i = 0; i < 10; i++) {
            cache.put("h" + i, ACME);
            assertThat(cache.size()).isLessThanOrEqualTo(3);
        }
        assertThat(cache.get("h9")).isEqualTo(ACME);
    }

    @Test
    void dropsExpiredEntriesFirstWhenFull() {
        KeyCache<Account> cache = new KeyCache<>(Duration.ofSeconds(60), 2, clock);
        cache.put("old", ACME);
        clock.advance(Duration.ofSeconds(30));
        cache.put("live", ACME);
        clock.advance(Duration.ofSeconds(31));

        cache.put("new", ACME);

        assertThat(cache.get("live")).isEqualTo(ACME);
        assertThat(cache.get("new")).isEqualTo(ACME);
        assertThat(cache.get("old")).isNull();
    }
}
