package dev.dialer.api.account;

import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.time.Duration;
import java.util.function.Predicate;

/**
 * Failed authentications (a key the database does not know) per remote address: a resilience4j {@link RateLimiter}
 * each, from a registry built once, holding {@code maxFailures} per {@code window}. An address that used them up
 * is refused before any lookup until the window ends. Never blocks. Bounded: when {@code maxAddresses} are tracked,
 * the addresses with no failure in their current window are dropped (they hold nothing worth keeping), then, if that
 * is not enough, those not refused now (their counts are lost, their blocks kept: a caller failing from many
 * addresses must not lift the blocks of others by it) and, only when every one of them is refused, all of them.
 */
final class FailedAuthentications {

    private final RateLimiterRegistry registry;
    private final int maxFailures;
    private final int maxAddresses;

    FailedAuthentications(int maxFailures, Duration window, int maxAddresses) {
        this.maxFailures = maxFailures;
        this.maxAddresses = maxAddresses;
        this.registry = RateLimiterRegistry.of(RateLimiterConfig.custom()
                .limitForPeriod(maxFailures)
                .limitRefreshPeriod(window)
                .timeoutDuration(Duration.ZERO)
                .build());
    }

    /** How long the address must wait before its keys are looked up again; zero when they may be now. */
    Duration blockedFor(String address) {
        return registry.find(address)
                .filter(limiter -> limiter.getMetrics().getAvailablePermissions() <= 0)
                .map(FailedAuthentications::waitOf)
                .orElse(Duration.ZERO);
    }

    /** Counts one failure of the address; answers whether that used up what its window allows. */
    boolean record(String address) {
        if (registry.find(address).isEmpty() && registry.getAllRateLimiters().size() >= maxAddresses) {
            makeRoom();
        }
        RateLimiter limiter = registry.rateLimiter(address);
        return !limiter.acquirePermission() || limiter.getMetrics().getAvailablePermissions() <= 0;
    }

    int size() {
        return registry.getAllRateLimiters().size();
    }

    private void makeRoom() {
        remove(limiter -> limiter.getMetrics().getAvailablePermissions() >= maxFailures);
        if (registry.getAllRateLimiters().size() >= maxAddresses) {
            remove(limiter -> limiter.getMetrics().getAvailablePermissions() > 0);
        }
        if (registry.getAllRateLimiters().size() >= maxAddresses) {
            remove(limiter -> true);
        }
    }

    private void remove(Predicate<RateLimiter> which) {
        registry.getAllRateLimiters().stream().filter(which).map(RateLimiter::getName).toList()
                .forEach(registry::remove);
    }

    private static Duration waitOf(RateLimiter limiter) {
        if (limiter instanceof AtomicRateLimiter atomic) {
            long nanos = atomic.getDetailedMetrics().getNanosToWait();
            if (nanos > 0) {
                return Duration.ofNanos(nanos);
            }
        }
        return limiter.getRateLimiterConfig().getLimitRefreshPeriod();
    }
}
