package dev.dialer.webhook.delivery;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.DoubleSupplier;

/**
 * When the next try of a failed delivery is due: the configured step for the tries made so far, scaled by the time
 * unit, plus a random jitter that only ever adds. A 429 or a timeout waits at least the throttled minimum; an
 * endpoint's {@code Retry-After} can push the try later, never earlier. No step left: the delivery is dead.
 */
final class RetrySchedule {

    private final RetryProperties properties;
    private final DoubleSupplier random;

    /** @param random uniform in [0, 1), e.g. {@code ThreadLocalRandom.current()::nextDouble} */
    RetrySchedule(RetryProperties properties, DoubleSupplier random) {
        this.properties = properties;
        this.random = random;
    }

    /** How many tries a delivery gets in all. */
    int tries() {
        return properties.schedule().size();
    }

    /**
     * @param triesMade tries made so far, the failed one included
     * @return the wait before the next try, or empty when none is left
     */
    Optional<Duration> next(int triesMade, AttemptResult failed) {
        List<Duration> steps = properties.schedule();
        if (triesMade >= steps.size()) {
            return Optional.empty();
        }
        Duration wait = properties.scaled(steps.get(triesMade));
        if (failed.reason() == Reason.TIMEOUT || Integer.valueOf(429).equals(failed.statusCode())) {
            wait = max(wait, properties.scaled(properties.throttledMinimum()));
        }
        wait = wait.plus(jitter(wait));
        if (failed.retryAfter() != null) {
            wait = max(wait, min(failed.retryAfter(), properties.maxRetryAfter()));
        }
        return Optional.of(wait);
    }

    /**
     * The longest a delivery whose tries follow the schedule can wait in the retry table: a later event of a call held
     * behind an earlier one for the whole ordering wait before its first try, then every wait at its longest (its step
     * or the throttled minimum, whichever is longer, plus the whole jitter), one of them pushed further by an
     * endpoint's {@code Retry-After} of up to {@code max-retry-after}. Tries refused by the endpoint's isolation are
     * not tries and do not move a delivery along the schedule; one still waiting this long after it was stored has
     * outlived any schedule its tries could have followed (see {@link WebhookDeliverer}).
     */
    Duration span() {
        List<Duration> steps = properties.schedule();
        Duration throttled = properties.scaled(properties.throttledMinimum());
        Duration span = properties.scaled(properties.orderingWait()).plus(properties.maxRetryAfter());
        for (Duration step : steps.subList(1, steps.size())) {
            Duration wait = max(properties.scaled(step), throttled);
            span = span.plus(wait).plus(Duration.ofNanos((long) (wait.toNanos() * properties.jitter())));
        }
        return span;
    }

    private Duration jitter(Duration wait) {
        return Duration.ofNanos((long) (wait.toNanos() * properties.jitter() * random.getAsDouble()));
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
