package dev.dialer.dispatcher.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The dispatcher-wide dial permits: handed out in turn, none once closed for a stop, and again once opened. */
class DialPermitsTest {

    private final DialPermits permits = new DialPermits(2);
    private final AtomicInteger idle = new AtomicInteger();
    private final List<String> granted = new ArrayList<>();

    @Test
    void closedWithNoneHeldItIsIdleAtOnce() {
        permits.close(idle::incrementAndGet);

        assertThat(idle).hasValue(1);
        assertThat(permits.tryAcquire(() -> granted.add("late"))).isFalse();
    }

    @Test
    void closedItGrantsNothingAndIsIdleOnceTheLastPermitHeldComesBack() {
        assertThat(permits.tryAcquire(() -> granted.add("a"))).isTrue();
        assertThat(permits.tryAcquire(() -> granted.add("b"))).isTrue();
        assertThat(permits.tryAcquire(() -> granted.add("waiting"))).isFalse();

        permits.close(idle::incrementAndGet);
        assertThat(permits.tryAcquire(() -> granted.add("after close"))).isFalse();
        permits.release();

        assertThat(granted).as("a permit given back passes to no lane once closed").isEmpty();
        assertThat(idle).as("one dial still running").hasValue(0);
        permits.release();
        assertThat(idle).hasValue(1);
        assertThat(permits.inUse()).isZero();
    }

    @Test
    void openedAgainItGrantsTheLanesThatWaitedAsPermitsAllow() {
        assertThat(permits.tryAcquire(() -> granted.add("a"))).isTrue();
        permits.close(idle::incrementAndGet);
        assertThat(permits.tryAcquire(() -> granted.add("b"))).isFalse();
        assertThat(permits.tryAcquire(() -> granted.add("c"))).isFalse();

        permits.open();

        assertThat(granted).containsExactly("b");
        assertThat(permits.inUse()).isEqualTo(2);
        permits.release();
        assertThat(granted).containsExactly("b", "c");
        assertThat(idle).as("opened before its dial ended: no longer waited for").hasValue(0);
    }
}
