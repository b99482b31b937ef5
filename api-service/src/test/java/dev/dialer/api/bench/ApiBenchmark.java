package dev.dialer.api.bench;

import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * Throughput of the send endpoint against a running stack (the standalone one: see docs/benchmarks/api.md), next
 * to the raw producer throughput of the same broker measured in the same run. Not a test: run by hand.
 *
 * <p>Phases, each with a warm-up that is not counted: (1) raw: a plain Kafka producer with the API's settings
 * (acks=all, idempotent, linger 2 ms, 64 KB batches) sends command-sized records to a benchmark topic with the same
 * partition count; (2) bulk: {@code --bulk-clients} clients each POST {@code --bulk-size}-recipient requests back to
 * back; (3) single: {@code --single-clients} clients each POST one-recipient requests back to back. Reports
 * recipients/s and per-request latency percentiles.
 *
 * <p>Options ({@code --name=value}): api (http://localhost:8080), key (the demo key), kafka (localhost:9092),
 * partitions (6), duration (PT20S per phase), warmup (PT5S), bulk-size (1000), bulk-clients (4), single-clients (8,32:
 * one single phase per count), raw-records (1000000), stack-pid (the stack's process id: each phase then also reports
 * the CPU time the stack, its child processes and its embedded PostgreSQL used per request, the figure that survives a
 * busy machine), keyed (false: with true every request carries an {@code Idempotency-Key} of its own).
 */
public final class ApiBenchmark {

    private static final String BRIDGE_PREFIX = "9180682812";
    private static final String RAW_TOPIC = "dialer.bench.raw";
    /** Distinct bodies each client prepares and sends in turn. */
    private static final int BODIES_PER_CLIENT = 64;

    private final Map<String, String> options;
    private final HttpClient http;
    /** With {@code --keyed=true}, the prefix of the unique {@code Idempotency-Key} each request carries. */
    private final String keys;
    private final java.util.concurrent.atomic.AtomicLong keyCounter = new java.util.concurrent.atomic.AtomicLong();

    private ApiBenchmark(Map<String, String> options) {
        this.options = options;
        int connections = Math.max(intOption("bulk-clients", 4), java.util.Arrays.stream(
                option("single-clients", "8,32").split(",")).mapToInt(c -> Integer.parseInt(c.strip())).max()
                .orElse(32)) + 8;
        this.http = HttpClient.create(ConnectionProvider.builder("bench").maxConnections(connections)
                        .pendingAcquireMaxCount(-1).build())
                .baseUrl(option("api", "http://localhost:8080"))
                .headers(headers -> headers.set("Authorization", "Bearer " + option("key", ""))
                        .set("Content-Type", "application/json").set("Accept", "application/json"))
                .responseTimeout(Duration.ofSeconds(60));
        this.keys = Boolean.parseBoolean(option("keyed", "false"))
                ? "bench-" + java.util.UUID.randomUUID() + "-" : null;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new HashMap<>();
        for (String arg : args) {
            if (arg.startsWith("--") && arg.contains("=")) {
                options.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
            }
        }
        if (!options.containsKey("key")) {
            System.err.println("usage: ApiBenchmark --key=dk_... [--api=http://localhost:8080] [--kafka=localhost:9092]");
            System.exit(2);
        }
        new ApiBenchmark(options).run();
    }

    private void run() throws Exception {
        Duration duration = Duration.parse(option("duration", "PT20S"));
        Duration warmup = Duration.parse(option("warmup", "PT5S"));
        System.out.printf(Locale.ROOT, "started %s, %d cores, phase %s + warm-up %s, load average %s%n",
                Instant.now(), Runtime.getRuntime().availableProcessors(), duration, warmup, loadAverage());

        double raw = rawProducer(intOption("raw-records", 1_000_000));
        System.out.printf(Locale.ROOT, "raw producer: %,.0f records/s%n", raw);

        int bulkSize = intOption("bulk-size", 1000);
        int bulkClients = intOption("bulk-clients", 4);
        load("bulk", bulkClients, bulkSize, warmup);
        Result bulk = load("bulk", bulkClients, bulkSize, duration);
        System.out.println(bulk.report());

        Result single = null;
        for (String clients : option("single-clients", "8,32").split(",")) {
            int singleClients = Integer.parseInt(clients.strip());
            load("single", singleClients, 1, warmup);
            single = load("single", singleClients, 1, duration);
            System.out.println(single.report());
        }

        System.out.printf(Locale.ROOT, "ended %s, load average %s%n", Instant.now(), loadAverage());
        System.out.printf(Locale.ROOT, "summary: raw %,.0f rec/s | bulk %,.0f recipients/s (%.0f%% of raw) | last single "
                        + "%,.0f sends/s p50 %.1f ms p99 %.1f ms%n", raw, bulk.recipientsPerSecond(),
                100 * bulk.recipientsPerSecond() / raw, single.recipientsPerSecond(), single.percentile(50),
                single.percentile(99));
    }

    /** Records/s of a plain producer with the API's settings, first send to last acknowledgement. */
    private double rawProducer(int records) throws Exception {
        String kafka = option("kafka", "localhost:9092");
        int partitions = intOption("partitions", 6);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka))) {
            admin.createTopics(List.of(new NewTopic(RAW_TOPIC, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 2);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                new ByteArraySerializer())) {
            send(producer, RawRecords.of(records / 5));
            RawRecords measured = RawRecords.of(records);
            long cpuBefore = stackCpuTicks();
            long started = System.nanoTime();
            send(producer, measured);
            double seconds = (System.nanoTime() - started) / 1e9;
            if (cpuBefore >= 0) {
                // The broker runs in the stack's JVM: its share of a record, to set beside a bulk recipient's.
                System.out.printf(Locale.ROOT, "raw producer: stack CPU %.4f ms per record%n",
                        (stackCpuTicks() - cpuBefore) / (double) CLOCK_TICKS * 1000 / records);
            }
            return records / seconds;
        }
    }

    /** Keys and values made before the clock starts, as the HTTP phases' bodies are: only sending is measured. */
    private record RawRecords(String[] keys, byte[][] values) {

        static RawRecords of(int records) {
            String[] keys = new String[records];
            byte[][] values = new byte[records][];
            for (int index = 0; index < records; index++) {
                keys[index] = "+" + bridge(index);
                values[index] = commandLike(keys[index]).getBytes(StandardCharsets.UTF_8);
            }
            return new RawRecords(keys, values);
        }
    }

    private static void send(KafkaProducer<String, byte[]> producer, RawRecords records) throws InterruptedException {
        String[] keys = records.keys();
        byte[][] values = records.values();
        java.util.concurrent.CountDownLatch acknowledged = new java.util.concurrent.CountDownLatch(keys.length);
        AtomicLong failed = new AtomicLong();
        for (int index = 0; index < keys.length; index++) {
            producer.send(new ProducerRecord<>(RAW_TOPIC, keys[index], values[index]), (metadata, error) -> {
                if (error != null) {
                    failed.incrementAndGet();
                }
                acknowledged.countDown();
            });
        }
        acknowledged.await();
        if (failed.get() > 0) {
            System.out.println("raw producer: " + failed.get() + " records failed");
        }
    }

    /** A value of the size and shape of a CallCommand the API produces. */
    private static String commandLike(String callerId) {
        return "{\"version\":1,\"request_id\":\"" + UUID.randomUUID() + "\",\"account_id\":\"demo\",\"caller_id\":\""
                + callerId + "\",\"to\":\"+91" + mobile() + "\",\"flow_id\":\"23\",\"interval_minutes\":0,"
                + "\"max_attempts\":3,\"attempt\":1,\"variables\":{},\"created_at\":\"" + Instant.now() + "\"}";
    }

    private Result load(String name, int clients, int recipients, Duration duration) {
        List<Samples> samples = new ArrayList<>();
        LongAdder errors = new LongAdder();
        for (int client = 0; client < clients; client++) {
            samples.add(new Samples());
        }
        // Bodies are made before the clock starts and sent in turn: the client's formatting is not measured.
        List<byte[][]> bodies = new ArrayList<>();
        for (int client = 0; client < clients; client++) {
            byte[][] own = new byte[BODIES_PER_CLIENT][];
            for (int n = 0; n < own.length; n++) {
                own[n] = body(client, recipients).getBytes(StandardCharsets.UTF_8);
            }
            bodies.add(own);
        }
        long cpuBefore = stackCpuTicks();
        long started = System.nanoTime();
        long deadline = started + duration.toNanos();
        Flux.range(0, clients)
                .flatMap(client -> {
                    byte[][] own = bodies.get(client);
                    int[] next = {0};
                    return Mono.defer(() -> post(own[next[0]++ % own.length]))
                            .doOnNext(elapsed -> {
                                if (elapsed < 0) {
                                    errors.increment();
                                } else {
                                    samples.get(client).add(elapsed);
                                }
                            })
                            .repeat(() -> System.nanoTime() < deadline);
                }, clients)
                .blockLast(duration.plusMinutes(2));
        double seconds = (System.nanoTime() - started) / 1e9;
        double cpuSeconds = cpuBefore < 0 ? -1 : (stackCpuTicks() - cpuBefore) / (double) CLOCK_TICKS;
        long[] all = samples.stream().flatMapToLong(Samples::stream).sorted().toArray();
        return new Result(name, clients, recipients, all.length, errors.sum(), seconds, all, cpuSeconds);
    }

    /** Linux's USER_HZ: /proc reports CPU times in these ticks. */
    private static final int CLOCK_TICKS = 100;

    /**
     * CPU time used so far by the stack's process ({@code --stack-pid}), every process below it, and the embedded
     * PostgreSQL server with its backends, in clock ticks; -1 without the option. The server detaches from the JVM that
     * starts it, so it is found by its {@code postmaster.pid} in the data directory the stack was given ({@code
     * --dialer.standalone.data-dir}, relative to the stack's working directory); its ended backends count through the
     * server's own children's times. CPU time per request hardly depends on what else runs on the machine, unlike
     * requests per second: it is the figure to compare between runs on a shared machine.
     */
    private long stackCpuTicks() {
        String pid = options.get("stack-pid");
        if (pid == null) {
            return -1;
        }
        String postmaster = postmasterOf(pid);
        List<String> roots = new ArrayList<>(List.of(pid));
        if (postmaster != null) {
            roots.add(postmaster);
        }
        Map<String, List<String>> children = new HashMap<>();
        Map<String, Long> ticks = new HashMap<>();
        java.io.File[] processes = new java.io.File("/proc").listFiles(file -> file.getName().matches("[0-9]+"));
        for (java.io.File process : processes == null ? new java.io.File[0] : processes) {
            try {
                String stat = java.nio.file.Files.readString(process.toPath().resolve("stat"));
                String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                // After the command: state, ppid, …; utime and stime are fields 14 and 15 of the whole line.
                children.computeIfAbsent(fields[1], parent -> new ArrayList<>()).add(process.getName());
                long own = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
                if (process.getName().equals(postmaster)) {
                    // cutime and cstime: the backends that ended, which the server waited for
                    own += Long.parseLong(fields[13]) + Long.parseLong(fields[14]);
                }
                ticks.put(process.getName(), own);
            } catch (java.io.IOException | RuntimeException gone) {
                // the process ended while being read
            }
        }
        long total = 0;
        java.util.ArrayDeque<String> pending = new java.util.ArrayDeque<>(roots);
        while (!pending.isEmpty()) {
            String next = pending.pop();
            total += ticks.getOrDefault(next, 0L);
            pending.addAll(children.getOrDefault(next, List.of()));
        }
        return total;
    }

    private boolean postmasterWarned;

    /**
     * The process id of the stack's embedded PostgreSQL server, from {@code <data-dir>/postgres/postmaster.pid};
     * null (with a warning, once) when the stack was not given {@code --dialer.standalone.data-dir} or the file is not
     * there: the figures then leave PostgreSQL out.
     */
    private String postmasterOf(String pid) {
        try {
            String dataDir = null;
            for (String arg : java.nio.file.Files.readString(java.nio.file.Path.of("/proc", pid, "cmdline"))
                    .split("\u0000")) {
                if (arg.startsWith("--dialer.standalone.data-dir=")) {
                    dataDir = arg.substring(arg.indexOf('=') + 1);
                }
            }
            if (dataDir != null) {
                java.nio.file.Path dir = java.nio.file.Path.of("/proc", pid, "cwd").toRealPath().resolve(dataDir);
                return java.nio.file.Files.readAllLines(dir.resolve("postgres").resolve("postmaster.pid")).get(0)
                        .strip();
            }
        } catch (java.io.IOException | RuntimeException e) {
            // reported below
        }
        if (!postmasterWarned) {
            postmasterWarned = true;
            System.err.println("warning: the stack's PostgreSQL was not found (give the stack "
                    + "--dialer.standalone.data-dir); its CPU is left out of the figures");
        }
        return null;
    }

    /** One client's latencies; only that client's pipeline writes it. */
    private static final class Samples {

        private long[] values = new long[1024];
        private int size;

        void add(long value) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = value;
        }

        java.util.stream.LongStream stream() {
            return Arrays.stream(values, 0, size);
        }
    }

    /** Nanoseconds from sending to the whole answer, or -1 for an answer other than 200. */
    private Mono<Long> post(byte[] body) {
        long sent = System.nanoTime();
        HttpClient client = keys == null ? http
                : http.headers(headers -> headers.set("Idempotency-Key", keys + keyCounter.incrementAndGet()));
        return client.post().uri("/api/v2/outgoing/send")
                .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body)))
                .responseSingle((response, content) -> content.asByteArray().defaultIfEmpty(new byte[0])
                        .map(bytes -> response.status().code() == 200 ? System.nanoTime() - sent : -1L))
                .onErrorReturn(-1L);
    }

    private static String body(int client, int recipients) {
        StringBuilder to = new StringBuilder();
        for (int index = 0; index < recipients; index++) {
            to.append(index == 0 ? "\"" : ",\"").append("91").append(mobile()).append('"');
        }
        String recipientsJson = recipients == 1 ? to.toString() : "[" + to + "]";
        return "{\"bridge\":\"" + bridge(client) + "\",\"to\":" + recipientsJson + ",\"flow_id\":\"23\","
                + "\"name\":\"bench\"}";
    }

    /** Twelve caller IDs, so requests spread over the partitions as real campaigns do. */
    private static String bridge(int index) {
        return BRIDGE_PREFIX + String.format(Locale.ROOT, "%02d", 10 + Math.floorMod(index, 12));
    }

    /** An Indian mobile number (10 digits from 9): ends in 4-9, which the simulator answers. */
    private static String mobile() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return "98" + String.format(Locale.ROOT, "%07d", random.nextInt(10_000_000)) + (4 + random.nextInt(6));
    }

    /** The machine's 1/5/15-minute load averages: the benchmark shares it with whatever else runs. */
    private static String loadAverage() {
        try {
            String[] fields = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (java.io.IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private String option(String name, String fallback) {
        return options.getOrDefault(name, fallback);
    }

    private int intOption(String name, int fallback) {
        return Integer.parseInt(option(name, Integer.toString(fallback)));
    }

    private record Result(String name, int clients, int recipientsPerRequest, long requests, long errors,
                          double seconds, long[] sortedNanos, double stackCpuSeconds) {

        double recipientsPerSecond() {
            return requests * recipientsPerRequest / seconds;
        }

        double percentile(double p) {
            if (sortedNanos.length == 0) {
                return Double.NaN;
            }
            int index = (int) Math.min(sortedNanos.length - 1, Math.ceil(p / 100 * sortedNanos.length) - 1);
            return sortedNanos[Math.max(0, index)] / 1e6;
        }

        String report() {
            return String.format(Locale.ROOT, "%s: %d clients x %d recipients: %,d requests (%d errors) in %.1f s = "
                            + "%,.0f requests/s, %,.0f recipients/s; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                    name, clients, recipientsPerRequest, requests, errors, seconds, requests / seconds,
                    recipientsPerSecond(), percentile(50), percentile(99), percentile(100)) + cpu();
        }

        /** The stack's CPU time per request and per recipient, when the harness was told the stack's pid. */
        private String cpu() {
            if (stackCpuSeconds < 0 || requests == 0) {
                return "";
            }
            return String.format(Locale.ROOT, "; stack CPU %.1f core-s = %.3f ms per request, %.4f ms per recipient",
                    stackCpuSeconds, 1000 * stackCpuSeconds / requests,
                    1000 * stackCpuSeconds / (requests * recipientsPerRequest));
        }
    }
}
