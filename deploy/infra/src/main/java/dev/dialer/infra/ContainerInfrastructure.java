package dev.dialer.infra;

import java.util.ArrayList;
import java.util.List;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;

/** The Testcontainers side of {@link Infrastructure}; loaded only when Testcontainers is on the classpath. */
final class ContainerInfrastructure {

    private ContainerInfrastructure() {
    }

    static boolean dockerAvailable() {
        try {
            Class.forName("org.testcontainers.DockerClientFactory");
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    @SuppressWarnings("resource") // stopped by Testcontainers' reaper when the JVM exits
    static Infrastructure.Endpoints start() {
        KafkaContainer kafka = new KafkaContainer("apache/kafka:4.1.1")
                .withEnv("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
                .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0");
        // As the embedded server is set up: the tests' many contexts each hold a pool, more than the default 100.
        List<String> command = new ArrayList<>(List.of("postgres", "-c", "max_connections=200", "-c", "fsync=on"));
        System.getProperties().stringPropertyNames().stream()
                .filter(name -> name.startsWith(EmbeddedPostgresServer.SETTING_PREFIX))
                .forEach(name -> command.addAll(List.of("-c", name.substring(
                        EmbeddedPostgresServer.SETTING_PREFIX.length()) + "=" + System.getProperty(name))));
        PostgreSQLContainer postgres = new PostgreSQLContainer("postgres:17-alpine")
                .withCommand(command.toArray(String[]::new));
        kafka.start();
        postgres.start();
        String r2dbc = "r2dbc:postgresql://" + postgres.getHost() + ":" + postgres.getMappedPort(5432) + "/"
                + postgres.getDatabaseName();
        return new Infrastructure.Endpoints(kafka.getBootstrapServers(), postgres.getJdbcUrl(), r2dbc,
                postgres.getUsername(), postgres.getPassword(), "containerised");
    }
}
