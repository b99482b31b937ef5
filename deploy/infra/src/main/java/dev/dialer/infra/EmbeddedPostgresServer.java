package dev.dialer.infra;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server (the zonky binaries) started from this JVM. PostgreSQL outlives a SIGKILL of its parent
 * JVM, so a stale server left in the same data directory is stopped before a new one starts.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

    /**
     * System properties named {@code dialer.infra.postgres.<setting>} set that server setting, e.g.
     * {@code -Ddialer.infra.postgres.shared_preload_libraries=pg_stat_statements} for a benchmark's statement figures.
     */
    public static final String SETTING_PREFIX = "dialer.infra.postgres.";

    private final EmbeddedPostgres postgres;

    private EmbeddedPostgresServer(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    /**
     * @param dataDir kept between runs when {@code clean} is false
     * @param port    0 picks a free port
     */
    public static EmbeddedPostgresServer start(Path dataDir, int port, boolean clean) {
        try {
            Files.createDirectories(dataDir.getParent());
            stopStale(dataDir);
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(clean)
                    .setPort(FreePorts.orFree(port))
                    .setServerConfig("max_connections", "200")
                    .setServerConfig("fsync", "on");
            System.getProperties().stringPropertyNames().stream()
                    .filter(name -> name.startsWith(SETTING_PREFIX))
                    .forEach(name -> builder.setServerConfig(name.substring(SETTING_PREFIX.length()),
                            System.getProperty(name)));
            EmbeddedPostgres postgres = builder.start();
            log.info("embedded PostgreSQL listening on 127.0.0.1:{} (data in {})", postgres.getPort(), dataDir);
            return new EmbeddedPostgresServer(postgres);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start embedded PostgreSQL in " + dataDir, e);
        }
    }

    public int port() {
        return postgres.getPort();
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/postgres";
    }

    public String r2dbcUrl() {
        return "r2dbc:postgresql://127.0.0.1:" + port() + "/postgres";
    }

    public String username() {
        return "postgres";
    }

    public String password() {
        return "postgres";
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            log.warn("embedded PostgreSQL did not stop cleanly", e);
        }
    }

    private static void stopStale(Path dataDir) {
        Path pid = dataDir.resolve("postmaster.pid");
        if (!Files.exists(pid)) {
            return;
        }
        try {
            long stale = Long.parseLong(Files.readAllLines(pid).get(0).strip());
            ProcessHandle.of(stale).ifPresent(process -> {
                log.warn("stopping PostgreSQL {} left running in {}", stale, dataDir);
                process.destroy();
                process.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> null).join();
            });
            Files.deleteIfExists(pid);
        } catch (IOException | RuntimeException e) {
            log.warn("cannot read stale {}: {}", pid, e.toString());
        }
    }
}
