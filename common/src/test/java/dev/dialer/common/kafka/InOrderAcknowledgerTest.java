package dev.dialer.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

class InOrderAcknowledgerTest {

    private final List<Long> acknowledged = new CopyOnWriteArrayList<>();

    @Test
    void aRecordFinishedEarlyIsAcknowledgedOnlyAfterEveryEarlierOne() {
        InOrderAcknowledger acknowledger = new InOrderAcknowledger(100, () -> { }, () -> { });
        InboundRecord first = record(10);
        InboundRecord second = record(11);
        InboundRecord third = record(12);
        acknowledger.received(first);
        acknowledger.received(second);
        acknowledger.received(third);

        acknowledger.done(third);
        acknowledger.done(second);

        assertThat(acknowledged).isEmpty();
        assertThat(acknowledger.unacknowledged()).isEqualTo(3);

        acknowledger.done(first);

        assertThat(acknowledged).containsExactly(10L, 11L, 12L);
        assertThat(acknowledger.unacknowledged()).isZero();
    }

    @Test
    void recordsFinishedInOrderAreAcknowledgedAtOnce() {
        InOrderAcknowledger acknowledger = new InOrderAcknowledger(100, () -> { }, () -> { });
        InboundRecord first = record(1);
        InboundRecord second = record(2);
        acknowledger.received(first);
        acknowledger.received(second);

        acknowledger.done(first);

        assertThat(acknowledged).containsExactly(1L);
    }

    @Test
    void aRevokedPartitionAcknowledgesNothingMoreAndSaysItWasPaused() {
        InOrderAcknowledger acknowledger = new InOrderAcknowledger(2, () -> { }, () -> { });
        InboundRecord first = record(1);
        InboundRecord second = record(2);
        acknowledger.received(first);
        acknowledger.received(second);

        assertThat(acknowledger.revoke()).as("held paused at its bound").isTrue();
        acknowledger.done(first);
        acknowledger.done(second);

        assertThat(acknowledged).as("its next owner reads them again").isEmpty();
        assertThat(acknowledger.unacknowledged()).isZero();
    }

    @Test
    void aCopyDoneAfterItsOffsetWasAcknowledgedLeavesNothingBehind() {
        InOrderAcknowledger acknowledger = new InOrderAcknowledger(100, () -> { }, () -> { });
        InboundRecord first = record(1);
        acknowledger.received(first);
        acknowledger.done(first);
        // The same offset again, from a consumer started after a failure, done later once more.
        acknowledger.done(first);
        InboundRecord second = record(2);
        acknowledger.received(second);
        acknowledger.done(second);

        assertThat(acknowledged).containsExactly(1L, 2L);
        assertThat(acknowledger.unacknowledged()).isZero();
    }

    @Test
    void behindARecordThatDoesNotFinishThePartitionHoldsNoMoreThanItsBoundAndGoesOnOnceItFinishes() {
        int high = 100;
        // The records behind the head finish at once: they wait as offsets, up to ten times the bound of unfinished.
        int bound = high * InOrderAcknowledger.FINISHED_FACTOR;
        int perPoll = 10;
        AtomicBoolean paused = new AtomicBoolean();
        List<Boolean> switches = new CopyOnWriteArrayList<>();
        InOrderAcknowledger acknowledger = new InOrderAcknowledger(high, () -> {
            paused.set(true);
            switches.add(true);
        }, () -> {
            paused.set(false);
            switches.add(false);
        });
        Sinks.Many<InboundRecord> partition = Sinks.many().unicast().onBackpressureBuffer();
        Sinks.Empty<Void> head = Sinks.empty();
        partition.asFlux().doOnNext(acknowledger::received)
                .flatMap(record -> (record.offset() == 0 ? head.asMono() : Mono.<Void>empty()).thenReturn(record), 64)
                .doOnNext(acknowledger::done)
                .subscribe();
        // Kafka: each poll returns a few records of the partition, none while it is paused.
        AtomicLong next = new AtomicLong();
        AtomicInteger mostHeld = new AtomicInteger();
        Runnable fetch = () -> {
            for (int poll = 0; poll < 1_000 && !paused.get() && next.get() < 5_000; poll++) {
                for (int i = 0; i < perPoll; i++) {
                    partition.tryEmitNext(record(next.getAndIncrement()));
                    mostHeld.accumulateAndGet(acknowledger.unacknowledged(), Math::max);
                }
            }
        };

        fetch.run();

        assertThat(paused).isTrue();
        assertThat(acknowledged).isEmpty();
        // What the poll that reached the bound returned still arrives; then nothing more.
        assertThat(mostHeld.get()).isGreaterThanOrEqualTo(bound).isLessThan(bound + perPoll);
        assertThat(acknowledger.unacknowledged()).isEqualTo(next.intValue());

        head.tryEmitEmpty();
        fetch.run();

        assertThat(next.get()).isEqualTo(5_000);
        assertThat(acknowledged).hasSize(5_000).isSorted();
        assertThat(mostHeld.get()).isLessThan(bound + perPoll);
        assertThat(switches).containsExactly(true, false);
    }

    @Test
    void recordsNotFinishedPauseThePartitionAtTheBoundAndFinishedOnesBehindAHeadOnlyAtTenTimesIt() {
        AtomicBoolean paused = new AtomicBoolean();
        InOrderAcknowledger acknowledger = new InOrderAcknowledger(10, () -> paused.set(true),
                () -> paused.set(false));
        List<InboundRecord> records = new java.util.ArrayList<>();
        for (long offset = 0; offset < 10; offset++) {
            records.add(record(offset));
            acknowledger.received(records.get((int) offset));
            assertThat(paused.get()).as("%s received, none finished", offset + 1).isEqualTo(offset == 9);
        }

        // All but the head finish: they wait as offsets behind it, and the partition fetches again.
        records.subList(1, 10).forEach(acknowledger::done);
        assertThat(paused).isFalse();
        assertThat(acknowledged).isEmpty();
        for (long offset = 10; offset < 100; offset++) {
            InboundRecord record = record(offset);
            acknowledger.received(record);
            acknowledger.done(record);
            assertThat(paused.get()).as("%s waiting behind the head", offset + 1).isEqualTo(offset == 99);
        }

        acknowledger.done(records.get(0));
        assertThat(acknowledged).hasSize(100).isSorted();
        assertThat(paused).isFalse();
    }

    private InboundRecord record(long offset) {
        return new InboundRecord("dialer.call.events", 0, offset, "req", new byte[0], Map.of(),
                () -> acknowledged.add(offset));
    }
}
