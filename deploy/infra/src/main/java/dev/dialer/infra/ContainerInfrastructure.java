package dev.dialer.infra;

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
        PostgreSQLContainer postgres = new PostgreSQLContainer("postgres:17-alpine");
        kafka.start();
        postgres.start();
        String r2dbc = "r2dbc:postgresql://" + postgres.getHost() + ":" + postgres.getMappedPort(5432) + "/"
                + postgres.getDatabaseName();
        return new Infrastructure.Endpoints(kafka.getBootstrapServers(), postgres.getJdbcUrl(), r2dbc,
                postgres.getUsername(), postgres.getPassword(), "containerised");
    }
}
