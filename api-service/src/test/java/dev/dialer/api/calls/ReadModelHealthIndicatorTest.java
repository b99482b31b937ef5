package dev.dialer.api.calls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.TestClock;
import dev.dialer.common.kafka.KafkaSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Status;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

class ReadModelHealthIndicatorTest {

    private final TestClock clock = new TestClock();

    @Test
    void shouldReportDownWhenAnEventHasBeenRetriedLongerThanStaleAfter() {
        ReadModelProperties properties = properties(true);
        CallEventReader reader = new CallEventReader(properties, KafkaSettings.of("localhost:9092"), null, null,
                new SimpleMeterRegistry(), clock);
        ReadModelHealthIndicator indicator = new ReadModelHealthIndicator(reader, properties);
        reader.progress().started();
        Disposable retrying = reader.progress().track(Mono.never()).subscribe();

        clock.advance(Duration.ofSeconds(90));
        assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
        clock.advance(Duration.ofSeconds(31));
        assertThat(indicator.health().getStatus()).isEqualTo(Status.DOWN);

        retrying.dispose();
        assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
    }

    @Test
    void shouldReportUpWhenTheReaderIsDisabledOnThisInstance() {
        ReadModelProperties properties = properties(false);
        CallEventReader reader = new CallEventReader(properties, KafkaSettings.of("localhost:9092"), null, null,
                new SimpleMeterRegistry(), clock);

        assertThat(new ReadModelHealthIndicator(reader, properties).health().getStatus()).isEqualTo(Status.UP);
    }

    private static ReadModelProperties properties(boolean enabled) {
        return new ReadModelProperties(enabled, "group", 200, Duration.ofDays(8), 2, 5000,
                Duration.ofMinutes(2), Duration.ofSeconds(30), 500, Duration.ofDays(90), Duration.ofMinutes(1), 1000);
    }
}
