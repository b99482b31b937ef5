package dev.dialer.api.calls;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class EndedCallsPurgeTest {

    @Test
    void aRetentionOfZeroKeepsEveryCallAndRunsNothing() {
        EndedCallsPurge keepAll = purge(Duration.ZERO);
        keepAll.start();
        assertThat(keepAll.isRunning()).isFalse();

        EndedCallsPurge ninetyDays = purge(Duration.ofDays(90));
        ninetyDays.start();
        try {
            assertThat(ninetyDays.isRunning()).isTrue();
        } finally {
            ninetyDays.stop();
        }
    }

    private static EndedCallsPurge purge(Duration retention) {
        ReadModelProperties properties = new ReadModelProperties(true, "group", 200, Duration.ofDays(8), 2, 5000,
                Duration.ofMinutes(2), Duration.ofSeconds(5), 500, retention, Duration.ofHours(1), 1000);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        // Never reached: the first tick is an hour away.
        return new EndedCallsPurge(new CallLedger(null, properties, registry), properties, registry);
    }
}
