package dev.dialer.dispatcher.watchdog;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code watchdog} in {@code /actuator/health}, not in readiness (decision 0128): DOWN when no poll has finished for
 * {@code stale-after}, or at once when its loop ended by itself (an error it did not handle), because then no quiet
 * attempt is reconciled and requests whose callbacks were lost never get
 * their final event. UP when the watchdog is disabled on this instance (another runs it: claims are leased).
 */
@Component
class WatchdogHealthIndicator implements HealthIndicator {

    private final WatchdogHeartbeat heartbeat;
    private final WatchdogProperties properties;

    WatchdogHealthIndicator(WatchdogHeartbeat heartbeat, WatchdogProperties properties) {
        this.heartbeat = heartbeat;
        this.properties = properties;
    }

    @Override
    public Health health() {
        if (!properties.enabled()) {
            return Health.up().withDetail("enabled", false).build();
        }
        Health.Builder health = heartbeat.freshWithin(properties.staleAfter()) ? Health.up() : Health.down();
        if (heartbeat.ended()) {
            health.withDetail("ended", true);
        }
        return health.withDetail("lastPoll", String.valueOf(heartbeat.last()))
                .withDetail("staleAfter", properties.staleAfter().toString())
                .build();
    }
}
