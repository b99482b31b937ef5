package dev.dialer.dispatcher.bench;

import dev.dialer.dispatcher.DispatcherApplication;
import dev.dialer.infra.FreePorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A dispatcher in a JVM of its own, for the heap scenario: its heap is then the dispatcher's alone, not mixed with the
 * in-process broker's, the simulator's record of every call and the benchmark's producer. Read through its actuator
 * (Prometheus) and {@code jcmd}.
 */
final class ChildDispatcher implements AutoCloseable {

    private final Process process;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private ChildDispatcher(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts it with {@code maxHeap} and the given properties, and waits until it reports ready. */
    static ChildDispatcher start(String maxHeap, Map<String, Object> properties, Path log, Duration timeout) {
        int port = FreePorts.find();
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + maxHeap, "-XX:+UseG1GC"));
        // Extra JVM options for a profile, e.g. -Dbench.child.jvm-args=-XX:StartFlightRecording=filename=d.jfr
        String extra = System.getProperty("bench.child.jvm-args", "").trim();
        if (!extra.isEmpty()) {
            command.addAll(List.of(extra.split("\\s+")));
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"),
                DispatcherApplication.class.getName(),
                "--server.port=" + port,
                "--management.endpoints.web.exposure.include=health,prometheus"));
        // Its own port, known here: the readiness check and the samples read its actuator.
        properties.forEach((name, value) -> {
            if (!name.equals("server.port")) {
                command.add("--" + name + "=" + value);
            }
        });
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            ChildDispatcher child = new ChildDispatcher(process, port);
            child.awaitReady(timeout);
            return child;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    long pid() {
        return process.pid();
    }

    /** Heap used after a full collection, in bytes. */
    long heapUsedAfterGc() {
        jcmd("GC.run");
        double used = 0;
        for (String line : prometheus().split("\n")) {
            if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                used += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return (long) used;
    }

    /** A counter's value from the Prometheus text, summed over its tags; 0 when absent. */
    double counter(String name) {
        double sum = 0;
        for (String line : prometheus().split("\n")) {
            if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    /** The series of {@code name} as Prometheus shows them (labels and value), from one scrape. */
    List<String> series(String name) {
        return prometheus().lines().filter(line -> line.startsWith(name + "{") || line.startsWith(name + " "))
                .toList();
    }

    /** The sum of each of {@code names}' series, from one scrape (each scrape costs the dispatcher some CPU). */
    double[] sums(String... names) {
        double[] sums = new double[names.length];
        for (String line : prometheus().split("\n")) {
            for (int i = 0; i < names.length; i++) {
                if (line.startsWith(names[i] + "{") || line.startsWith(names[i] + " ")) {
                    sums[i] += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
        }
        return sums;
    }

    /** The first {@code rows} classes of the heap histogram (live objects), with the total line. */
    String histogram(int rows) {
        List<String> lines = jcmd("GC.class_histogram").lines().toList();
        List<String> kept = new ArrayList<>();
        for (String line : lines) {
            if (line.trim().startsWith("Total") || kept.size() < rows + 3) {
                kept.add(line);
            }
        }
        return String.join(System.lineSeparator(), kept);
    }

    /** Its threads' stacks ({@code jcmd Thread.print}). */
    String threadDump() {
        return jcmd("Thread.print");
    }

    private String jcmd(String what) {
        try {
            Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    String.valueOf(process.pid()), what).redirectErrorStream(true).start();
            String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!jcmd.waitFor(60, TimeUnit.SECONDS)) {
                jcmd.destroyForcibly();
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String prometheus() {
        return get("/actuator/prometheus");
    }

    private String get(String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the dispatcher exited with " + process.exitValue());
            }
            try {
                if (get("/actuator/health/readiness").contains("\"UP\"")) {
                    return;
                }
            } catch (UncheckedIOException notYet) {
                // Not listening yet.
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        close();
        throw new IllegalStateException("the dispatcher was not ready within " + timeout);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
