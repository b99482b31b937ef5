package dev.dialer.common.kafka;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * How far a consumer group is behind, read from the broker: for each of its topics, the records between the group's
 * committed offsets and the ends of the topic's partitions, counted from the partition's earliest record where the
 * group has committed nothing yet or committed an offset retention has since deleted (the consumer resets to the
 * earliest record; counting from the old commit would report records that no longer exist). Read from the broker rather
 * than from the consumers, so it counts what no consumer fetches: partitions held paused, and every partition of a
 * group whose consumers are all gone. Every instance of a service measures the same figure for its group; queries take
 * the largest.
 *
 * <p>Gauge {@code dialer.kafka.consumer.lag{group, topic}}, in records: NaN until the first measurement, and after one
 * that failed (a broker away), so that a figure grown stale is never read as current.
 */
public final class ConsumerGroupLag implements AutoCloseable {

    /**
     * Often enough for a scrape every 15 s to see each figure change; three or four admin requests a group each time.
     */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(15);

    private static final Logger log = LoggerFactory.getLogger(ConsumerGroupLag.class);

    private final Admin admin;
    private final String group;
    private final List<String> topics;
    private final Duration interval;
    private final Map<String, Double> lag = new ConcurrentHashMap<>();
    private final AtomicBoolean failing = new AtomicBoolean();
    private volatile Disposable ticks;

    /**
     * @param interval how often the group is measured; each measurement waits at most this long for the broker
     */
    public ConsumerGroupLag(KafkaSettings settings, String group, Collection<String> topics, MeterRegistry registry,
                            Duration interval) {
        this.admin = Admin.create(TopicProvisioner.adminProperties(settings, Map.of()));
        this.group = group;
        this.topics = List.copyOf(topics);
        this.interval = interval;
        for (String topic : this.topics) {
            lag.put(topic, Double.NaN);
            Gauge.builder("dialer.kafka.consumer.lag", lag, figures -> figures.getOrDefault(topic, Double.NaN))
                    .description("Records between the consumer group's committed offsets and the ends of the topic's "
                            + "partitions, read from the broker")
                    .baseUnit("records")
                    .tag("group", group)
                    .tag("topic", topic)
                    .strongReference(true)
                    .register(registry);
        }
    }

    /** Measures now, then every interval, until {@link #close}. */
    public void start() {
        ticks = Flux.interval(Duration.ZERO, interval)
                .onBackpressureDrop()
                .concatMap(tick -> Mono.fromRunnable(this::measure).subscribeOn(Schedulers.boundedElastic()), 1)
                .subscribe();
    }

    /** One measurement: the gauges take its figures, or NaN when the broker could not tell them. */
    void measure() {
        try {
            lag.putAll(lagByTopic());
            if (failing.compareAndSet(true, false)) {
                log.info("consumer group {}: lag measured again", group);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            topics.forEach(topic -> lag.put(topic, Double.NaN));
            if (failing.compareAndSet(false, true)) {
                log.warn("consumer group {}: lag cannot be measured ({}); reported as NaN until it can", group,
                        e.toString());
            }
        }
    }

    private Map<String, Double> lagByTopic() throws InterruptedException, ExecutionException, TimeoutException {
        Map<TopicPartition, OffsetAndMetadata> committed = await(
                admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata());
        Map<String, TopicDescription> described = await(admin.describeTopics(topics).allTopicNames());
        Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
        Map<TopicPartition, OffsetSpec> starts = new HashMap<>();
        described.values().forEach(topic -> topic.partitions().forEach(info -> {
            TopicPartition partition = new TopicPartition(topic.name(), info.partition());
            ends.put(partition, OffsetSpec.latest());
            starts.put(partition, OffsetSpec.earliest());
        }));
        Map<TopicPartition, ListOffsetsResultInfo> end = await(admin.listOffsets(ends).all());
        Map<TopicPartition, ListOffsetsResultInfo> start = await(admin.listOffsets(starts).all());
        Map<String, Double> byTopic = new HashMap<>();
        topics.forEach(topic -> byTopic.put(topic, 0.0));
        end.forEach((partition, info) -> {
            OffsetAndMetadata offset = committed.get(partition);
            long earliest = start.get(partition).offset();
            long from = offset != null ? Math.max(offset.offset(), earliest) : earliest;
            byTopic.merge(partition.topic(), (double) Math.max(0, info.offset() - from), Double::sum);
        });
        return byTopic;
    }

    private <T> T await(KafkaFuture<T> future) throws InterruptedException, ExecutionException, TimeoutException {
        return future.get(interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        Disposable running = ticks;
        if (running != null) {
            running.dispose();
        }
        admin.close(Duration.ofSeconds(5));
    }
}
