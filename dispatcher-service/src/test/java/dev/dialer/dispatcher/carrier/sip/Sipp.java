package dev.dialer.dispatcher.carrier.sip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.BindException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * sipp (Debian's {@code sip-tester}) as the trunk, running one UAS scenario from {@code src/test/resources/sipp} for
 * one call on a free UDP port. A missing sipp fails the test: the SIP carrier is not tested without it.
 */
public final class Sipp implements AutoCloseable {

    private final Process process;
    private final int port;
    private final Path log;
    private final Path errors;

    private Sipp(Process process, int port, Path log, Path errors) {
        this.process = process;
        this.port = port;
        this.log = log;
        this.errors = errors;
    }

    public static Sipp uas(String scenario) throws IOException, URISyntaxException {
        return run(scenario, resource(scenario), List.of());
    }

    /**
     * Like {@link #uas(String)}, with sipp's handling of retransmissions off ({@code -nr}): a request we send again
     * reaches the scenario as a message of its own (sipp otherwise swallows it, or answers it as it answered the
     * first), so a scenario can ignore the first copy and answer the next. sipp then retransmits nothing either.
     */
    public static Sipp uasSeeingRetransmissions(String scenario) throws IOException, URISyntaxException {
        return run(scenario, resource(scenario), List.of("-nr"));
    }

    private static Path resource(String scenario) throws URISyntaxException {
        return Path.of(Sipp.class.getResource("/sipp/" + scenario + ".xml").toURI());
    }

    /** Runs a scenario written by the test itself, for a trunk that misbehaves in a way only one test needs. */
    static Sipp uas(String scenario, String xml) throws IOException {
        Path file = Files.createTempFile("sipp-" + scenario, ".xml");
        file.toFile().deleteOnExit();
        Files.writeString(file, xml);
        return run(scenario, file, List.of());
    }

    private static Sipp run(String scenario, Path file, List<String> options) throws IOException {
        Path dir = Files.createTempDirectory("sipp-" + scenario);
        Path log = dir.resolve("screen.log");
        Path errors = dir.resolve("errors.log");
        // Gone when the tests' JVM ends (in reverse order: the files, then their directory); read until then.
        for (Path made : List.of(dir, log, errors)) {
            made.toFile().deleteOnExit();
        }
        int port = freeUdpPort();
        List<String> command = new ArrayList<>(List.of(executable(), "-sf", file.toString(), "-i", "127.0.0.1",
                "-p", Integer.toString(port), "-m", "1", "-nostdin", "-timeout", "90s", "-timeout_error",
                "-trace_err", "-error_file", errors.toString(), "-mi", "127.0.0.1", "-mp", "0"));
        command.addAll(options);
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        Sipp sipp = new Sipp(process, port, log, errors);
        await("sipp listening on UDP " + port).atMost(Duration.ofSeconds(30)).until(() -> !process.isAlive()
                || portTaken(port));
        assertThat(process.isAlive()).as("sipp started; its output: %s", sipp.output()).isTrue();
        return sipp;
    }

    private static String executable() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path candidate = Path.of(dir, "sipp");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new AssertionError("sipp is not installed: apt-get install -y sip-tester (see .ci/run)");
    }

    public int port() {
        return port;
    }

    /** Waits for sipp to finish its one call; its exit code is 0 when the scenario ran as written. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        assertThat(process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
                .as("sipp finished its scenario; its output: %s", output()).isTrue();
        return process.exitValue();
    }

    public String output() {
        try {
            String screen = Files.exists(log) ? Files.readString(log) : "";
            String errs = Files.exists(errors) ? Files.readString(errors) : "";
            return tail(screen) + "\n--- errors ---\n" + tail(errs);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static String tail(String text) {
        return text.length() <= 4000 ? text : text.substring(text.length() - 4000);
    }

    private static int freeUdpPort() throws SocketException {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static boolean portTaken(int port) {
        try (DatagramSocket socket = new DatagramSocket(port, InetAddress.getLoopbackAddress())) {
            return false;
        } catch (BindException e) {
            return true;
        } catch (SocketException e) {
            return false;
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}
