package dev.dialer.dispatcher.pacing;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CommandReader;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.PartitionFlow;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The lane's pacing alone, on the real clock and the real schedulers, with dials that cost nothing: how close one
 * caller ID's starts come to its rate on this machine, and the most starts in any one-second window. Not a test (it
 * asserts nothing about speed; its name matches neither {@code *Test} nor {@code *IT}):
 *
 * <pre>
 * ./mvnw -B -q -pl dispatcher-service -am verify -Dtest=None -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dfailsafe.failIfNoSpecifiedTests=false -Dit.test=LanePacingBenchmark [-Dbench.cps=100] [-Dbench.burst=1]
 * </pre>
 *
 * What {@code DispatchBenchmark}'s {@code pacing100} measures beyond this is the cost of the dial itself (ledger,
 * policy, events, the carrier's HTTP request) on the same two cores.
 */
@Tag("benchmark")
class LanePacingBenchmark {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void run() {
        int cps = Integer.getInteger("bench.cps", 100);
        int burst = Integer.getInteger("bench.burst", 1);
        Duration window = Duration.ofSeconds(60);
        int backlog = (int) (cps * window.toSeconds() * 1.3) + 50;
        PacingProperties pacing = new PacingProperties(cps, burst, Map.of(), Map.of(), Map.of(), 0, 0,
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        Scheduler timers = Schedulers.newSingle("bench-lane-timers", true);
        // When each start was decided (the time the limits were asked at, on their clock as in service) and when its
        // dial ran.
        List<Long> decided = new CopyOnWriteArrayList<>();
        PacingMetrics metrics = new PacingMetrics(new SimpleMeterRegistry()) {
            @Override
            void started(String trunk, long decidedAt) {
                decided.add(decidedAt);
            }
        };
        Lanes lanes = new Lanes(new LanesProperties(backlog + 1_000, 2_000, Duration.ofMinutes(5), 1_000), pacing,
                new ConfiguredCallerLimits(pacing), null, Clock.systemUTC(), metrics, null, Schedulers.parallel(),
                timers, System::nanoTime, command -> true);
        List<Long> starts = new CopyOnWriteArrayList<>();
        PartitionLanes partition = lanes.forPartition("dialer.call.commands", 0, new PartitionFlow(),
                (record, ticket) -> Mono.fromRunnable(() -> {
                    starts.add(System.nanoTime());
                    record.acknowledge();
                }).thenReturn(LaneWork.Placement.NOT_PLACED));
        Disposable running = partition.jobs(10_000).subscribe();
        try {
            CommandReader reader = new CommandReader();
            for (int offset = 0; offset < backlog; offset++) {
                String json = """
                        {"version":1,"request_id":"lane-%d","account_id":"acc","caller_id":"+4950100","to":"+4915112345678",
                         "audio":"welcome.wav","created_at":"2025-06-01T12:00:00Z"}""".formatted(offset);
                byte[] value = json.getBytes(StandardCharsets.UTF_8);
                CallCommand command = reader.read(value);
                partition.admit(new InboundRecord("dialer.call.commands", 0, offset, "+4950100", value, Map.of(),
                        () -> { }), new LaneTicket(command));
            }
            sleep(window.plusSeconds(2));
        } finally {
            running.dispose();
            timers.dispose();
        }
        long first = decided.get(0);
        List<Long> inWindow = decided.stream().filter(at -> at - first < window.toNanos()).toList();
        long firstRun = starts.get(0);
        List<Long> ranInWindow = starts.stream().filter(at -> at - firstRun < window.toNanos()).toList();
        long expected = cps * window.toSeconds();
        String line = String.format("%s lane%d: one caller ID at %d CPS, burst %d, dials costing nothing: %d started in "
                        + "the %d s from the first (expected %d, error %+.2f %%), most in any 1 s window %d (limit %d); "
                        + "their dials ran %d in the %d s from the first, most in any 1 s window %d (the scheduler's "
                        + "jitter after the decision); load average %s", Instant.now(), cps, cps, burst,
                inWindow.size(), window.toSeconds(), expected, 100.0 * (inWindow.size() - expected) / expected,
                maxInAnyClosedWindow(inWindow), cps + burst, ranInWindow.size(), window.toSeconds(),
                maxInAnyClosedWindow(ranInWindow), loadAverage());
        System.out.println("BENCHMARK " + line);
        try {
            Files.writeString(Path.of("target", "benchmark-results.txt"), line + System.lineSeparator(),
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int maxInAnyClosedWindow(List<Long> starts) {
        List<Long> sorted = new ArrayList<>(starts);
        sorted.sort(null);
        int best = 0;
        int tail = 0;
        for (int head = 0; head < sorted.size(); head++) {
            while (sorted.get(head) - sorted.get(tail) > SECOND) {
                tail++;
            }
            best = Math.max(best, head - tail + 1);
        }
        return best;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
