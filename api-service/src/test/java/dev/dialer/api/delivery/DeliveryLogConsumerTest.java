package dev.dialer.api.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.TestClock;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.PausingPartitions;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Status;
import org.springframework.transaction.ReactiveTransaction;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

class DeliveryLogConsumerTest {

    private static final Duration STALE_AFTER = Duration.ofMinutes(2);

    private final TestClock clock = new TestClock();

    @Test
    void shouldReportDownWhileARecordTheDatabaseRefusesHasBeenRetriedLongerThanStaleAfter() {
        DeliveryLogConsumer consumer = new DeliveryLogConsumer(new RefusedDeliveryLog(), properties(),
                KafkaSettings.of("unused:9092"), new SimpleMeterRegistry(), clock);
        consumer.progress().started();
        AtomicBoolean acknowledged = new AtomicBoolean();
        InboundRecord record = new InboundRecord(Topics.WEBHOOK_DELIVERIES, 0, 7, "wh", new byte[0], Map.of(),
                () -> acknowledged.set(true));

        Disposable retrying = consumer.recordOne(record).subscribe();
        assertThat(consumer.health().getStatus()).isEqualTo(Status.UP);
        clock.advance(STALE_AFTER.plusSeconds(1));

        assertThat(consumer.health().getStatus()).isEqualTo(Status.DOWN);
        assertThat(consumer.health().getDetails()).containsEntry("recordsInHand", 1);
        assertThat(acknowledged).isFalse();
        retrying.dispose();
        assertThat(consumer.health().getStatus()).isEqualTo(Status.UP);
    }

    @Test
    void shouldRecordOtherPartitionsWhileOnePartitionsRecordIsRetriedAndKeepEachPartitionInOrder() {
        Sinks.Empty<Void> stuck = Sinks.empty();
        List<String> recorded = new CopyOnWriteArrayList<>();
        List<String> acknowledged = new CopyOnWriteArrayList<>();
        DeliveryLog scripted = new ScriptedDeliveryLog(value -> {
            recorded.add(value);
            return value.equals("0@0") ? stuck.asMono() : Mono.empty();
        });
        DeliveryLogConsumer consumer = new DeliveryLogConsumer(scripted, properties(),
                KafkaSettings.of("unused:9092"), new SimpleMeterRegistry(), clock);
        Flux<InboundRecord> records = Flux.just(record(0, 0, acknowledged), record(0, 1, acknowledged),
                record(1, 0, acknowledged), record(1, 1, acknowledged));

        consumer.recordAll(records, new PausingPartitions(Topics.WEBHOOK_DELIVERIES, 1_000))
                .map(record -> record.partition() + "@" + record.offset())
                .as(StepVerifier::create)
                .expectNext("1@0", "1@1")
                .then(() -> assertThat(recorded).as("0@1 waits for 0@0").containsExactly("0@0", "1@0", "1@1"))
                .then(stuck::tryEmitEmpty)
                .expectNext("0@0", "0@1")
                .expectComplete()
                .verify(Duration.ofSeconds(10));

        assertThat(acknowledged).containsExactly("1@0", "1@1", "0@0", "0@1");
    }

    @Test
    void aRecordWhoseStatementNeverAnswersIsTriedAgainOnceItsLimitHasPassed() {
        // The first try's connection hangs without failing: the server gone in a failover, no reset sent.
        java.util.concurrent.atomic.AtomicInteger tries = new java.util.concurrent.atomic.AtomicInteger();
        DeliveryLog scripted = new ScriptedDeliveryLog(value -> tries.incrementAndGet() == 1 ? Mono.never()
                : Mono.empty());
        DeliveryLogConsumer consumer = new DeliveryLogConsumer(scripted, properties(),
                KafkaSettings.of("unused:9092"), new SimpleMeterRegistry(), clock);
        List<String> acknowledged = new CopyOnWriteArrayList<>();

        StepVerifier.withVirtualTime(() -> consumer.recordOne(record(0, 0, acknowledged)))
                .thenAwait(DeliveryLogConsumer.STATEMENT_LIMIT.minusMillis(1))
                .then(() -> assertThat(tries).hasValue(1))
                .thenAwait(Duration.ofSeconds(1))
                .expectComplete()
                .verify(Duration.ofSeconds(10));
        assertThat(tries).hasValue(2);
    }

    private static InboundRecord record(int partition, long offset, List<String> acknowledged) {
        String name = partition + "@" + offset;
        return new InboundRecord(Topics.WEBHOOK_DELIVERIES, partition, offset, "wh-" + partition,
                name.getBytes(StandardCharsets.UTF_8), Map.of(), () -> acknowledged.add(name));
    }

    private static DeliveryProperties properties() {
        return new DeliveryProperties(true, "group", 500, Duration.ofDays(7), 1000, Duration.ofMinutes(5),
                Duration.ofDays(30), Duration.ofMinutes(10), 1000, STALE_AFTER);
    }

    /** A delivery log whose database refuses every write. */
    private static final class RefusedDeliveryLog extends DeliveryLog {

        RefusedDeliveryLog() {
            super(null, null, null, new NoTransactions(), new SimpleMeterRegistry());
        }

        @Override
        Mono<Void> record(byte[] value) {
            return Mono.error(new IllegalStateException("database refuses the write"));
        }
    }

    /** A delivery log whose database answers each record (named by its value) as the script says. */
    private static final class ScriptedDeliveryLog extends DeliveryLog {

        private final Function<String, Mono<Void>> script;

        ScriptedDeliveryLog(Function<String, Mono<Void>> script) {
            super(null, null, null, new NoTransactions(), new SimpleMeterRegistry());
            this.script = script;
        }

        @Override
        Mono<Void> record(byte[] value) {
            return Mono.defer(() -> script.apply(new String(value, StandardCharsets.UTF_8)));
        }
    }

    private static final class NoTransactions implements ReactiveTransactionManager {

        @Override
        public Mono<ReactiveTransaction> getReactiveTransaction(TransactionDefinition definition) {
            return Mono.empty();
        }

        @Override
        public Mono<Void> commit(ReactiveTransaction transaction) {
            return Mono.empty();
        }

        @Override
        public Mono<Void> rollback(ReactiveTransaction transaction) {
            return Mono.empty();
        }
    }
}
