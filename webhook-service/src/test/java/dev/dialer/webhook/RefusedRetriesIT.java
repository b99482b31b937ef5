package dev.dialer.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.infra.Infrastructure;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Retries to an endpoint that never comes back: its circuit lets one trial through per open period, and the rows it
 * refuses meanwhile are given up once they have waited longer than the schedule can last, rather than wait for their
 * counted tries one trial at a time.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=webhook-service",
        // With the "it" profile's schedule (100 ms, 200 ms, time unit 100 ms) the schedule lasts at most about 1.4 s.
        "dialer.webhook.retry.throttled-minimum=1s",
        "dialer.webhook.retry.max-retry-after=1s",
        "dialer.webhook.retry.ordering-wait=1s"})
@ActiveProfiles("it")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class RefusedRetriesIT {

    /**
     * Calls whose notify_url is down: each needs three counted tries, and the circuit lets one through per 2 s open
     * period, so counting tries alone would take them minutes to end.
     */
    private static final int CALLS = 40;
    private static final Duration BOUND = Duration.ofSeconds(30);

    private static ItFixture fixture;

    @Autowired
    DatabaseClient database;
    @Autowired
    MeterRegistry meters;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
    }

    @BeforeAll
    static void start() {
        fixture = new ItFixture("refused-retries-it");
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    @Test
    void retriesToAHookEndpointThatStaysDownEndInTheDeadLettersOnceTheyOutliveTheSchedule() throws IOException {
        double expiredBefore = DownHookCalls.expired(meters, "circuit_open");

        DownHookCalls calls = DownHookCalls.published(fixture, database, CALLS);

        await().atMost(BOUND).until(() -> calls.deadLetters() == CALLS);
        assertThat(calls.waiting()).isZero();
        assertThat(DownHookCalls.expired(meters, "circuit_open")).isGreaterThan(expiredBefore);
    }
}
