package dev.dialer.infra;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server (the zonky binaries) started from this JVM. PostgreSQL outlives a SIGKILL of its parent
 * JVM, so a stale server left in the same data directory is stopped before a new one starts; the directory is held
 * by one process at a time, so that a server still in use is never taken for a stale one.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

    /**
     * System properties named {@code dialer.infra.postgres.<setting>} set that server setting, e.g.
     * {@code -Ddialer.infra.postgres.shared_preload_libraries=pg_stat_statements} for a benchmark's statement figures.
     */
    public static final String SETTING_PREFIX = "dialer.infra.postgres.";

    private final EmbeddedPostgres postgres;
    private final FileChannel lock;

    private EmbeddedPostgresServer(EmbeddedPostgres postgres, FileChannel lock) {
        this.postgres = postgres;
        this.lock = lock;
    }

    /**
     * @param dataDir kept between runs when {@code clean} is false
     * @param port    0 picks a free port
     */
    public static EmbeddedPostgresServer start(Path dataDir, int port, boolean clean) {
        return start(dataDir, port, clean, true);
    }

    /**
     * @param stopOnExit whether the server stops by a JVM shutdown hook of its own; false where the caller closes it
     *                   in order on exit (the standalone stack: services first, so they do not log a database gone
     *                   while they still shut down)
     */
    public static EmbeddedPostgresServer start(Path dataDir, int port, boolean clean, boolean stopOnExit) {
        FileChannel lock = lock(dataDir);
        try {
            Files.createDirectories(dataDir.getParent());
            stopStale(dataDir);
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(clean)
                    .setPort(FreePorts.orFree(port))
                    .setServerConfig("max_connections", "200")
                    .setServerConfig("fsync", "on")
                    .setRegisterShutdownHook(stopOnExit);
            System.getProperties().stringPropertyNames().stream()
                    .filter(name -> name.startsWith(SETTING_PREFIX))
                    .forEach(name -> builder.setServerConfig(name.substring(SETTING_PREFIX.length()),
                            System.getProperty(name)));
            EmbeddedPostgres postgres = builder.start();
            log.info("embedded PostgreSQL listening on 127.0.0.1:{} (data in {})", postgres.getPort(), dataDir);
            return new EmbeddedPostgresServer(postgres, lock);
        } catch (IOException | RuntimeException e) {
            release(lock);
            throw e instanceof IOException io ? new UncheckedIOException("cannot start embedded PostgreSQL in "
                    + dataDir, io) : (RuntimeException) e;
        }
    }

    /**
     * Holds the data directory for this process's life, through a lock file beside it (initdb wants the directory
     * itself empty): a second stack started on the same directory is refused, instead of stopping the first one's
     * server as a stale one.
     */
    static FileChannel lock(Path dataDir) {
        Path file = dataDir.toAbsolutePath().resolveSibling(dataDir.getFileName() + ".lock");
        try {
            Files.createDirectories(file.getParent());
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock held;
            try {
                held = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                held = null;
            }
            if (held == null) {
                channel.close();
                throw new IllegalStateException("another process runs PostgreSQL on " + dataDir
                        + " (" + file + " is held): stop it first, or choose another data directory");
            }
            return channel;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + file, e);
        }
    }

    private static void release(FileChannel lock) {
        try {
            lock.close();
        } catch (IOException e) {
            log.warn("cannot release the data directory's lock", e);
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
        } finally {
            release(lock);
        }
    }

    /**
     * Stops the server a dead process left running in {@code dataDir} (the caller holds the directory's lock, so no
     * live stack owns it), or one this process is stopping before its start returned, and removes its
     * {@code postmaster.pid}. Only a {@code postgres} process serving this very
     * directory is stopped: after a reboot the file's process id may be any other process's.
     */
    public static void stopStale(Path dataDir) {
        Path pid = dataDir.resolve("postmaster.pid");
        if (!Files.exists(pid)) {
            return;
        }
        try {
            List<String> lines = Files.readAllLines(pid);
            long stale = Long.parseLong(lines.get(0).strip());
            Optional<ProcessHandle> server = ProcessHandle.of(stale)
                    .filter(process -> process.info().command().map(command -> command.endsWith("/postgres"))
                            .orElse(false))
                    .filter(process -> lines.size() > 1 && sameDirectory(Path.of(lines.get(1).strip()), dataDir));
            if (server.isPresent()) {
                log.warn("stopping PostgreSQL {} left running in {}", stale, dataDir);
                server.get().destroy();
                server.get().onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> null).join();
            } else if (ProcessHandle.of(stale).isPresent()) {
                log.info("{} names process {}, which is not a PostgreSQL server of {}: left alone", pid, stale,
                        dataDir);
            }
            Files.deleteIfExists(pid);
        } catch (IOException | RuntimeException e) {
            log.warn("cannot read stale {}: {}", pid, e.toString());
        }
    }

    private static boolean sameDirectory(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
        }
    }
}
