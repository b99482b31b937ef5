package dev.dialer.webhook.delivery;

import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * For tests that write due retry rows while the service runs with an hour between polls: its poller claims once when
 * the webhook directory has caught up, which may be well after the context has started, and that claim would try the
 * test's rows. Waiting for it to have ended leaves the rows to the test.
 */
final class ServicesOwnClaim {

    /**
     * The directory replays every webhook the earlier test classes of the JVM wrote to the shared broker before the
     * poller starts: seconds when the machine is quiet.
     */
    private static final Duration WAIT = Duration.ofSeconds(60);

    private ServicesOwnClaim() {
    }

    static void awaitEnded(MeterRegistry registry) {
        await().atMost(WAIT).until(() -> registry.find("dialer.webhook.retries.claims").timers().stream()
                .mapToLong(Timer::count)
                .sum() > 0);
    }
}
