package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.r2dbc.spi.ConnectionFactories;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.test.StepVerifier;

class DeliveryLogTest {

    @Test
    void anUnreachableDatabaseDoesNotFailTheDeliveryButIsCounted() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        DatabaseClient unreachable = DatabaseClient.create(ConnectionFactories.get(
                "r2dbc:postgresql://dialer:dialer@127.0.0.1:" + closedPort + "/dialer"));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DeliveryLog log = new DeliveryLog(unreachable, new DeliveryMetrics(registry));

        StepVerifier.create(log.record(AttemptFeedTest.attempt("wh-1", "webhook", 1, 200, null, null)))
                .expectComplete()
                .verify(Duration.ofSeconds(10));

        assertThat(registry.get("dialer.webhook.attempts.unlogged").counter().count()).isEqualTo(1);
    }
}
