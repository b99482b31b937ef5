package dev.dialer.api.calls;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/** {@code readModel}: up while the call event reader consumes (or when it is disabled on this instance). */
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
        boolean consuming = reader.isConsuming();
        return (consuming ? Health.up() : Health.down()).withDetail("callEventReaderConsuming", consuming).build();
    }
}
