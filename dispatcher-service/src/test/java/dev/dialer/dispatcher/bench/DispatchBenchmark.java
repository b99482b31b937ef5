package dev.dialer.dispatcher.bench;

import dev.dialer.common.kafka.TopicProvisioner;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.DispatcherApplication;
import dev.dialer.dispatcher.command.KeyRoutingAccess;
import dev.dialer.infra.Infrastructure;
import dev.dialer.simulator.CarrierSimulator;
import dev.dialer.simulator.SimulatorSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The dispatcher's benchmark: not a test (it asserts nothing about speed) and not part of the build's test run (its
 * name matches neither {@code *Test} nor {@code *IT}). One scenario per JVM, so each starts on a fresh embedded Kafka
 * and PostgreSQL and an empty commands topic:
 *
 * <pre>
 * ./mvnw -B -q -pl dispatcher-service -am verify -Dtest=None -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dit.test=DispatchBenchmark -Dbench.scenario=pacing10
 * </pre>
 *
 * Scenarios: {@code throughput} (limits off), {@code pacing10} and {@code pacing100} (one caller ID for 60 s),
 * {@code hol} (head of line: ten calls behind a 1 CPS backlog on one partition) and {@code heap} (heap after GC while
 * a large backlog is worked through; {@code -Dbench.backlog=N}). Results are printed and appended to
 * {@code target/benchmark-results.txt}.
 */
@Tag("benchmark")
class DispatchBenchmark {

    private static final String SECRET = "bench-secret";
    private static final Duration SAMPLE = Duration.ofMillis(5);

    private CarrierSimulator simulator;
    private ConfigurableApplicationContext dispatcher;
    private KafkaProducer<String, String> producer;
    private final List<Long> dialTimes = new CopyOnWriteArrayList<>();
    private volatile boolean sampling = true;
    private final String run = "bench-" + UUID.randomUUID().toString().substring(0, 8) + "-";

    @Test
    void run() throws Exception {
        String scenario = System.getProperty("bench.scenario", "pacing10");
        try {
            switch (scenario) {
                case "throughput" -> throughput(Integer.getInteger("bench.calls", 20_000));
                case "pacing10" -> pacing(10, Duration.ofSeconds(60));
                case "pacing100" -> pacing(100, Duration.ofSeconds(60));
                case "hol" -> headOfLine();
                case "heap" -> heap(Integer.getInteger("bench.backlog", 1_000_000));
                default -> throw new IllegalArgumentException("unknown scenario " + scenario);
            }
        } finally {
            sampling = false;
            if (producer != null) {
                producer.close();
            }
            if (dispatcher != null) {
                dispatcher.close();
            }
            if (simulator != null) {
                simulator.close();
            }
        }
    }

    /** Limits off, many caller IDs: how many dials per second reach the simulator. */
    private void throughput(int calls) {
        start(Map.of("dialer.dispatcher.pacing.caller-cps", "0"));
        List<String> callers = callers(1_000);
        long produced = produce(calls, i -> callers.get(i % callers.size()));
        awaitDials(calls, Duration.ofMinutes(20));
        long first = dialTimes.get(0);
        long last = dialTimes.get(calls - 1);
        double seconds = (last - first) / 1e9;
        report("throughput", "%d calls over %d caller IDs, limits off: first to last dial %.1f s = %.0f CPS "
                        + "(producing took %.1f s)", calls, callers.size(), seconds, (calls - 1) / seconds,
                produced / 1e9);
    }

    /** One caller ID with a backlog longer than the window at {@code cps}: dials counted in {@code window}. */
    private void pacing(int cps, Duration window) {
        String caller = "+4950" + (1_000_000 + cps);
        // Enough dials in flight that the carrier's and the callbacks' latency never caps the lane's start rate.
        int burst = Integer.getInteger("bench.burst", 1);
        start(Map.of(
                "dialer.dispatcher.pacing.caller-cps", String.valueOf(cps),
                "dialer.dispatcher.pacing.caller-burst", String.valueOf(burst),
                "dialer.dispatcher.lanes.in-flight-per-lane", "2000",
                "dialer.dispatcher.retry.batch-size", "1000"));
        int backlog = (int) (cps * window.toSeconds() * 1.3) + 50;
        MeterRegistry meters = dispatcher.getBean(MeterRegistry.class);
        Counter starts = meters.get("dialer.dispatcher.dials.started").counter();
        produce(backlog, i -> caller);
        while (starts.count() < 1) {
            sleep(Duration.ofMillis(1));
        }
        double startsAtFirst = starts.count();
        long firstStart = System.nanoTime();
        sleep(window);
        double startsInWindow = starts.count() - startsAtFirst + 1;
        long startWindow = System.nanoTime() - firstStart;
        awaitDials(1, Duration.ofMinutes(2));
        long first = dialTimes.get(0);
        for (int second = 0; second < 10; second += 5) {
            sleep(Duration.ofSeconds(5));
            System.out.printf("BENCHMARK t+%ds dials %d backlog %.0f parked %.0f fired %.0f%n", second + 5,
                    dialTimes.size(), meters.get("dialer.dispatcher.lanes.backlog").gauge().value(),
                    meters.counter("dialer.dispatcher.lanes.parked").count(),
                    meters.counter("dialer.dispatcher.retries", "stage", "fired").count());
        }
        long inWindow = dialTimes.stream().filter(t -> t - first < window.toNanos()).count();
        long expected = cps * window.toSeconds();
        List<String> gaps = new ArrayList<>();
        for (int i = 1; i < dialTimes.size() && dialTimes.get(i) - first < window.toNanos(); i++) {
            long gap = dialTimes.get(i) - dialTimes.get(i - 1);
            if (gap > 3 * 1_000_000_000L / cps) {
                gaps.add(String.format("%.2fs@%.1fs", gap / 1e9, (dialTimes.get(i) - first) / 1e9));
            }
        }
        System.out.println("BENCHMARK gaps longer than three intervals: " + gaps);
        report("pacing" + cps, "caller ID at %d CPS, burst " + burst + ", backlog %d: lane started %.0f dials in the %.2f s from "
                        + "its first (expected %d, error %+.0f = %+.2f %%); carrier received %d in the %d s from the "
                        + "first it received (error %+d = %+.2f %%)", cps, backlog, startsInWindow,
                startWindow / 1e9, expected, startsInWindow - expected, 100.0 * (startsInWindow - expected) / expected,
                inWindow, window.toSeconds(), inWindow - expected, 100.0 * (inWindow - expected) / expected);
    }

    /** Ten calls of one caller ID behind a 1 CPS backlog of another on the same partition. */
    private void headOfLine() {
        String slow = "+4960000001";
        start(Map.of("dialer.dispatcher.pacing.number-cps.[" + slow + "]", "1",
                "dialer.dispatcher.pacing.caller-cps", "100"));
        int partitions = TopicProvisioner.partitionCount(Infrastructure.shared().kafkaBootstrapServers(),
                Topics.CALL_COMMANDS, 30_000);
        String fast = slow;
        for (int n = 2; fast.equals(slow) || KeyRoutingAccess.partitionFor(fast, partitions)
                != KeyRoutingAccess.partitionFor(slow, partitions); n++) {
            fast = "+49600000" + (10 + n);
        }
        String fastCaller = fast;
        produce(5_000, i -> slow);
        long sent = System.nanoTime();
        produce(10, i -> fastCaller);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (callsOf(fastCaller) < 10 && System.nanoTime() < deadline) {
            sleep(SAMPLE);
        }
        long done = System.nanoTime();
        report("hol", "10 calls of caller ID B behind 5,000 of caller ID A at 1 CPS on one partition: all of B "
                        + "dialled %.2f s after they were produced; A dialled %d times by then", (done - sent) / 1e9,
                callsOf(slow));
    }

    /** Heap used after a full GC, sampled every 5 s while the dispatcher works through the backlog for 2 minutes. */
    private void heap(int backlog) {
        start(Map.of("dialer.dispatcher.pacing.caller-cps", "10"));
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        long before = memory.getHeapMemoryUsage().getUsed();
        List<String> callers = callers(200);
        long produced = produce(backlog, i -> callers.get(i % callers.size()));
        long max = 0;
        List<String> samples = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            sleep(Duration.ofSeconds(5));
            System.gc();
            long used = memory.getHeapMemoryUsage().getUsed();
            max = Math.max(max, used);
            samples.add(String.valueOf(used >> 20));
        }
        report("heap", "backlog of %d commands over %d caller IDs at 10 CPS each (produced in %.0f s): heap used "
                        + "after GC %d MB before, at most %d MB while working (samples, MB: %s); %d dialled in 2 min",
                backlog, callers.size(), produced / 1e9, before >> 20, max >> 20, String.join(" ", samples),
                dialTimes.size());
    }

    private void start(Map<String, String> overrides) {
        Infrastructure.Endpoints infra = Infrastructure.shared();
        simulator = CarrierSimulator.start(SimulatorSettings.defaults()
                .withRingTime(Duration.ofMillis(20))
                .withTalkTime(Duration.ofMillis(20))
                .withWebhookSecret(SECRET));
        Map<String, Object> properties = new HashMap<>(infra.serviceProperties());
        properties.put("spring.config.name", "dispatcher-service");
        properties.put("server.port", 0);
        properties.put("dialer.kafka.partitions", 12);
        properties.put("dialer.dispatcher.carrier.base-url", simulator.baseUrl());
        properties.put("dialer.dispatcher.carrier.webhook-secret", SECRET);
        properties.put("logging.level.root", "WARN");
        properties.putAll(overrides);
        dispatcher = new SpringApplicationBuilder(DispatcherApplication.class)
                .run(properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue())
                        .toArray(String[]::new));
        producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all",
                // The in-process broker answered the idempotent producer OUT_OF_ORDER_SEQUENCE_NUMBER under load and
                // the producer retried for ever; this producer needs no idempotence (each record has its own id).
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
                ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
        Thread sampler = new Thread(this::sampleDials, "bench-dial-sampler");
        sampler.setDaemon(true);
        sampler.start();
    }

    /** Times each dial the simulator received to within the sampling period. */
    private void sampleDials() {
        while (sampling) {
            int seen = simulator.calls().size();
            long now = System.nanoTime();
            while (dialTimes.size() < seen) {
                dialTimes.add(now);
            }
            sleep(SAMPLE);
        }
    }

    /** @return nanoseconds spent producing */
    private long produce(int count, java.util.function.IntFunction<String> callerOf) {
        long started = System.nanoTime();
        for (int i = 0; i < count; i++) {
            String caller = callerOf.apply(i);
            String json = """
                    {"version":1,"request_id":"%s%d","account_id":"acc-bench","caller_id":"%s",\
                    "to":"+4915112345678","audio":"welcome.wav","created_at":"%s"}"""
                    .formatted(run + caller + "-", i, caller, Instant.now());
            producer.send(new ProducerRecord<>(Topics.CALL_COMMANDS, caller, json));
        }
        producer.flush();
        return System.nanoTime() - started;
    }

    private long callsOf(String caller) {
        return simulator.calls().stream().filter(call -> caller.equals(call.tag().get("caller_id"))).count();
    }

    private void awaitDials(int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        BooleanSupplier done = () -> dialTimes.size() >= count;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + dialTimes.size() + " of " + count + " dials in " + timeout);
            }
            sleep(Duration.ofMillis(50));
        }
    }

    private static List<String> callers(int count) {
        List<String> callers = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            callers.add("+4970" + (1_000_000 + i));
        }
        return callers;
    }

    private static void report(String scenario, String format, Object... args) {
        String line = Instant.now() + " " + scenario + ": " + format.formatted(args);
        System.out.println("BENCHMARK " + line);
        try {
            Files.writeString(Path.of("target", "benchmark-results.txt"), line + System.lineSeparator(),
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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
