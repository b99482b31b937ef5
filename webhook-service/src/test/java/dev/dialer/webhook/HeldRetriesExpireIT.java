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
 * A hook endpoint that stays down while events go on: once its circuit is open the retry poller passes its rows over,
 * and they are given up as they outlive the retry schedule, a batch at a time, not one open period's claim at a time.
 * The circuit here stays open for ten minutes, so no trial lets a row through within the test: only the expiry of held
 * rows empties the table.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=webhook-service",
        // With the "it" profile's schedule (100 ms, 200 ms, time unit 100 ms) the schedule lasts at most about 1.4 s.
        "dialer.webhook.retry.throttled-minimum=1s",
        "dialer.webhook.retry.max-retry-after=1s",
        "dialer.webhook.retry.ordering-wait=1s",
        "dialer.webhook.isolation.open-duration=10m"})
@ActiveProfiles("it")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class HeldRetriesExpireIT {

    /** More than the poller's batch of claimed rows, so that held rows pile up behind the open circuit. */
    private static final int CALLS = 300;
    private static final Duration BOUND = Duration.ofSeconds(45);

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
        fixture = new ItFixture("held-retries-expire-it");
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    @Test
    void rowsOfAHookEndpointHeldOpenAreGivenUpOnceTheyOutliveTheSchedule() throws IOException {
        double expiredBefore = DownHookCalls.expired(meters, null);

        DownHookCalls calls = DownHookCalls.published(fixture, database, CALLS);

        await().atMost(BOUND).until(() -> calls.deadLetters() == CALLS);
        assertThat(calls.waiting()).isZero();
        assertThat(DownHookCalls.expired(meters, null) - expiredBefore)
                .as("given up as refused past the span, not after their tries").isGreaterThanOrEqualTo(CALLS - 10);
    }
}
