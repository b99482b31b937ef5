package dev.dialer.common.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.kafka.receiver.KafkaReceiver;
import reactor.kafka.receiver.ReceiverOptions;
import reactor.kafka.receiver.ReceiverPartition;

/**
 * Reads a compacted topic in full, every partition from the beginning, then follows it: each instance sees every
 * record (no consumer group, no commits). {@link #caughtUp()} completes once every partition has been read up to
 * the end it had when reading began, so a service can report ready only with its view complete.
 */
public final class CompactedTopicReader {

    private final Map<String, Object> props;
    private final String topic;
    private final Sinks.Empty<Void> caughtUp = Sinks.empty();

    public CompactedTopicReader(KafkaSettings settings, String topic) {
        this.topic = topic;
        this.props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "dialer-reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.putAll(settings.overrides());
    }

    /** The records, from the beginning; subscribe once. Acknowledging is not needed (nothing is committed). */
    public Flux<InboundRecord> records() {
        return Mono.fromCallable(this::endOffsets)
                .subscribeOn(Schedulers.boundedElastic())
                .flatMapMany(this::follow);
    }

    /** Completes when the reader has seen everything that was in the topic when it started. */
    public Mono<Void> caughtUp() {
        return caughtUp.asMono();
    }

    private Flux<InboundRecord> follow(Map<TopicPartition, Long> ends) {
        ReceiverOptions<String, byte[]> options = ReceiverOptions.<String, byte[]>create(props)
                .assignment(ends.keySet())
                .addAssignListener(partitions -> partitions.forEach(ReceiverPartition::seekToBeginning));
        KafkaReceiver<String, byte[]> receiver = KafkaReceiver.create(options);
        Flux<InboundRecord> records = receiver.receive().map(KafkaSubscriber::toInbound);
        // The check runs on the consumer thread, which may sit in poll() longer than a tick: drop ticks meanwhile.
        Mono<Void> watch = Flux.interval(Duration.ofMillis(50))
                .onBackpressureDrop()
                .concatMap(tick -> receiver.doOnConsumer(consumer -> ends.entrySet().stream()
                        .allMatch(end -> consumer.position(end.getKey()) >= end.getValue())))
                .filter(Boolean::booleanValue)
                .next()
                .doOnNext(done -> caughtUp.tryEmitEmpty())
                .then();
        return records.mergeWith(watch.then(Mono.empty()));
    }

    private Map<TopicPartition, Long> endOffsets() {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props)) {
            List<PartitionInfo> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30));
            List<TopicPartition> topicPartitions = partitions.stream()
                    .map(info -> new TopicPartition(topic, info.partition()))
                    .toList();
            return consumer.endOffsets(topicPartitions, Duration.ofSeconds(30));
        }
    }
}
