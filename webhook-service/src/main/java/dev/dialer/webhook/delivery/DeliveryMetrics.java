package dev.dialer.webhook.delivery;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** The service's meters. Tags are bounded enums only: never an id, URL or account. */
final class DeliveryMetrics {

    private final MeterRegistry registry;
    private final Counter consumed;
    private final Counter unreadable;
    private final Counter unexpected;
    private final Counter unloggedAttempts;
    private final Counter unpublishedAttempts;

    DeliveryMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.consumed = Counter.builder("dialer.webhook.events.consumed")
                .description("Call events read from the topic")
                .register(registry);
        this.unreadable = Counter.builder("dialer.webhook.events.unreadable")
                .description("Call event records that could not be read and were skipped")
                .register(registry);
        this.unexpected = Counter.builder("dialer.webhook.events.errors")
                .description("Call events whose handling failed unexpectedly and were skipped")
                .register(registry);
        this.unloggedAttempts = Counter.builder("dialer.webhook.attempts.unlogged")
                .description("Delivery attempts that could not be written to the delivery log")
                .register(registry);
        this.unpublishedAttempts = Counter.builder("dialer.webhook.attempts.unpublished")
                .description("Delivery attempts that could not be published on dialer.webhook.deliveries")
                .register(registry);
        // Registered up front so dashboards and alerts see zeroes rather than absent series.
        for (Target.Kind target : Target.Kind.values()) {
            deliveries(target, DeliveryOutcome.Status.DELIVERED, Reason.OK);
            deliveries(target, DeliveryOutcome.Status.FAILED, Reason.HTTP_STATUS);
        }
    }

    void consumed() {
        consumed.increment();
    }

    void unreadable() {
        unreadable.increment();
    }

    void unexpected() {
        unexpected.increment();
    }

    void unloggedAttempt() {
        unloggedAttempts.increment();
    }

    void unpublishedAttempt() {
        unpublishedAttempts.increment();
    }

    void outcome(Target.Kind target, DeliveryOutcome outcome) {
        deliveries(target, outcome.status(), outcome.reason()).increment();
    }

    /** Latency of one HTTP attempt, tagged with how that attempt ended. */
    void attempt(AttemptResult result) {
        Timer.builder("dialer.webhook.delivery.latency")
                .description("Duration of one HTTP delivery attempt")
                .tag("outcome", result.succeeded() ? DeliveryOutcome.Status.DELIVERED.tag()
                        : DeliveryOutcome.Status.FAILED.tag())
                .register(registry)
                .record(result.latency());
    }

    /** Every series carries the same tag keys: outcome, reason, target. */
    private Counter deliveries(Target.Kind target, DeliveryOutcome.Status status, Reason reason) {
        return Counter.builder("dialer.webhook.deliveries")
                .description("Deliveries of an event to a target (webhook or per-request hook), by how they ended")
                .tag("outcome", status.tag())
                .tag("target", target.tag())
                .tag("reason", reason.tag())
                .register(registry);
    }
}
