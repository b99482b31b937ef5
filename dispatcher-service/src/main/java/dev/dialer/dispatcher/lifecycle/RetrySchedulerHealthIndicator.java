package dev.dialer.dispatcher.lifecycle;

import dev.dialer.dispatcher.retry.RetryProperties;
import dev.dialer.dispatcher.retry.RetryScheduler;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code retryScheduler} in {@code /actuator/health}, not in readiness (decision 0128): DOWN until the retry pipeline
 * runs (once the policy topics are read in full), again if it ends, and while no tick has completed for
 * {@code stale-after}: ticks given up or failing one after another (a database that hangs or refuses) leave the
 * pipeline subscribed while no retry, window or parked call is released.
 */
@Component
class RetrySchedulerHealthIndicator implements HealthIndicator {

    private final RetrySchedulerLifecycle lifecycle;
    private final RetryScheduler scheduler;
    private final RetryProperties properties;

    RetrySchedulerHealthIndicator(RetrySchedulerLifecycle lifecycle, RetryScheduler scheduler,
                                  RetryProperties properties) {
        this.lifecycle = lifecycle;
        this.scheduler = scheduler;
        this.properties = properties;
    }

    @Override
    public Health health() {
        // Down too while the pipeline waits for the policy topics to be read in full: nothing is fired meanwhile.
        boolean ticking = lifecycle.pipelineRunning() && scheduler.lastProgress() != null
                && !scheduler.stalledFor(properties.staleAfter());
        return (ticking ? Health.up() : Health.down()).withDetail("table", "dispatch.schedule")
                .withDetail("lastProgress", String.valueOf(scheduler.lastProgress()))
                .withDetail("staleAfter", properties.staleAfter().toString())
                .build();
    }
}
