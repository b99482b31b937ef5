package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.kafka.InboundRecord;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class InOrderAcknowledgerTest {

    private final List<Long> acknowledged = new CopyOnWriteArrayList<>();

    @Test
    void aRecordFinishedEarlyIsAcknowledgedOnlyAfterEveryEarlierOne() {
        InOrderAcknowledger acknowledger = new InOrderAcknowledger();
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
        InOrderAcknowledger acknowledger = new InOrderAcknowledger();
        InboundRecord first = record(1);
        InboundRecord second = record(2);
        acknowledger.received(first);
        acknowledger.received(second);

        acknowledger.done(first);

        assertThat(acknowledged).containsExactly(1L);
    }

    private InboundRecord record(long offset) {
        return new InboundRecord("dialer.call.events", 0, offset, "req", new byte[0], Map.of(),
                () -> acknowledged.add(offset));
    }
}
