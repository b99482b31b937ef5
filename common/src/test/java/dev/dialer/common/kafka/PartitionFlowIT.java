package dev.dialer.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.infra.Infrastructure;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import org.reactivestreams.Subscription;

/**
 * Pausing single partitions on a real broker while the subscriber's demand comes and goes: what the command
 * consumer's bounded memory rests on.
 */
class PartitionFlowIT {

    private static final int MAX_POLL = 50;

    private final String kafka = Infrastructure.shared().kafkaBootstrapServers();

    @Test
    void aPausedPartitionStaysPausedWhileTheReceiverPausesAndResumesForBackPressure() throws Exception {
        String topic = topicWith(2, 3_000);
        PartitionFlow flow = new PartitionFlow();
        AtomicBoolean pauseDone = new AtomicBoolean();
        AtomicInteger zeroAfterPause = new AtomicInteger();
        AtomicInteger oneAfterPause = new AtomicInteger();
        // A record every 2 ms: the receiver runs out of demand after every poll, so it pauses and resumes every
        // partition many times while partition 0 is meant to stay paused; the pause itself is asked while the
        // receiver has them all paused.
        BaseSubscriber<InboundRecord> slow = subscribe(topic, flow, Duration.ofMillis(2), record -> {
            if (pauseDone.get()) {
                (record.partition() == 0 ? zeroAfterPause : oneAfterPause).incrementAndGet();
                return Mono.empty();
            }
            return flow.pause(topic, 0).doOnTerminate(() -> pauseDone.set(true));
        });
        try {
            awaitAtLeast(oneAfterPause, 600, Duration.ofSeconds(60));
        } finally {
            slow.dispose();
        }

        // What was fetched before the pause took effect may still arrive (a poll or two); nothing after it.
        assertThat(zeroAfterPause.get()).isLessThanOrEqualTo(3 * MAX_POLL);
    }

    @Test
    void aPartitionResumedWhileTheReceiverPausesForBackPressureIsFetchedAgain() throws Exception {
        String topic = topicWith(2, 3_000);
        PartitionFlow flow = new PartitionFlow();
        AtomicInteger delivered = new AtomicInteger();
        AtomicInteger zeroAfterResume = new AtomicInteger();
        AtomicBoolean resumed = new AtomicBoolean();
        // A record every 2 ms, so the receiver pauses for back-pressure after every poll; partition 0 is paused
        // after the 50th record and resumed after the 200th, each time most likely while the receiver holds
        // everything paused (and so remembers partition 0 as the application's when it resumes).
        BaseSubscriber<InboundRecord> slow = subscribe(topic, flow, Duration.ofMillis(2), record -> {
            int count = delivered.incrementAndGet();
            if (resumed.get() && record.partition() == 0) {
                zeroAfterResume.incrementAndGet();
            }
            return count == 50 ? flow.pause(topic, 0)
                    : count == 200 ? flow.resume(topic, 0).doOnTerminate(() -> resumed.set(true))
                    : Mono.empty();
        });
        try {
            awaitAtLeast(zeroAfterResume, 3 * MAX_POLL, Duration.ofSeconds(30));
        } finally {
            slow.dispose();
        }
    }

    @Test
    void aResumeDoesNotFetchWhileTheSubscriberWantsNothing() throws Exception {
        String topic = topicWith(2, 3_000);
        PartitionFlow flow = new PartitionFlow();
        AtomicLong delivered = new AtomicLong();
        // A record every 100 ms, each acknowledged: the receiver commits (and polls to do so) while it has no demand.
        BaseSubscriber<InboundRecord> slow = subscribe(topic, flow, Duration.ofMillis(100), record -> {
            if (delivered.incrementAndGet() == 1) {
                // Paused and resumed while the receiver holds everything paused for its own back-pressure.
                return flow.pause(topic, 0).then(flow.pause(topic, 1)).then(flow.resume(topic, 0))
                        .then(flow.resume(topic, 1));
            }
            return Mono.empty();
        });
        try {
            awaitAtLeast(delivered, 30, Duration.ofSeconds(60));
            long fetched = flow.withConsumer(consumer -> consumer.metrics().entrySet().stream()
                            .filter(metric -> metric.getKey().name().equals("records-consumed-total")
                                    && !metric.getKey().tags().containsKey("topic"))
                            .map(Map.Entry::getValue)
                            .map(Metric::metricValue)
                            .mapToDouble(value -> ((Number) value).doubleValue())
                            .sum())
                    .map(Double::longValue)
                    .block(Duration.ofSeconds(10));

            // Fetched beyond what was delivered: the batches the receiver's pipeline holds, not a poll per commit.
            assertThat(fetched - delivered.get()).isLessThanOrEqualTo(3 * MAX_POLL);
        } finally {
            slow.dispose();
        }
    }

    @Test
    void eachRecordCarriesTheAssignmentItWasFetchedUnderAndNoHeaderOfItsOwnForIt() throws Exception {
        String topic = topicWith(1, 20);
        PartitionFlow flow = new PartitionFlow();
        List<InboundRecord> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicInteger count = new AtomicInteger();
        BaseSubscriber<InboundRecord> subscriber = subscribe(topic, flow, Duration.ZERO, record -> {
            seen.add(record);
            count.incrementAndGet();
            return Mono.empty();
        });
        try {
            awaitAtLeast(count, 20, Duration.ofSeconds(60));
        } finally {
            subscriber.dispose();
        }

        // One assignment so far: the first generation, which every record was fetched under.
        assertThat(seen).allSatisfy(record -> {
            assertThat(record.assignment()).isEqualTo(1);
            assertThat(record.headers()).doesNotContainKey(FlowControlledConsumer.ASSIGNMENT_HEADER);
        });
    }

    /**
     * Subscribes to {@code topic} taking one record at a time: each is acknowledged and handed to {@code seen}, and
     * the next is asked for {@code gap} after what {@code seen} returned has completed. Slow on purpose: the receiver
     * runs out of demand after every poll and pauses every partition for back-pressure until the next request.
     */
    private BaseSubscriber<InboundRecord> subscribe(String topic, PartitionFlow flow, Duration gap,
                                                    Function<InboundRecord, Mono<Void>> seen) {
        BaseSubscriber<InboundRecord> subscriber = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                request(1);
            }

            @Override
            protected void hookOnNext(InboundRecord record) {
                record.acknowledge();
                seen.apply(record).doOnTerminate(() -> Schedulers.parallel().schedule(() -> request(1),
                        gap.toMillis(), TimeUnit.MILLISECONDS)).subscribe();
            }
        };
        KafkaSubscriber.receive(KafkaSettings.of(kafka), "flow-" + UUID.randomUUID(), List.of(topic), MAX_POLL, flow)
                .subscribe(subscriber);
        return subscriber;
    }

    private String topicWith(int partitions, int recordsPerPartition) {
        String topic = "flow-" + UUID.randomUUID();
        TopicProvisioner.ensure(KafkaSettings.of(kafka),
                List.of(TopicSpec.deleting(topic, partitions, Duration.ofDays(1))), (short) 1, 30_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.LINGER_MS_CONFIG, 5))) {
            for (int partition = 0; partition < partitions; partition++) {
                for (int i = 0; i < recordsPerPartition; i++) {
                    producer.send(new ProducerRecord<>(topic, partition, "key-" + i, "{\"n\":" + i + "}"));
                }
            }
            producer.flush();
        }
        return topic;
    }

    private static void awaitAtLeast(Number counter, long count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (counter.longValue() < count) {
            assertThat(System.nanoTime()).as("%s of %s within %s", counter, count, timeout).isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
