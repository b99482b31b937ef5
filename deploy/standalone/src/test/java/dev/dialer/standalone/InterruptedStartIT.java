package dev.dialer.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.infra.Infrastructure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Ctrl-C while the standalone dialer starts, in a JVM of its own as {@code java -jar} runs it: the embedded
 * PostgreSQL, a process of its own that a stop would otherwise leave running, stops with it.
 */
class InterruptedStartIT {

    @Test
    void aStopWhileTheStackStartsLeavesNoPostgreSqlRunning() throws Exception {
        Path dataDir = Files.createTempDirectory("dialer-it-standalone-stop-");
        Path log = dataDir.resolve("standalone.log");
        Process standalone = null;
        Optional<ProcessHandle> postgres = Optional.empty();
        try {
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), Standalone.class.getName(),
                    "--dialer.standalone.data-dir=" + dataDir));
            for (String port : List.of("api", "dispatcher", "webhook", "simulator", "kafka", "postgres")) {
                command.add("--dialer.standalone." + port + "-port=0");
            }
            standalone = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            // Once the server listens: initdb's own bootstrap process writes the pid file before.
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(log)
                    .contains("embedded PostgreSQL listening"));
            Path pid = dataDir.resolve("postgres").resolve("postmaster.pid");
            postgres = ProcessHandle.of(Long.parseLong(Files.readAllLines(pid).get(0).strip()));
            assertThat(postgres).as("PostgreSQL runs").isPresent();
            assertThat(Files.readString(log)).as("stopped while it starts").doesNotContain("Dialer ready");

            standalone.destroy(); // SIGTERM, as Ctrl-C's SIGINT: the JVM runs its shutdown hooks.

            assertThat(standalone.waitFor(60, TimeUnit.SECONDS)).as("the dialer stopped").isTrue();
            ProcessHandle server = postgres.get();
            await().atMost(Duration.ofSeconds(30)).until(() -> !server.isAlive());
        } finally {
            if (standalone != null) {
                standalone.destroyForcibly();
            }
            postgres.ifPresent(ProcessHandle::destroyForcibly);
            Infrastructure.deleteQuietly(dataDir);
        }
    }
}
