package dev.dialer.dispatcher.lifecycle;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/** {@code retryScheduler} in the readiness group: DOWN until the retry pipeline runs, and again if it ends. */
@Component
class RetrySchedulerHealthIndicator implements HealthIndicator {

    private final RetrySchedulerLifecycle lifecycle;

    RetrySchedulerHealthIndicator(RetrySchedulerLifecycle lifecycle) {
        this.lifecycle = lifecycle;
    }

    @Override
    public Health health() {
        return (lifecycle.pipelineRunning() ? Health.up() : Health.down()).withDetail("table", "dispatch.schedule")
                .build();
    }
}
