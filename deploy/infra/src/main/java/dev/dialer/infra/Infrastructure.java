package dev.dialer.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one fixture every integration test uses for real infrastructure: a Kafka broker (KRaft) and a PostgreSQL
 * server, started once per test JVM and stopped when it exits. With a Docker engine reachable (and Testcontainers on
 * the classpath) they are containers; otherwise they run embedded. {@code -Ddialer.infra=embedded|containers}
 * forces the choice.
 */
public final class Infrastructure {

    private static final Logger log = LoggerFactory.getLogger(Infrastructure.class);
    private static volatile Endpoints shared;

    private Infrastructure() {
    }

    /** Where the running infrastructure is. */
    public record Endpoints(String kafkaBootstrapServers, String jdbcUrl, String r2dbcUrl, String username,
                            String password, String kind) {

        /** The Spring properties that point a dialer service at this Kafka and PostgreSQL. */
        public java.util.Map<String, String> serviceProperties() {
            return java.util.Map.of(
                    "dialer.kafka.bootstrap-servers", kafkaBootstrapServers,
                    "spring.r2dbc.url", r2dbcUrl,
                    "spring.r2dbc.username", username,
                    "spring.r2dbc.password", password,
                    "spring.flyway.url", jdbcUrl,
                    "spring.flyway.user", username,
                    "spring.flyway.password", password);
        }
    }

    /** Starts the shared infrastructure on first use and returns where it is. */
    public static Endpoints shared() {
        Endpoints current = shared;
        if (current == null) {
            synchronized (Infrastructure.class) {
                current = shared;
                if (current == null) {
                    current = start();
                    shared = current;
                }
            }
        }
        return current;
    }

    private static Endpoints start() {
        String choice = System.getProperty("dialer.infra", "auto");
        boolean containers = choice.equals("containers") || (choice.equals("auto") && ContainerInfrastructure.dockerAvailable());
        long started = System.nanoTime();
        Endpoints endpoints = containers ? ContainerInfrastructure.start() : startEmbedded();
        log.info("{} Kafka and PostgreSQL ready in {} ms", endpoints.kind(), (System.nanoTime() - started) / 1_000_000);
        return endpoints;
    }

    private static Endpoints startEmbedded() {
        Path dir;
        try {
            dir = Files.createTempDirectory("dialer-it-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        EmbeddedPostgresServer postgres = EmbeddedPostgresServer.start(dir.resolve("pg"), 0, true);
        EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            kafka.close();
            postgres.close();
            deleteQuietly(dir);
        }, "dialer-infra-shutdown"));
        return new Endpoints(kafka.bootstrapServers(), postgres.jdbcUrl(), postgres.r2dbcUrl(), postgres.username(),
                postgres.password(), "embedded");
    }

    /** Deletes {@code dir} and everything in it, as far as it can: a temporary directory left behind harms nothing. */
    public static void deleteQuietly(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // Best effort: a temp directory left behind harms nothing.
        }
    }
}
