package dev.dialer.dispatcher.lifecycle;

import dev.dialer.common.kafka.Topics;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/** {@code commandConsumer} in the readiness group: DOWN until the command pipeline runs, and again if it ends. */
@Component
class CommandConsumerHealthIndicator implements HealthIndicator {

    private final CommandConsumerLifecycle lifecycle;

    CommandConsumerHealthIndicator(CommandConsumerLifecycle lifecycle) {
        this.lifecycle = lifecycle;
    }

    @Override
    public Health health() {
        Health.Builder health = lifecycle.pipelineRunning() ? Health.up() : Health.down();
        return health.withDetail("topic", Topics.CALL_COMMANDS).build();
    }
}
