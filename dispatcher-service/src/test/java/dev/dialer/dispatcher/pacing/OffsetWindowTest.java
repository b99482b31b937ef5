package dev.dialer.dispatcher.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.kafka.InboundRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OffsetWindowTest {

    private final List<Long> acknowledged = new ArrayList<>();
    private final OffsetWindow window = new OffsetWindow();

    @Test
    void acknowledgesNothingWhileAnEarlierRecordIsUnfinished() {
        OffsetWindow.Slot first = window.track(record(10));
        OffsetWindow.Slot second = window.track(record(11));
        OffsetWindow.Slot third = window.track(record(12));

        window.finish(third);
        window.finish(second);
        assertThat(acknowledged).isEmpty();
        assertThat(window.size()).isEqualTo(3);

        window.finish(first);
        assertThat(acknowledged).containsExactly(12L);
        assertThat(window.size()).isZero();
    }

    @Test
    void acknowledgesTheFinishedRunAtTheHeadOnly() {
        OffsetWindow.Slot first = window.track(record(0));
        window.track(record(1));
        OffsetWindow.Slot third = window.track(record(2));

        window.finish(first);
        window.finish(third);

        assertThat(acknowledged).containsExactly(0L);
        assertThat(window.size()).isEqualTo(2);
    }

    @Test
    void ignoresARecordFinishedTwice() {
        OffsetWindow.Slot first = window.track(record(5));
        window.finish(first);
        window.finish(first);

        assertThat(acknowledged).containsExactly(5L);
    }

    private InboundRecord record(long offset) {
        return new InboundRecord("t", 0, offset, "k", new byte[0], Map.of(), () -> acknowledged.add(offset));
    }
}
