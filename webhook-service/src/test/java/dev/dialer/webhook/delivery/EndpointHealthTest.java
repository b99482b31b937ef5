package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.ConnectionFactories;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.test.StepVerifier;

class EndpointHealthTest {

    private EndpointHealth health;

    @BeforeEach
    void unreachableDatabase() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        DatabaseClient unreachable = DatabaseClient.create(ConnectionFactories.get(
                "r2dbc:postgresql://dialer:dialer@127.0.0.1:" + closedPort + "/dialer"));
        // One failure disables at once, so that a failed try is also a disable.
        health = new EndpointHealth(unreachable, new HealthProperties(1, Duration.ZERO, Duration.ofDays(30),
                Duration.ofDays(7), Duration.ofDays(30), Duration.ofMinutes(15)), Clock.systemUTC());
    }

    @Test
    void aDisableThatCouldNotBeWrittenIsNotHeldInMemory() {
        StepVerifier.create(health.disable("wh-1", EndpointHealth.GONE, null))
                .expectError()
                .verify(Duration.ofSeconds(10));

        assertThat(health.disabledCount()).isZero();
    }

    @Test
    void aSustainedFailureThatCouldNotBeWrittenDoesNotDisableInMemory() {
        StepVerifier.create(health.failed("wh-1", null))
                .expectError()
                .verify(Duration.ofSeconds(10));

        assertThat(health.disabledCount()).isZero();
    }
}
