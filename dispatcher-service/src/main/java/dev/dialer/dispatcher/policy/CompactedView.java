package dev.dialer.dispatcher.policy;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.InboundRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

/**
 * The latest value per key of a compacted topic, held in memory: a record replaces its key's value, a tombstone removes
 * it. Values that cannot be read are counted and dropped (the key keeps its previous value), so one bad record never
 * stops the view.
 *
 * <p>Memory: one map entry per live key (key string, value record and map overhead, roughly 200–400 bytes), so the
 * size follows the number of live keys, not the topic's history; {@code dialer.dispatcher.policy.view.size} shows it.
 */
final class CompactedView<V> {

    private static final Logger log = LoggerFactory.getLogger(CompactedView.class);

    private final String name;
    private final Class<V> type;
    private final Supplier<Flux<InboundRecord>> records;
    private final Mono<Void> readerCaughtUp;
    private final Map<String, V> entries = new ConcurrentHashMap<>();
    /**
     * Every value applied, for the one listener that acts on changes, buffered until it subscribes; a new one for each
     * {@link #follow()}, so a restarted reader gets a restarted listener. Null for views nobody listens to (a buffer
     * without a reader would only grow).
     */
    private volatile Sinks.Many<V> applied;
    private final boolean announces;
    private final Counter unreadable;
    private volatile boolean caughtUp;

    CompactedView(String name, Class<V> type, Supplier<Flux<InboundRecord>> records, Mono<Void> caughtUp,
                  boolean announces, MeterRegistry registry) {
        this.name = name;
        this.announces = announces;
        this.type = type;
        this.records = records;
        this.readerCaughtUp = caughtUp.cache();
        this.unreadable = Counter.builder("dialer.dispatcher.policy.view.unreadable")
                .description("Records of a policy topic that could not be read; the key keeps its previous value")
                .tag("view", name)
                .register(registry);
        Gauge.builder("dialer.dispatcher.policy.view.size", entries, Map::size)
                .description("Live keys held by a policy view")
                .tag("view", name)
                .register(registry);
    }

    /**
     * Applies the topic to the view until cancelled, in order per key as it is read; nothing is committed. After a
     * consumer failure the topic is read again from the beginning; the reader passes over what was applied already
     * ({@code CompactedTopicReader}).
     */
    Mono<Void> follow() {
        if (announces) {
            applied = Sinks.many().unicast().onBackpressureBuffer();
        }
        Mono<Void> apply = Flux.defer(records)
                .doOnNext(this::apply)
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(500)).maxBackoff(Duration.ofSeconds(10))
                        .doBeforeRetry(signal -> log.warn("{} view reader failed, reading again", name,
                                signal.failure())))
                .then();
        return Mono.when(apply, readerCaughtUp.doOnSuccess(done -> {
            caughtUp = true;
            log.info("{} view read in full: {} keys", name, entries.size());
        }));
    }

    /** Completes once everything that was on the topic when reading began has been applied. */
    Mono<Void> caughtUp() {
        return readerCaughtUp;
    }

    boolean isCaughtUp() {
        return caughtUp;
    }

    V get(String key) {
        return entries.get(key);
    }

    boolean contains(String key) {
        return entries.containsKey(key);
    }

    /**
     * The values applied by the latest {@link #follow()}, in the order read, including those of the first full read.
     * One subscriber per {@code follow()}; ask after calling {@code follow()}.
     */
    Flux<V> applied() {
        Sinks.Many<V> applied = this.applied;
        if (applied == null) {
            throw new IllegalStateException(name + " view does not announce its values");
        }
        return applied.asFlux();
    }

    /** The live keys that start with {@code prefix}, in no particular order. */
    List<String> keysStartingWith(String prefix) {
        return entries.keySet().stream().filter(key -> key.startsWith(prefix)).toList();
    }

    private void apply(InboundRecord record) {
        String key = record.key();
        if (key == null) {
            unreadable.increment();
            log.warn("{} record without a key at {}-{}@{}: ignored", name, record.topic(), record.partition(),
                    record.offset());
            return;
        }
        if (record.value() == null) {
            entries.remove(key);
            return;
        }
        try {
            V value = Contract.read(record.value(), type);
            entries.put(key, value);
            Sinks.Many<V> listener = applied;
            if (listener != null) {
                listener.tryEmitNext(value);
            }
        } catch (RuntimeException e) {
            unreadable.increment();
            log.warn("{} record at {}-{}@{} could not be read: {}", name, record.topic(), record.partition(),
                    record.offset(), e.toString());
        }
    }
}
