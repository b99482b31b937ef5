package dev.dialer.dispatcher.event;

import dev.dialer.common.kafka.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;

/**
 * Owns the outbox relay's subscription and reports it as {@code outboxRelay} in {@code /actuator/health}, not in
 * readiness (decision 0128): without the relay no call event leaves the dispatcher. DOWN while the relay does not run,
 * and while events wait and the outbox has not moved for {@code stale-after} (rounds that hang and are given up one
 * after another, Kafka refusing the events, or another dispatcher's relay stuck holding the lock). Stopping it loses
 * nothing (unsent events stay in the table); it stops after the pipelines that write events, so their last events are
 * still relayed.
 */
@Component("outboxRelayHealthIndicator")
class OutboxRelayLifecycle implements SmartLifecycle, HealthIndicator {

    private static final Logger log = LoggerFactory.getLogger(OutboxRelayLifecycle.class);
    private static final String ENDED =
            "no call event leaves this instance until it restarts (outboxRelay is DOWN in /actuator/health)";

    private final OutboxRelay relay;
    private final OutboxProperties properties;
    private volatile Disposable subscription;

    OutboxRelayLifecycle(OutboxRelay relay, OutboxProperties properties) {
        this.relay = relay;
        this.properties = properties;
    }

    @Override
    public synchronized void start() {
        if (subscription == null) {
            subscription = relay.run().subscribe(null,
                    error -> log.error("outbox relay ended with an error; {}", ENDED, error),
                    () -> log.error("outbox relay completed; {}", ENDED));
        }
    }

    @Override
    public synchronized void stop() {
        Disposable current = subscription;
        subscription = null;
        if (current != null) {
            current.dispose();
        }
    }

    @Override
    public boolean isRunning() {
        return subscription != null;
    }

    /**
     * Started before, and stopped after, everything that writes events: the command and retry pipelines (the last
     * phase), the policy views that apply cancels ({@code DEFAULT_PHASE - 2000}), and the web server, which applies
     * carrier callbacks until its graceful shutdown ({@code DEFAULT_PHASE - 1024}) ends and it stops
     * ({@code DEFAULT_PHASE - 2048}). Stopped before them, the relay left their last events to another dispatcher's
     * relay, or, on the last one, to the next start.
     */
    @Override
    public int getPhase() {
        return DEFAULT_PHASE - 3_000;
    }

    @Override
    public Health health() {
        Disposable current = subscription;
        boolean running = current != null && !current.isDisposed();
        Health.Builder health = running && !relay.stalledFor(properties.staleAfter()) ? Health.up() : Health.down();
        return health.withDetail("table", "dispatch.outbox")
                .withDetail("topic", Topics.CALL_EVENTS)
                .withDetail("lastProgress", String.valueOf(relay.lastProgress()))
                .withDetail("pending", relay.pending())
                .withDetail("staleAfter", properties.staleAfter().toString())
                .build();
    }
}
