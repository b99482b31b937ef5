package dev.dialer.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a start does with a data directory another process left, or still uses. */
class EmbeddedPostgresServerTest {

    @TempDir
    Path root;

    @Test
    void aPostmasterPidNamingAProcessThatIsNoPostgresqlOfTheDirectoryLeavesThatProcessAlone() throws Exception {
        Path dataDir = Files.createDirectories(root.resolve("postgres"));
        // After a reboot the file's process id may be anyone's: here, an unrelated process of ours.
        Process unrelated = new ProcessBuilder("sleep", "60").start();
        try {
            Files.writeString(dataDir.resolve("postmaster.pid"), unrelated.pid() + "\n" + dataDir + "\n");

            EmbeddedPostgresServer.stopStale(dataDir);

            assertThat(unrelated.isAlive()).isTrue();
            assertThat(dataDir.resolve("postmaster.pid")).as("stale, removed for the new server").doesNotExist();
        } finally {
            unrelated.destroy();
        }
    }

    @Test
    void aDataDirectoryHeldByAnotherStackIsRefusedNotTakenOver() throws IOException {
        Path dataDir = root.resolve("postgres");
        try (FileChannel first = EmbeddedPostgresServer.lock(dataDir)) {
            assertThat(first.isOpen()).isTrue();

            assertThatThrownBy(() -> EmbeddedPostgresServer.lock(dataDir))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("another process runs PostgreSQL on " + dataDir);
        }
        try (FileChannel again = EmbeddedPostgresServer.lock(dataDir)) {
            assertThat(again.isOpen()).as("free again once released").isTrue();
        }
    }
}
