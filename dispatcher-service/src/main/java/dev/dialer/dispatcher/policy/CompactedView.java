package dev.dialer.dispatcher.policy;

import dev.dialer.common.contract.ContractSchema;
import dev.dialer.common.kafka.InboundRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

/**
 * The latest value per key of a compacted topic, held in memory: a record replaces its key's value, a tombstone removes
 * it. Values are read against the topic's JSON Schema; those that cannot be read, or that the schema refuses, are
 * counted and dropped (the key keeps its previous value), so one bad record never stops the view. In a view that
 * holds unreadable keys (the DNC list) such a record also holds its key as present, until a readable value or a
 * tombstone: its previous value is gone from the topic once compaction has run, and a dispatcher started after that
 * would otherwise find the key absent while those running found it listed.
 *
 * <p>A value is held under the key it names ({@code keyOf}), which is the record's key when its writer follows the
 * contract. A record keyed otherwise (an outside writer's {@code acct:+4402071234567} for the canonical
 * {@code acct:+442071234567}) is held under its value's key, so that the number it lists is blocked, and is counted
 * and logged; its own key's tombstone removes it. While several records name one key, the key is held until
 * the last of them is removed.
 *
 * <p>Memory: one map entry per live key (key string, value record and map overhead, roughly 200–400 bytes), so the
 * size follows the number of live keys, not the topic's history; {@code dialer.dispatcher.policy.view.size} shows it.
 */
final class CompactedView<V> {

    private static final Logger log = LoggerFactory.getLogger(CompactedView.class);

    private final String name;
    private final Class<V> type;
    private final ContractSchema schema;
    private final Function<V, String> keyOf;
    private final Supplier<Flux<InboundRecord>> records;
    private final Mono<Void> readerCaughtUp;
    /** Values whose record is keyed by the key they name: all of them, when writers follow the contract. */
    private final Map<String, V> entries = new ConcurrentHashMap<>();
    /** Record key to the key its value names, for records keyed otherwise. */
    private final Map<String, String> misfiled = new ConcurrentHashMap<>();
    /** The values of misfiled records, by the key they name, then by record key. */
    private final Map<String, Map<String, V>> misfiledValues = new ConcurrentHashMap<>();
    /**
     * Every value applied, for the one listener that acts on changes, buffered until it subscribes; a new one for each
     * {@link #follow()}, so a restarted reader gets a restarted listener. Null for views nobody listens to (a buffer
     * without a reader would only grow).
     */
    private volatile Sinks.Many<V> applied;
    private final boolean announces;
    /**
     * The key an unreadable record holds as present ({@link #heldUnread}), from its record key; null where an
     * unreadable record holds nothing.
     */
    private final UnaryOperator<String> heldAs;
    /**
     * Keys held as present because the latest record of each of these record keys could not be read: a key a lookup
     * asks for ({@link #heldAs}), with the record keys that hold it (several spellings of one number may).
     */
    private final Map<String, Set<String>> heldUnread = new ConcurrentHashMap<>();
    /** Record key to the key its unreadable record holds. */
    private final Map<String, String> heldUnreadAs = new ConcurrentHashMap<>();
    private final Counter unreadable;
    private final Counter misfiledRecords;
    private final Counter readFailures;
    private volatile boolean caughtUp;
    /** Counts each record's application twice, at its start and at its end: odd while one is being applied. */
    private final AtomicLong applying = new AtomicLong();

    /**
     * @param schema the topic's schema ({@code schemas/<name>.v1.json})
     * @param keyOf  the key a value belongs under, as the contract spells it
     * @param heldAs the key an unreadable record holds as present, from its record key (null: it holds nothing): the
     *               key a lookup asks for, so that a record keyed in another spelling of it spares it too. Where a key
     *               present is the safe side (a number on the DNC list is not called), every dispatcher then holds it
     *               alike
     */
    CompactedView(String name, Class<V> type, ContractSchema schema, Function<V, String> keyOf,
                  Supplier<Flux<InboundRecord>> records, Mono<Void> caughtUp, boolean announces,
                  UnaryOperator<String> heldAs, MeterRegistry registry) {
        this.name = name;
        this.announces = announces;
        this.heldAs = heldAs;
        this.type = type;
        this.schema = schema;
        this.keyOf = keyOf;
        this.records = records;
        this.readerCaughtUp = caughtUp.cache();
        this.unreadable = Counter.builder("dialer.dispatcher.policy.view.unreadable")
                .description("Records of a policy topic that could not be read; the key keeps its previous value")
                .tag("view", name)
                .register(registry);
        this.readFailures = Counter.builder("dialer.dispatcher.policy.view.read.failures")
                .description("Times a policy view's reader failed and read its topic again from the beginning: "
                        + "meanwhile the view holds what it had read")
                .tag("view", name)
                .register(registry);
        this.misfiledRecords = Counter.builder("dialer.dispatcher.policy.view.misfiled")
                .description("Records of a policy topic keyed otherwise than their value's key; held under the value's")
                .tag("view", name)
                .register(registry);
        Gauge.builder("dialer.dispatcher.policy.view.size", this,
                        view -> view.entries.size() + view.misfiled.size() + view.heldUnread.size())
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
                        .doBeforeRetry(signal -> {
                            readFailures.increment();
                            log.warn("{} view reader failed, reading again", name, signal.failure());
                        }))
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
        V value = entries.get(key);
        if (value == null) {
            Map<String, V> named = misfiledValues.get(key);
            return named == null ? null : named.values().stream().findFirst().orElse(null);
        }
        return value;
    }

    /**
     * Whether the key is held, under its own name, another record's or unread. A key held before and after a record
     * never reads as absent while another thread applies it: a record moves a key's holding from one of the three to
     * another (each new holding made before the old one is taken away), and no order of reading them suits every move,
     * so an answer of absent stands only if no record was being applied while it was read ({@link #applying}); else it
     * is read again, once that record is applied.
     */
    boolean contains(String key) {
        while (true) {
            long before = applying.get();
            boolean held = heldUnread.containsKey(key) || misfiledValues.containsKey(key) || entries.containsKey(key);
            if (held || ((before & 1) == 0 && applying.get() == before)) {
                return held;
            }
            Thread.onSpinWait();
        }
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
        return Stream.concat(entries.keySet().stream(), misfiledValues.keySet().stream())
                .filter(key -> key.startsWith(prefix)).distinct().toList();
    }

    /** Applies a record, {@link #applying} odd meanwhile. */
    private void apply(InboundRecord record) {
        applying.incrementAndGet();
        try {
            applyRecord(record);
        } finally {
            applying.incrementAndGet();
        }
    }

    private void applyRecord(InboundRecord record) {
        String key = record.key();
        if (key == null) {
            unreadable.increment();
            log.warn("{} record without a key at {}-{}@{}: ignored", name, record.topic(), record.partition(),
                    record.offset());
            return;
        }
        if (record.value() == null) {
            remove(key);
            return;
        }
        V value;
        String named;
        try {
            value = schema.read(record.value(), type);
            named = keyOf.apply(value);
        } catch (RuntimeException e) {
            unreadable.increment();
            // Named by its offset, not its key: the DNC view's keys are callees' numbers (docs/monitoring.md, "Logs").
            log.warn("{} record at {}-{}@{} could not be read{}: {}", name, record.topic(), record.partition(),
                    record.offset(), heldAs != null ? " (its key is held as present)" : "", e.getMessage());
            if (heldAs != null) {
                holdUnread(key);
                // What a readable record of the key held under its value's key goes, as it would have been compacted
                // away: a dispatcher started after compaction holds only this record's key.
                dropMisfiled(key);
            }
            return;
        }
        // A readable record whose value names another number than its key (an outside writer's typo) holds the key's
        // number too, as an unreadable record of that key would: the key asks for its number to be spared. Held
        // before the value is put, and kept through it: a key held before and after must never read as absent.
        boolean keyHeld = heldAs != null && !named.equals(key) && !named.equals(heldAs.apply(key));
        if (keyHeld) {
            holdUnread(key);
        }
        put(key, named, value, keyHeld);
        if (!named.equals(key)) {
            misfiledRecords.increment();
            log.warn("{} record at {}-{}@{} is keyed otherwise than its value names: held under its value's key{} "
                    + "until its own key is removed", name, record.topic(), record.partition(), record.offset(),
                    keyHeld ? ", and its key's own held too," : "");
        }
        Sinks.Many<V> listener = applied;
        if (listener != null) {
            listener.tryEmitNext(value);
        }
    }

    /**
     * Holds the record's value, the new holding made before the old one is taken away: the dial-time gate reads the
     * view on other threads, and a key listed before and after the record must never read as absent in between (a
     * DNC number whose entry is published again, its reason changed or its list imported again, would be dialled).
     * {@code keyHeld}: the record holds its key's own number too, the hold already made; else a hold is released.
     */
    private void put(String key, String named, V value, boolean keyHeld) {
        if (named.equals(key)) {
            entries.put(key, value);
            dropMisfiled(key);
        } else {
            misfiledValues.computeIfAbsent(named, k -> new ConcurrentHashMap<>()).put(key, value);
            String before = misfiled.put(key, named);
            if (before != null && !before.equals(named)) {
                dropMisfiledValue(before, key);
            }
            entries.remove(key);
        }
        if (!keyHeld) {
            releaseUnread(key);
        }
    }

    private void remove(String key) {
        releaseUnread(key);
        entries.remove(key);
        dropMisfiled(key);
    }

    /**
     * Holds the key the record of {@code key} names by its key alone (an unreadable one, or one whose value names
     * another): always the same for one record key, so a hold it had already stays as it is.
     */
    private void holdUnread(String key) {
        String held = heldAs.apply(key);
        heldUnread.computeIfAbsent(held, k -> ConcurrentHashMap.newKeySet()).add(key);
        heldUnreadAs.put(key, held);
    }

    /** Takes away what an unreadable record of {@code key} held. */
    private void releaseUnread(String key) {
        String held = heldUnreadAs.remove(key);
        if (held != null) {
            dropHold(held, key);
        }
    }

    private void dropHold(String held, String key) {
        heldUnread.computeIfPresent(held, (k, keys) -> {
            keys.remove(key);
            return keys.isEmpty() ? null : keys;
        });
    }

    /** Takes away what the record of {@code key} held under another key. */
    private void dropMisfiled(String key) {
        String named = misfiled.remove(key);
        if (named != null) {
            dropMisfiledValue(named, key);
        }
    }

    private void dropMisfiledValue(String named, String key) {
        misfiledValues.computeIfPresent(named, (k, values) -> {
            values.remove(key);
            return values.isEmpty() ? null : values;
        });
    }
}
