package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

class ActiveLimitTest {

    private final ActiveLimit limit = new ActiveLimit(2);
    private final List<String> started = new ArrayList<>();

    private Mono<Void> work(String name, Sinks.Empty<Void> done) {
        return Mono.fromRunnable(() -> started.add(name)).then(done.asMono());
    }

    @Test
    void runsAtMostItsLimitAtOnceAndTheRestInTheOrderTheyAsked() {
        List<Sinks.Empty<Void>> done = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            done.add(Sinks.empty());
            limit.run(work("w" + i, done.get(i))).subscribe();
        }
        assertThat(started).containsExactly("w0", "w1");
        assertThat(limit.waiting()).isEqualTo(2);

        done.get(1).tryEmitError(new IllegalStateException("failed"));
        assertThat(started).as("a failed work's turn passes on").containsExactly("w0", "w1", "w2");
        done.get(0).tryEmitEmpty();
        assertThat(started).containsExactly("w0", "w1", "w2", "w3");
        done.get(2).tryEmitEmpty();
        done.get(3).tryEmitEmpty();
        assertThat(limit.active()).isZero();
        assertThat(limit.waiting()).isZero();
    }

    @Test
    void aWaitingWorkCancelledLeavesItsPlaceAndARunningOneCancelledPassesItsTurnOn() {
        Sinks.Empty<Void> first = Sinks.empty();
        Disposable running = limit.run(work("w0", first)).subscribe();
        limit.run(work("w1", Sinks.empty())).subscribe();
        Disposable waiting = limit.run(work("w2", Sinks.empty())).subscribe();
        limit.run(work("w3", Sinks.empty())).subscribe();

        waiting.dispose();
        assertThat(limit.waiting()).isOne();
        running.dispose();

        assertThat(started).containsExactly("w0", "w1", "w3");
        assertThat(limit.active()).isEqualTo(2);
        assertThat(limit.waiting()).isZero();
    }
}
