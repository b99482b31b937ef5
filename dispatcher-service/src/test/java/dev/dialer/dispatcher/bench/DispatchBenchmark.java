package dev.dialer.dispatcher.bench;

import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.TopicProvisioner;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.DispatcherApplication;
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
import java.util.concurrent.atomic.AtomicLong;
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
 *     -Dfailsafe.failIfNoSpecifiedTests=false -Dit.test=DispatchBenchmark -Dbench.scenario=pacing10
 * </pre>
 *
 * Scenarios: {@code throughput} (limits off, a simulator that answers at once), {@code pacing10} and
 * {@code pacing100} (one caller ID for 60 s; {@code -Dbench.burst=N}, {@code -Dbench.park=true}), {@code hol} (head
 * of line: ten calls behind a 1 CPS backlog on one partition) and {@code heap} (the dispatcher's heap after GC, in a
 * JVM of its own, while a large backlog is produced and worked through; {@code -Dbench.backlog=N}). Each finishes
 * within about three minutes. Results are printed and appended to {@code target/benchmark-results.txt}.
 */
@Tag("benchmark")
class DispatchBenchmark {

    private static final String SECRET = "bench-secret";
    private static final Duration SAMPLE = Duration.ofMillis(5);
    private static final Duration THROUGHPUT_DEADLINE = Duration.ofSeconds(120);
    private static final int HEAP_SAMPLES = Integer.getInteger("bench.heap.samples", 20);
    private static final String CHILD_HEAP = "512m";
    private static final String SET_PREFIX = "bench.set.";

    private CarrierSimulator simulator;
    private ConfigurableApplicationContext dispatcher;
    private ChildDispatcher child;
    private KafkaProducer<String, String> producer;
    private final List<Long> dialTimes = new CopyOnWriteArrayList<>();
    private volatile boolean sampling = true;
    private volatile Duration sampleEvery = SAMPLE;
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
            if (child != null) {
                child.close();
            }
            if (simulator != null) {
                simulator.close();
            }
        }
    }

    /**
     * Limits off, many caller IDs: how many dials per second the dispatcher starts and the simulator receives, and what
     * each dial costs in CPU. The dispatcher runs in a JVM of its own ({@link ChildDispatcher}), so its CPU time is its
     * own; the broker, the simulator and the producer share this JVM and are reported apart, and so is PostgreSQL, which
     * runs in processes of its own ({@link PostgresCpu}). The simulator answers at once (no ring, no talk) and the carrier request timeout is long, so
     * what is measured is the dispatcher, not a carrier that times out under the load; the trunk's concurrency is high
     * but bounded, so calls in progress cannot outgrow what the simulator and the callbacks path can take on one
     * machine. Bounded in time: what arrived within {@code THROUGHPUT_DEADLINE} of the first dial is reported.
     */
    private void throughput(int calls) {
        PostgresStatements.requestBeforeStart();
        Infrastructure.Endpoints infra = Infrastructure.shared();
        simulator = CarrierSimulator.start(SimulatorSettings.defaults().withRingTime(Duration.ZERO)
                .withTalkTime(Duration.ZERO).withWebhookSecret(SECRET));
        child = ChildDispatcher.start(CHILD_HEAP, dispatcherProperties(infra, Map.of(
                        "dialer.dispatcher.pacing.caller-cps", "0",
                        "dialer.dispatcher.pacing.trunk-concurrency", "1000",
                        "dialer.dispatcher.carrier.request-timeout", "PT60S",
                        "dialer.dispatcher.carrier.routing.guard.timeout", "PT61S",
                        "dialer.dispatcher.carrier.routing.guard.max-concurrent-calls", "2000",
                        "dialer.dispatcher.lanes.in-flight-per-lane", "1000")),
                Path.of("target", "benchmark-throughput-dispatcher.log"), Duration.ofMinutes(2));
        sampleEvery = Duration.ofMillis(100);
        startProducerAndSampler(infra);
        ProcessHandle dispatcherProcess = ProcessHandle.of(child.pid()).orElseThrow();
        com.sun.management.OperatingSystemMXBean harness =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        // {time, dials started, dispatcher CPU, this JVM's CPU, PostgreSQL's CPU, trunk slots held, records in lanes,
        // records parked} every second (reading the child's meters costs it a scrape, so one and not more often).
        List<long[]> samples = new CopyOnWriteArrayList<>();
        java.util.function.Supplier<long[]> reading = () -> {
            double[] meters = child.sums("dialer_dispatcher_dials_started_total", "dialer_dispatcher_trunk_in_flight",
                    "dialer_dispatcher_lanes_backlog", "dialer_dispatcher_lanes_parked_total");
            return new long[] {System.nanoTime(), (long) meters[0],
                    dispatcherProcess.info().totalCpuDuration().map(Duration::toNanos).orElse(0L),
                    harness.getProcessCpuTime(), PostgresCpu.nanos(), (long) meters[1], (long) meters[2],
                    (long) meters[3]};
        };
        Thread startSampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(1_000);
                } catch (InterruptedException e) {
                    return;
                }
                samples.add(reading.get());
            }
        }, "bench-start-sampler");
        List<String> callers = callers(1_000);
        // The JIT compiles for about two minutes: a warm-up of the same calls first, so the figure is the
        // dispatcher's steady state (-Dbench.warmup=0 measures it cold).
        int warmup = Integer.getInteger("bench.warmup", 25_000);
        if (warmup > 0) {
            produce("warm-" + run, warmup, i -> callers.get(i % callers.size()));
            awaitDials(warmup, Duration.ofMinutes(5));
            sleep(Duration.ofSeconds(5));
        }
        int before = dialTimes.size();
        PostgresStatements.reset(infra);
        // The baseline before anything is produced, so every measured dial counts.
        samples.add(reading.get());
        startSampler.setDaemon(true);
        startSampler.start();
        long produced = produce(run, calls, i -> callers.get(i % callers.size()));
        long deadline = System.nanoTime() + THROUGHPUT_DEADLINE.toNanos();
        while (dialTimes.size() - before < calls && System.nanoTime() < deadline) {
            sleep(Duration.ofMillis(100));
        }
        sleep(Duration.ofMillis(1_100));
        startSampler.interrupt();
        List<Long> measured = List.copyOf(dialTimes.subList(before, dialTimes.size()));
        int received = measured.size();
        double receivedSeconds = received < 2 ? 0 : (measured.get(received - 1) - measured.get(0)) / 1e9;
        long[] base = samples.isEmpty() ? new long[8] : samples.get(0);
        long[] first = samples.stream().filter(sample -> sample[1] > base[1]).findFirst().orElse(base);
        long[] last = samples.isEmpty() ? new long[8] : samples.get(samples.size() - 1);
        long[] allStarted = samples.stream().filter(sample -> sample[1] >= last[1]).findFirst().orElse(last);
        double startSeconds = (allStarted[0] - first[0]) / 1e9;
        long dials = allStarted[1] - first[1];
        long started = allStarted[1] - base[1];
        double dispatcherCpuMs = (allStarted[2] - first[2]) / 1e6;
        double harnessCpuMs = (allStarted[3] - first[3]) / 1e6;
        double postgresCpuMs = (allStarted[4] - first[4]) / 1e6;
        StringBuilder perSecond = new StringBuilder();
        for (int i = 1; i < samples.size(); i++) {
            perSecond.append(samples.get(i)[1] - samples.get(i - 1)[1]).append(' ');
        }
        System.out.println("BENCHMARK throughput dials started per second: " + perSecond.toString().trim());
        System.out.println("BENCHMARK throughput trunk slots held / records in lanes / parked so far, each second: "
                + samples.stream().map(sample -> sample[5] + "/" + sample[6] + "/" + (sample[7] - base[7]))
                .collect(java.util.stream.Collectors.joining(" ")));
        child.series("dialer_dispatcher_lanes_parked_total")
                .forEach(line -> System.out.println("BENCHMARK throughput parked (since start): " + line));
        double[] batches = child.sums("dialer_dispatcher_callbacks_status_batch_changes_count",
                "dialer_dispatcher_callbacks_status_batch_changes_sum");
        System.out.printf("BENCHMARK throughput non-final status changes (warm-up included): %.0f in %.0f statements, "
                + "%.1f a statement%n", batches[1], batches[0], batches[1] / Math.max(1, batches[0]));
        PostgresStatements.report(infra, started).forEach(line -> System.out.println("BENCHMARK statement " + line));
        report("throughput", "%d calls over %d caller IDs after a warm-up of %d, limits off (trunk concurrency 1000), "
                        + "simulator without "
                        + "ring or talk time: dispatcher started %d, %d of them in the %.1f s from the first second "
                        + "sampled with a dial to the first with all = %.0f CPS; simulator received %d, first "
                        + "to last %.1f s = %.0f CPS (producing took %.1f s); CPU per dial: dispatcher %.1f ms "
                        + "(%.0f %% of a core), broker + simulator + producer %.1f ms, PostgreSQL %.1f ms (%.0f %% of a "
                        + "core)%s", calls, callers.size(), warmup,
                started, dials, startSeconds, startSeconds > 0 ? dials / startSeconds : 0, received,
                receivedSeconds, receivedSeconds > 0 ? (received - 1) / receivedSeconds : 0, produced / 1e9,
                dials > 0 ? dispatcherCpuMs / dials : 0, startSeconds > 0 ? dispatcherCpuMs / 10 / startSeconds : 0,
                dials > 0 ? harnessCpuMs / dials : 0, dials > 0 ? postgresCpuMs / dials : 0,
                startSeconds > 0 ? postgresCpuMs / 10 / startSeconds : 0,
                received < calls ? "; stopped at the deadline, " + (calls - received) + " not received" : "");
    }

    /** One caller ID with a backlog longer than the window at {@code cps}: dials counted in {@code window}. */
    private void pacing(int cps, Duration window) {
        String caller = "+4950" + (1_000_000 + cps);
        // Enough dials in flight that the carrier's and the callbacks' latency never caps the lane's start rate.
        int burst = Integer.getInteger("bench.burst", 1);
        int backlog = (int) (cps * window.toSeconds() * 1.3) + 50;
        Map<String, String> settings = new HashMap<>(Map.of(
                "dialer.dispatcher.pacing.caller-cps", String.valueOf(cps),
                "dialer.dispatcher.pacing.caller-burst", String.valueOf(burst),
                "dialer.dispatcher.lanes.in-flight-per-lane", "2000",
                "dialer.dispatcher.retry.batch-size", "1000",
                // On a loaded machine the simulator (in this JVM) answered late, 5 s timeouts opened the carrier's
                // breaker and the dials then failed at once without reaching it: what was measured was the breaker.
                "dialer.dispatcher.carrier.request-timeout", "PT60S",
                "dialer.dispatcher.carrier.routing.guard.timeout", "PT61S"));
        // A warm-up first, on a caller ID of its own at a high rate: the first dials of a fresh JVM are slow (the JIT,
        // the carrier's first connections), so the first call the carrier received came late and the calls behind
        // it crowded into the 60 s counted from it (605-608 at 10 CPS). -Dbench.warmup=0 measures it cold.
        int warmup = Integer.getInteger("bench.warmup", 2_000);
        String warmCaller = "+4951" + (1_000_000 + cps);
        settings.put("dialer.dispatcher.pacing.number-cps.[" + warmCaller + "]", "300");
        if (!Boolean.getBoolean("bench.park")) {
            // The whole backlog held in the lane: what is measured is the pacing, not the parking lot's round trip
            // (-Dbench.park=true keeps the default park-after, and the round trip with it).
            settings.put("dialer.dispatcher.lanes.park-after", "PT300S");
            // A lane holds at most a quarter of its partition's window: four of the larger of the backlog and the
            // warm-up, so that the whole of either is held (what does not fit is parked for half of park-after).
            settings.put("dialer.dispatcher.lanes.max-in-flight-per-partition",
                    String.valueOf(4 * Math.max(backlog, warmup) + 1_000));
        }
        start(settings);
        MeterRegistry meters = dispatcher.getBean(MeterRegistry.class);
        // Registered with the first dial (by carrier): counted across whatever carriers there are.
        java.util.function.DoubleSupplier starts = () -> meters.find("dialer.dispatcher.dials.started").counters()
                .stream().mapToDouble(Counter::count).sum();
        if (warmup > 0) {
            produce("warm-" + run, warmup, i -> warmCaller);
            awaitDials(warmup, Duration.ofMinutes(2));
            // Its last callbacks applied before the measured lane starts.
            sleep(Duration.ofSeconds(2));
        }
        int skip = dialTimes.size();
        double startsBefore = starts.getAsDouble();
        produce(backlog, i -> caller);
        while (starts.getAsDouble() < startsBefore + 1) {
            sleep(Duration.ofMillis(1));
        }
        long firstStart = System.nanoTime();
        // The starts in the half-open window [first, first + window): read half an interval before its end, so that
        // the start due exactly one window after the first (the bucket keeps its schedule) is not counted with them.
        sleep(window.minusNanos(500_000_000L / cps));
        double startsInWindow = starts.getAsDouble() - startsBefore;
        long startWindow = System.nanoTime() - firstStart;
        awaitDials(skip + 1, Duration.ofMinutes(2));
        long first = dialTimes.get(skip);
        for (int second = 0; second < 10; second += 5) {
            sleep(Duration.ofSeconds(5));
            System.out.printf("BENCHMARK t+%ds dials %d backlog %.0f parked %.0f fired %.0f%n", second + 5,
                    dialTimes.size(), meters.get("dialer.dispatcher.lanes.backlog").gauge().value(),
                    meters.get("dialer.dispatcher.lanes.parked").counters().stream().mapToDouble(Counter::count)
                            .sum(),
                    meters.get("dialer.dispatcher.retries").tag("stage", "fired").counters().stream()
                            .mapToDouble(Counter::count).sum());
        }
        long inWindow = dialTimes.stream().skip(skip).filter(t -> t - first < window.toNanos()).count();
        // The burst's starts come at once, then one an interval: in the window, a burst of one adds nothing.
        long expected = cps * window.toSeconds() + burst - 1;
        List<String> gaps = new ArrayList<>();
        for (int i = skip + 1; i < dialTimes.size() && dialTimes.get(i) - first < window.toNanos(); i++) {
            long gap = dialTimes.get(i) - dialTimes.get(i - 1);
            if (gap > 3 * 1_000_000_000L / cps) {
                gaps.add(String.format("%.2fs@%.1fs", gap / 1e9, (dialTimes.get(i) - first) / 1e9));
            }
        }
        System.out.println("BENCHMARK gaps longer than three intervals: " + gaps);
        report("pacing" + cps, "caller ID at %d CPS, burst " + burst + ", backlog %d, after a warm-up of " + warmup
                        + " calls"
                        + (Boolean.getBoolean("bench.park") ? " (parking on)" : " (held in the lane)")
                        + ": lane started %.0f dials in the %.3f s from "
                        + "its first, read half an interval before 60 s (expected %d, error %+.0f = %+.2f %%); "
                        + "carrier received %d in the %d s from the first it received (error %+d = %+.2f %%)", cps,
                backlog, startsInWindow,
                startWindow / 1e9, expected, startsInWindow - expected, 100.0 * (startsInWindow - expected) / expected,
                inWindow, window.toSeconds(), inWindow - expected, 100.0 * (inWindow - expected) / expected);
    }

    /** Ten calls of one caller ID behind a 1 CPS backlog of another on the same partition. */
    private void headOfLine() {
        String slow = "+4960000001";
        start(Map.of("dialer.dispatcher.pacing.number-cps.[" + slow + "]", "1",
                "dialer.dispatcher.pacing.caller-cps", "100"));
        int partitions = TopicProvisioner.partitionCount(
                KafkaSettings.of(Infrastructure.shared().kafkaBootstrapServers()),
                Topics.CALL_COMMANDS, 30_000);
        String fast = slow;
        for (int n = 2; fast.equals(slow) || KafkaPublisher.partitionOf(fast, partitions)
                != KafkaPublisher.partitionOf(slow, partitions); n++) {
            fast = "+49600000" + (10 + n);
        }
        String fastCaller = fast;
        produce(5_000, i -> slow);
        long sent = System.nanoTime();
        produce(10, i -> fastCaller);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (callsOf(fastCaller) < 10 && System.nanoTime() < deadline) {
            sleep(SAMPLE);
        }
        long done = System.nanoTime();
        report("hol", "10 calls of caller ID B behind 5,000 of caller ID A at 1 CPS on one partition: all of B "
                        + "dialled %.2f s after they were produced; A dialled %d times by then", (done - sent) / 1e9,
                callsOf(slow));
    }

    /**
     * Heap used after a full GC, sampled every 5 s while the dispatcher works through the backlog: the dispatcher runs
     * in a JVM of its own ({@link ChildDispatcher}), so its figure is its own; the broker, the simulator (which keeps a
     * record of every call) and the producer stay in this JVM and are reported apart. The backlog is produced while
     * the dispatcher consumes, as an upstream system would.
     */
    private void heap(int backlog) {
        sampleEvery = Duration.ofMillis(500);
        Infrastructure.Endpoints infra = Infrastructure.shared();
        simulator = CarrierSimulator.start(SimulatorSettings.defaults().withRingTime(Duration.ofMillis(20))
                .withTalkTime(Duration.ofMillis(20)).withWebhookSecret(SECRET));
        child = ChildDispatcher.start(CHILD_HEAP, dispatcherProperties(infra,
                        Map.of("dialer.dispatcher.pacing.caller-cps", "10", "logging.level.root", "WARN")),
                Path.of("target", "benchmark-heap-dispatcher.log"), Duration.ofMinutes(2));
        startProducerAndSampler(infra);
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        long harnessBefore = memory.getHeapMemoryUsage().getUsed();
        long before = child.heapUsedAfterGc();
        List<String> callers = callers(200);
        AtomicLong producedIn = new AtomicLong(-1);
        Thread producing = new Thread(() -> producedIn.set(produce(backlog, i -> callers.get(i % callers.size()))),
                "bench-producer");
        producing.setDaemon(true);
        long startedAt = System.nanoTime();
        producing.start();
        long max = 0;
        long harnessMax = 0;
        List<String> samples = new ArrayList<>();
        List<String> harnessSamples = new ArrayList<>();
        String histogramMid = "";
        for (int i = 0; i < HEAP_SAMPLES; i++) {
            sleep(Duration.ofSeconds(5));
            long used = child.heapUsedAfterGc();
            max = Math.max(max, used);
            samples.add(String.valueOf(used >> 20));
            System.gc();
            long harnessUsed = memory.getHeapMemoryUsage().getUsed();
            harnessMax = Math.max(harnessMax, harnessUsed);
            harnessSamples.add(String.valueOf(harnessUsed >> 20));
            if (i == HEAP_SAMPLES / 2) {
                histogramMid = child.histogram(15);
            }
        }
        String histogramEnd = child.histogram(15);
        try {
            Files.writeString(Path.of("target", "benchmark-heap-threads.txt"), child.threadDump());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        double dialled = child.counter("dialer_dispatcher_dials_started_total");
        double parked = child.counter("dialer_dispatcher_lanes_parked_total");
        // Each sample's forced collections and the histograms take time of their own: the run lasts longer than its
        // samples' 5 s each.
        double elapsedSeconds = (System.nanoTime() - startedAt) / 1e9;
        System.out.println("BENCHMARK heap histogram of the dispatcher half-way:" + System.lineSeparator()
                + histogramMid);
        System.out.println("BENCHMARK heap histogram of the dispatcher at the end:" + System.lineSeparator()
                + histogramEnd);
        report("heap", "backlog of %d commands over %d caller IDs at 10 CPS each (%s); dispatcher's own JVM "
                        + "(-Xmx%s): heap used after GC %d MB before, at most %d MB while working (every 5 s, MB: %s); "
                        + "the benchmark's JVM (broker, simulator, producer): %d MB before, at most %d MB (MB: %s); "
                        + "%.0f dialled and %.0f parked in %.0f s (%d samples 5 s apart)", backlog, callers.size(),
                producedIn.get() < 0 ? "still producing at the end"
                        : String.format("produced in %.0f s", producedIn.get() / 1e9),
                CHILD_HEAP, before >> 20, max >> 20, String.join(" ", samples), harnessBefore >> 20,
                harnessMax >> 20, String.join(" ", harnessSamples), dialled, parked, elapsedSeconds, HEAP_SAMPLES);
    }

    private Map<String, Object> dispatcherProperties(Infrastructure.Endpoints infra, Map<String, String> overrides) {
        Map<String, Object> properties = new HashMap<>(infra.serviceProperties());
        properties.put("spring.config.name", "dispatcher-service");
        properties.put("server.port", 0);
        properties.put("dialer.kafka.partitions", 12);
        properties.put("dialer.dispatcher.carrier.base-url", simulator.baseUrl());
        properties.put("dialer.dispatcher.carrier.webhook-secret", SECRET);
        properties.put("logging.level.root", "WARN");
        properties.putAll(overrides);
        // -Dbench.set.<property>=<value> sets any of the dispatcher's properties, for a run comparing settings.
        System.getProperties().stringPropertyNames().stream()
                .filter(name -> name.startsWith(SET_PREFIX))
                .forEach(name -> properties.put(name.substring(SET_PREFIX.length()), System.getProperty(name)));
        return properties;
    }

    private void start(Map<String, String> overrides) {
        start(overrides, SimulatorSettings.defaults().withRingTime(Duration.ofMillis(20))
                .withTalkTime(Duration.ofMillis(20)));
    }

    private void start(Map<String, String> overrides, SimulatorSettings simulatorSettings) {
        Infrastructure.Endpoints infra = Infrastructure.shared();
        simulator = CarrierSimulator.start(simulatorSettings.withWebhookSecret(SECRET));
        Map<String, Object> properties = dispatcherProperties(infra, overrides);
        dispatcher = new SpringApplicationBuilder(DispatcherApplication.class)
                .run(properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue())
                        .toArray(String[]::new));
        startProducerAndSampler(infra);
    }

    private void startProducerAndSampler(Infrastructure.Endpoints infra) {
        producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all",
                // The in-process broker answered the idempotent producer OUT_OF_ORDER_SEQUENCE_NUMBER under load and
                // the producer retried for ever; this producer needs no idempotence (each record has its own id).
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
                ProducerConfig.LINGER_MS_CONFIG, 20,
                // Large compressed batches: a million commands are produced in well under a minute, and the broker
                // (in this JVM) writes a fraction of the bytes.
                ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4",
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
        sampler("bench-dial-sampler", this::sampleDials);
    }

    /**
     * Times each dial the simulator received to within the sampling period. Reads the simulator's count, not its list
     * of calls: copying that list (every call received, 45,000 and more in {@code throughput}) every 100 ms took 30 % of
     * this JVM's CPU, which the benchmark counted as the harness's cost per dial and which slowed the machine.
     */
    private void sampleDials() {
        long seen = simulator.callsReceived();
        long now = System.nanoTime();
        while (dialTimes.size() < seen) {
            dialTimes.add(now);
        }
    }

    private Thread sampler(String name, Runnable sample) {
        Thread thread = new Thread(() -> {
            while (sampling && !Thread.currentThread().isInterrupted()) {
                sample.run();
                try {
                    Thread.sleep(sampleEvery.toMillis());
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** @return nanoseconds spent producing */
    private long produce(int count, java.util.function.IntFunction<String> callerOf) {
        return produce(run, count, callerOf);
    }

    /** As {@link #produce(int, java.util.function.IntFunction)}, with request ids that begin with {@code prefix}. */
    private long produce(String prefix, int count, java.util.function.IntFunction<String> callerOf) {
        long started = System.nanoTime();
        for (int i = 0; i < count; i++) {
            String caller = callerOf.apply(i);
            String json = """
                    {"version":1,"request_id":"%s%d","account_id":"acc-bench","caller_id":"%s",\
                    "to":"+4915112345678","audio":"welcome.wav","created_at":"%s"}"""
                    .formatted(prefix + caller + "-", i, caller, Instant.now());
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
