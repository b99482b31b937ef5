package dev.dialer.api.kafka;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.boot.health.contributor.Health;
import reactor.core.publisher.Mono;

/**
 * Whether a consumer whose records are retried until they succeed still makes progress. Its subscription staying
 * alive says nothing: a record retried for ever against a database that is down (or that refuses that one record)
 * keeps the consumer subscribed while its partition stands still. So each record in hand is timed from the start of
 * its handling, retries included; the consumer is stalled when one has been in hand longer than {@code staleAfter}. An idle consumer (nothing in hand) is never stalled. The longest time in hand is a gauge.
 */
public final class ConsumerProgress {

    private final Clock clock;
    /** Start of each handling under way, by a token of its own (one partition's next record may start first). */
    private final Map<Object, Instant> inHand = new ConcurrentHashMap<>();
    private volatile boolean running;

    public ConsumerProgress(Clock clock, MeterRegistry registry, String gauge, String description) {
        this.clock = clock;
        Gauge.builder(gauge, this, progress -> progress.longestInHand().toMillis() / 1000.0)
                .description(description).baseUnit("seconds").register(registry);
    }

    /** The consumer subscribed. */
    public void started() {
        running = true;
    }

    /** The consumer's pipeline ended: what it had in hand is no longer handled. */
    public void stopped() {
        running = false;
        inHand.clear();
    }

    public boolean running() {
        return running;
    }

    /** Times {@code handling} (one record, with its retries) from subscription to its end. */
    public <T> Mono<T> track(Mono<T> handling) {
        return Mono.defer(() -> {
            Object token = new Object();
            return handling
                    .doOnSubscribe(subscription -> inHand.put(token, clock.instant()))
                    .doFinally(signal -> inHand.remove(token));
        });
    }

    /** How long the record longest in hand has been; zero when none is. */
    public Duration longestInHand() {
        Instant now = clock.instant();
        return inHand.values().stream().min(Instant::compareTo)
                .map(since -> Duration.between(since, now))
                .filter(age -> !age.isNegative())
                .orElse(Duration.ZERO);
    }

    /** Whether a record has been in hand longer than {@code staleAfter}. */
    public boolean stalledFor(Duration staleAfter) {
        return longestInHand().compareTo(staleAfter) > 0;
    }

    /** UP while consuming and not stalled; DOWN otherwise. */
    public Health health(Duration staleAfter) {
        boolean consuming = running;
        Duration longest = longestInHand();
        Health.Builder health = consuming && longest.compareTo(staleAfter) <= 0 ? Health.up() : Health.down();
        return health.withDetail("consuming", consuming)
                .withDetail("recordsInHand", inHand.size())
                .withDetail("longestInHand", longest.toString())
                .withDetail("staleAfter", staleAfter.toString())
                .build();
    }
}
