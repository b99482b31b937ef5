package dev.dialer.api.calls;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code readModel}: UP while the call event reader consumes and no event has been in hand (retried) for longer than
 * {@code dialer.api.read-model.stale-after}, or when the reader is disabled on this instance. DOWN otherwise: the
 * reader's retries never end, so a database that refuses its writes would leave it subscribed but standing still,
 * and the calls' statuses growing old. Not in the readiness group: sends are still accepted while it stands still.
 */
@Component
class ReadModelHealthIndicator implements HealthIndicator {

    private final CallEventReader reader;
    private final ReadModelProperties properties;

    ReadModelHealthIndicator(CallEventReader reader, ReadModelProperties properties) {
        this.reader = reader;
        this.properties = properties;
    }

    @Override
    public Health health() {
        if (!properties.enabled()) {
            return Health.up().withDetail("callEventReader", "disabled").build();
        }
        return reader.progress().health(properties.staleAfter());
    }
}
