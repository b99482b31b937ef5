package dev.dialer.common.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.kafka.receiver.KafkaReceiver;
import reactor.kafka.receiver.ReceiverOptions;
import reactor.kafka.receiver.ReceiverPartition;
import reactor.util.context.Context;

/**
 * Reads a compacted topic in full, every partition from the beginning, then follows it: each instance sees every
 * record (no consumer group, no commits). {@link #caughtUp()} completes once every record that was in the topic when
 * reading began has been handed on and applied, so a service can report ready only with its view complete.
 *
 * <p>A record counts as applied once the subscriber's {@code onNext} for it returned: the views apply each record as
 * they receive it. The consumer's position says only what was fetched, and reactor-kafka may still hold many fetched
 * records on their way to the subscriber (a large do-not-call list at start-up): ready on the position alone, a
 * dispatcher could dial numbers its view had yet to learn were blocked.
 *
 * <p>After a failure its subscriber subscribes to {@link #records()} again, and the topic is read from the beginning
 * again; records applied already are passed over. Applied again, the history still in uncompacted segments (a number
 * added, removed and added again; a campaign paused, resumed and paused again) would show older values for a while,
 * and the service would act on them.
 */
public final class CompactedTopicReader {

    private static final Duration READ_TO_NOW_LOOKS = Duration.ofMillis(20);
    private static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration POLL = Duration.ofMillis(100);
    /** How far before a partition's end its last record is looked for first. */
    private static final long TAIL = 64;

    private final Map<String, Object> props;
    private final String topic;
    private final Sinks.Empty<Void> caughtUp = Sinks.empty();
    /** Per partition, the offset of the last record applied, across reads from the beginning. */
    private final Map<Integer, Long> applied = new ConcurrentHashMap<>();
    /** {@link #caughtUp} has completed: no need to look again. */
    private volatile boolean readInFull;

    public CompactedTopicReader(KafkaSettings settings, String topic) {
        this.topic = topic;
        this.props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "dialer-reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // An upstream producer writing in transactions: what it aborted was never written (a DNC entry, a cancel).
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // Topics are made at start-up with their partitions and policies; one missing is an error, not a default.
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.putAll(settings.overrides());
    }

    /**
     * The records, from the beginning, without those applied in an earlier subscription; apply each record in
     * {@code onNext} (not later, on another thread), so that {@link #caughtUp()} means applied. Acknowledging is not
     * needed (nothing is committed).
     */
    public Flux<InboundRecord> records() {
        return Mono.fromCallable(this::bounds)
                .subscribeOn(Schedulers.boundedElastic())
                .flatMapMany(this::follow);
    }

    /** Completes when the reader has seen everything that was in the topic when it started. */
    public Mono<Void> caughtUp() {
        return caughtUp.asMono();
    }

    /**
     * Completes once every record on the topic now (when subscribed) has been applied: a view read to this point holds
     * every change acknowledged before it, such as a webhook a replay request that came after it names. Looks every
     * {@code 20 ms}; it is for rare reads, not for every record. Errors when the topic's offsets cannot be read.
     */
    public Mono<Void> readToNow() {
        return Mono.fromCallable(this::bounds)
                .subscribeOn(Schedulers.boundedElastic())
                .flatMap(now -> Flux.interval(Duration.ZERO, READ_TO_NOW_LOOKS)
                        .filter(look -> now.allApplied(applied))
                        .next())
                .then();
    }

    private Flux<InboundRecord> follow(Bounds bounds) {
        ReceiverOptions<String, byte[]> options = ReceiverOptions.<String, byte[]>create(props)
                .assignment(bounds.partitions())
                .addAssignListener(partitions -> partitions.forEach(ReceiverPartition::seekToBeginning));
        KafkaReceiver<String, byte[]> receiver = KafkaReceiver.create(options);
        // A topic with nothing to read (or nothing left: read in full before a failure) is read in full now.
        noteIfCaughtUp(bounds);
        return receiver.receive()
                .map(KafkaSubscriber::toInbound)
                .filter(record -> {
                    Long upTo = applied.get(record.partition());
                    return upTo == null || record.offset() > upTo;
                })
                // Noted once the subscriber's onNext returned, not when the record is handed on: only then is it
                // applied (the signals are serial, so the check after it sees every record before it applied too).
                // Hidden first, so that no subscriber fuses with the filter and takes records around onNext.
                .hide()
                .transform(Operators.<InboundRecord, InboundRecord>lift((scannable, subscriber) ->
                        new NotingSubscriber(subscriber, bounds)));
    }

    private void noteIfCaughtUp(Bounds bounds) {
        if (!readInFull && bounds.allApplied(applied)) {
            readInFull = true;
            caughtUp.tryEmitEmpty();
        }
    }

    /** Hands each record on, then notes it applied and looks whether everything that was there is. */
    private final class NotingSubscriber implements CoreSubscriber<InboundRecord> {

        private final CoreSubscriber<? super InboundRecord> actual;
        private final Bounds bounds;

        NotingSubscriber(CoreSubscriber<? super InboundRecord> actual, Bounds bounds) {
            this.actual = actual;
            this.bounds = bounds;
        }

        @Override
        public Context currentContext() {
            return actual.currentContext();
        }

        @Override
        public void onSubscribe(Subscription subscription) {
            actual.onSubscribe(subscription);
        }

        @Override
        public void onNext(InboundRecord record) {
            actual.onNext(record);
            applied.merge(record.partition(), record.offset(), Math::max);
            noteIfCaughtUp(bounds);
        }

        @Override
        public void onError(Throwable error) {
            actual.onError(error);
        }

        @Override
        public void onComplete() {
            actual.onComplete();
        }
    }

    /**
     * Each partition's offset of its last record a reader is handed when reading began (none: nothing to read). Not
     * {@code end - 1}: the offsets at a partition's end may hold no record a reader is handed, a transaction's commit
     * marker or an aborted transaction's records, and waiting for that offset would wait for ever.
     */
    private record Bounds(Set<TopicPartition> partitions, Map<TopicPartition, Long> lastRecords) {

        boolean allApplied(Map<Integer, Long> applied) {
            return lastRecords.entrySet().stream()
                    .allMatch(last -> applied.getOrDefault(last.getKey().partition(), -1L) >= last.getValue());
        }
    }

    private Bounds bounds() {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props)) {
            List<PartitionInfo> partitions = consumer.partitionsFor(topic, LOOKUP_TIMEOUT);
            List<TopicPartition> topicPartitions = partitions.stream()
                    .map(info -> new TopicPartition(topic, info.partition()))
                    .toList();
            return new Bounds(Set.copyOf(topicPartitions), lastRecords(consumer,
                    consumer.beginningOffsets(topicPartitions, LOOKUP_TIMEOUT),
                    consumer.endOffsets(topicPartitions, LOOKUP_TIMEOUT)));
        }
    }

    /**
     * The offset of each partition's last record before {@code ends}, as a reader is handed it: read from a little
     * before the end, further back for a partition whose tail held none (a run of aborted records), up to its
     * beginning. A partition with no record to hand is left out.
     */
    private static Map<TopicPartition, Long> lastRecords(KafkaConsumer<String, byte[]> consumer,
                                                         Map<TopicPartition, Long> beginnings,
                                                         Map<TopicPartition, Long> ends) {
        Map<TopicPartition, Long> last = new HashMap<>();
        Map<TopicPartition, Long> from = new HashMap<>();
        ends.forEach((partition, end) -> {
            if (end > beginnings.get(partition)) {
                from.put(partition, Math.max(beginnings.get(partition), end - TAIL));
            }
        });
        long deadline = System.nanoTime() + LOOKUP_TIMEOUT.toNanos();
        while (!from.isEmpty()) {
            consumer.assign(from.keySet());
            from.forEach(consumer::seek);
            Set<TopicPartition> reading = new HashSet<>(from.keySet());
            while (!reading.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new org.apache.kafka.common.errors.TimeoutException("the end of " + reading
                            + " could not be read within " + LOOKUP_TIMEOUT);
                }
                for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
                    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
                    if (record.offset() < ends.get(partition)) {
                        last.merge(partition, record.offset(), Math::max);
                    }
                }
                reading.removeIf(partition -> consumer.position(partition) >= ends.get(partition));
            }
            Map<TopicPartition, Long> further = new HashMap<>();
            from.forEach((partition, start) -> {
                long beginning = beginnings.get(partition);
                if (!last.containsKey(partition) && start > beginning) {
                    further.put(partition, Math.max(beginning, start - (ends.get(partition) - start) * 8));
                }
            });
            from.clear();
            from.putAll(further);
        }
        return last;
    }
}
