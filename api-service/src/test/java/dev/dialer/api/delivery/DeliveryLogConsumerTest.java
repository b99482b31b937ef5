package dev.dialer.api.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.TestClock;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Status;
import org.springframework.transaction.ReactiveTransaction;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

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
