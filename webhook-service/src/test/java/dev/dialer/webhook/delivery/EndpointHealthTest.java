package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.DeliveryAttempt;
import dev.dialer.common.contract.WebhookConfig;
import io.r2dbc.spi.ConnectionFactories;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.test.StepVerifier;

class EndpointHealthTest {

    private static final DeliveryAttempt DISABLING = new DeliveryAttempt(DeliveryAttempt.VERSION, "att-1", "evt-1",
            "call.status", "wh-1", "webhook", "req-1", "acc-1", 1, DeliveryAttempt.Outcome.DEAD, 410, null, null, 5,
            null, true, false, Instant.now());

    /** The directory's webhook wh-1, configured long before any disable. */
    private static final WebhookConfig KNOWN = new WebhookConfig("wh-1", "acc-1", "https://example.com/hook", "test",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true, Instant.EPOCH);

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
                Duration.ofDays(7), Duration.ofDays(30), Duration.ofMinutes(15)),
                new DisabledNotice((accountId, type) -> Set.of("wh-2")), Clock.systemUTC());
    }

    @Test
    void aDisableThatCouldNotBeWrittenIsNotHeldInMemory() {
        StepVerifier.create(health.disable("wh-1", EndpointHealth.GONE, DISABLING))
                .expectError()
                .verify(Duration.ofSeconds(10));

        assertThat(health.disabledCount(id -> KNOWN, List.of(KNOWN))).isZero();
    }

    @Test
    void aSustainedFailureThatCouldNotBeWrittenDoesNotDisableInMemory() {
        StepVerifier.create(health.failed("wh-1", "https://example.com/hook", DISABLING))
                .expectError()
                .verify(Duration.ofSeconds(10));

        assertThat(health.disabledCount(id -> KNOWN, List.of(KNOWN))).isZero();
    }
}
