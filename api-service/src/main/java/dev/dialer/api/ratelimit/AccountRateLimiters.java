package dev.dialer.api.ratelimit;

import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * One resilience4j {@link RateLimiter} per account, from a registry built once. The registry is an unbounded map, so
 * limiters unused for {@code idleEviction} are removed (checked at most once per eviction period, on the request
 * path, without a thread of its own). Never blocks: a request without a permit is refused at once.
 */
final class AccountRateLimiters {

    /** The answer for one request: allowed, or refused with how long to wait. */
    record Verdict(boolean allowed, Duration retryAfter) {
    }

    private final RateLimitProperties properties;
    private final RateLimiterRegistry registry = RateLimiterRegistry.ofDefaults();
    private final Map<String, Long> lastUsed = new ConcurrentHashMap<>();
    private final AtomicLong lastSweep;
    private final LongSupplier nanoClock;

    AccountRateLimiters(RateLimitProperties properties, LongSupplier nanoClock) {
        this.properties = properties;
        this.nanoClock = nanoClock;
        this.lastSweep = new AtomicLong(nanoClock.getAsLong());
    }

    Verdict acquire(String accountId) {
        long now = nanoClock.getAsLong();
        sweepIfDue(now);
        lastUsed.put(accountId, now);
        RateLimiter limiter = registry.rateLimiter(accountId, () -> configFor(accountId));
        if (limiter.acquirePermission()) {
            return new Verdict(true, Duration.ZERO);
        }
        return new Verdict(false, waitOf(limiter));
    }

    int size() {
        return registry.getAllRateLimiters().size();
    }

    /**
     * A limiter that refills whole permits at exactly the account's rate. resilience4j grants whole permits per
     * refresh, so the permits are the rate's share of {@code period} rounded up, and the refresh is stretched to the
     * time those permits take at the rate: 14/s with a 100 ms period is 2 permits every 142.9 ms, not 1 every 100 ms
     * (10/s) nor 2 (20/s).
     */
    RateLimiterConfig configFor(String accountId) {
        double rate = properties.rateOf(accountId);
        // The epsilon keeps a product that is whole (1000/s × 0.1 s) from rounding up to one permit too many.
        int permits = (int) Math.max(1, Math.ceil(rate * properties.period().toNanos() / 1e9 - 1e-9));
        Duration refresh = Duration.ofNanos(Math.round(permits * 1e9 / rate));
        return RateLimiterConfig.custom()
                .limitForPeriod(permits)
                .limitRefreshPeriod(refresh)
                .timeoutDuration(Duration.ZERO)
                .build();
    }

    private Duration waitOf(RateLimiter limiter) {
        if (limiter instanceof AtomicRateLimiter atomic) {
            long nanos = atomic.getDetailedMetrics().getNanosToWait();
            if (nanos > 0) {
                return Duration.ofNanos(nanos);
            }
        }
        return limiter.getRateLimiterConfig().getLimitRefreshPeriod();
    }

    private void sweepIfDue(long now) {
        long idle = properties.idleEviction().toNanos();
        long last = lastSweep.get();
        if (now - last < idle || !lastSweep.compareAndSet(last, now)) {
            return;
        }
        lastUsed.forEach((account, used) -> {
            if (now - used >= idle && lastUsed.remove(account, used)) {
                registry.remove(account);
            }
        });
    }
}
