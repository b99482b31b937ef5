package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.ContractViolation;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/** The service's meters. Tags are bounded enums only: never an id, URL or account. */
final class DeliveryMetrics {

    private final MeterRegistry registry;
    private final Counter consumed;
    private final Counter replayQueued;
    private final Counter replayRepeated;
    private final Counter unloggedAttempts;
    private final Counter unpublishedAttempts;
    private final Counter failedLookups;
    private final Counter unannouncedDisables;
    private final Counter heldBack;
    private final Counter alreadyStored;
    private final Counter leasesLost;
    private final Timer claims;
    private final Timer failedClaims;
    private final AtomicLong retriesPending = new AtomicLong();

    DeliveryMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.consumed = Counter.builder("dialer.webhook.events.consumed")
                .description("Call events read from the topic")
                .register(registry);
        this.replayQueued = Counter.builder("dialer.webhook.replays.queued")
                .description("Events queued for delivery again by replay requests")
                .register(registry);
        this.replayRepeated = Counter.builder("dialer.webhook.replays.repeated")
                .description("Events of a replay request handled again that the replay had already queued, not queued"
                        + " twice")
                .register(registry);
        this.unloggedAttempts = Counter.builder("dialer.webhook.attempts.unlogged")
                .description("Delivery tries that could not be written to the delivery log")
                .register(registry);
        this.failedLookups = Counter.builder("dialer.webhook.lookups.failed")
                .description("Tries that failed because their host's DNS lookup did not answer in time or could not "
                        + "start (every lookup thread busy)")
                .register(registry);
        this.unannouncedDisables = Counter.builder("dialer.webhook.disables.unannounced")
                .description("Publishes of a webhook's disable to api-service that failed, to be tried again")
                .register(registry);
        this.unpublishedAttempts = Counter.builder("dialer.webhook.attempts.unpublished")
                .description("Delivery tries that could not be published on dialer.webhook.deliveries")
                .register(registry);
        this.heldBack = Counter.builder("dialer.webhook.deliveries.held")
                .description("Events held back behind an earlier event of the same call still retrying")
                .register(registry);
        this.alreadyStored = Counter.builder("dialer.webhook.deliveries.repeated")
                .description("First tries not made because the event, handled a second time, already waits in the "
                        + "retry table for that target")
                .register(registry);
        // Registered at start, so that a poller that never claims shows a count that stays 0 (WebhookRetriesNotClaimed).
        this.claims = claimTimer(registry, "claimed");
        this.failedClaims = claimTimer(registry, "failed");
        this.leasesLost = Counter.builder("dialer.webhook.retries.leases.lost")
                .description("Retries whose outcome was not written: the try outlived its lease and the row had been "
                        + "claimed again meanwhile")
                .register(registry);
        Gauge.builder("dialer.webhook.retries.pending", retriesPending, AtomicLong::get)
                .description("Deliveries waiting in the durable retry table")
                .register(registry);
        // Registered up front so dashboards and alerts see zeroes rather than absent series.
        for (Target.Kind target : Target.Kind.values()) {
            deliveries(target, "delivered", Reason.OK);
            deliveries(target, "dead", Reason.HTTP_STATUS);
        }
        deadLetters(Reason.HTTP_STATUS);
        for (BadRecords.Source source : BadRecords.Source.values()) {
            for (ContractViolation.Code code : List.of(ContractViolation.Code.NOT_JSON,
                    ContractViolation.Code.SCHEMA_INVALID, ContractViolation.Code.PROCESSING_ERROR)) {
                dlq(source, code);
            }
        }
        for (EndpointIsolation.Limit limit : EndpointIsolation.Limit.values()) {
            busy(limit);
        }
    }

    /** Registers the gauge of webhooks disabled on this instance's records, of those its directory has. */
    void disabledEndpoints(Supplier<Number> count) {
        Gauge.builder("dialer.webhook.endpoints.disabled", count)
                .description("Webhooks disabled after 410 Gone or sustained failure, not deleted or re-enabled since")
                .register(registry);
    }

    /** Registers the gauge of targets whose retries are held while their endpoint refuses tries. */
    void heldTargets(Supplier<Number> count) {
        Gauge.builder("dialer.webhook.retries.held.targets", count)
                .description("Webhooks, hook endpoints and accounts whose retries are left unclaimed while the "
                        + "endpoint or account refuses tries")
                .register(registry);
    }

    void consumed() {
        consumed.increment();
    }

    /** One page of a replay: events queued now, and events an earlier handling of the request had queued. */
    void replayPage(long queued, long repeated) {
        replayQueued.increment(queued);
        replayRepeated.increment(repeated);
    }

    void unloggedAttempt() {
        unloggedAttempts.increment();
    }

    void lookupFailed() {
        failedLookups.increment();
    }

    void unannouncedDisable() {
        unannouncedDisables.increment();
    }

    void unpublishedAttempt() {
        unpublishedAttempts.increment();
    }

    void heldBack() {
        heldBack.increment();
    }

    void alreadyStored() {
        alreadyStored.increment();
    }

    void leaseLost() {
        leasesLost.increment();
    }

    void retriesPending(long pending) {
        retriesPending.set(pending);
    }

    /** @param outcome delivered, retrying, dead or skipped */
    void outcome(Target.Kind target, String outcome, Reason reason) {
        deliveries(target, outcome, reason).increment();
    }

    /** A try refused by the endpoint's concurrency limit, open circuit or back-off after a 429 (not a try). */
    void refusedLocally(Target.Kind target, Reason reason) {
        deliveries(target, "deferred", reason).increment();
    }

    /** A try refused at once because {@code limit} had its tries in flight (also counted as deferred or expired). */
    void isolationBusy(EndpointIsolation.Limit limit) {
        busy(limit).increment();
    }

    /**
     * A stored delivery its endpoint refused once more after it had waited longer than the retry schedule can last,
     * given up: {@code reason} is the refusal's ({@code circuit_open}, {@code rate_limited} or
     * {@code endpoint_busy}).
     */
    void refusedTooLong(Target.Kind target, Reason reason) {
        Counter.builder("dialer.webhook.retries.expired")
                .description("Retries given up because their endpoint kept refusing them for longer than the retry "
                        + "schedule lasts")
                .tag("target", target.tag())
                .tag("reason", reason.tag())
                .register(registry)
                .increment();
    }

    void deadLetter(Reason reason) {
        deadLetters(reason).increment();
    }

    /** A record of {@code source} whose copy is now in its DLQ, with why. */
    void sentToDlq(BadRecords.Source source, ContractViolation.Code code) {
        dlq(source, code).increment();
    }

    void endpointDisabled(String reason) {
        Counter.builder("dialer.webhook.endpoint.disables")
                .description("Webhooks disabled, by why")
                .tag("reason", reason)
                .register(registry)
                .increment();
    }

    /**
     * One claim of due retries, from the query's start to its last row: how long the claim query takes as the table
     * grows, and that the poller is claiming at all.
     */
    void claim(Duration took, boolean succeeded) {
        (succeeded ? claims : failedClaims).record(took);
    }

    /** Latency of one HTTP try, tagged with how that try ended. */
    void attempt(AttemptResult result) {
        Timer.builder("dialer.webhook.delivery.latency")
                .description("Duration of one HTTP delivery try")
                .tag("outcome", result.succeeded() ? "delivered" : "failed")
                .publishPercentileHistogram()
                .register(registry)
                .record(result.latency());
    }

    private static Timer claimTimer(MeterRegistry registry, String outcome) {
        return Timer.builder("dialer.webhook.retries.claims")
                .description("Claims of due webhook retries, by whether the claim query succeeded")
                .tag("outcome", outcome)
                .register(registry);
    }

    private Counter busy(EndpointIsolation.Limit limit) {
        return Counter.builder("dialer.webhook.isolation.busy")
                .description("Tries refused at once by a concurrency limit, by limit: the account's to one endpoint "
                        + "(endpoint), all accounts' to one endpoint (host), or the account's to all its endpoints "
                        + "(account)")
                .tag("limit", limit.tag())
                .register(registry);
    }

    private Counter deadLetters(Reason reason) {
        return Counter.builder("dialer.webhook.dead.letters")
                .description("Deliveries given up and moved to the dead letters, by the last try's reason")
                .tag("reason", reason.tag())
                .register(registry);
    }

    private Counter dlq(BadRecords.Source source, ContractViolation.Code code) {
        return Counter.builder("dialer.webhook.dlq")
                .description("Records of dialer.call.events (events) and dialer.webhook.control (replays) sent to "
                        + "their DLQ, by the error code of the copy")
                .tag("source", source.tag())
                .tag("code", code.wire())
                .register(registry);
    }

    /** Every series carries the same tag keys: outcome, reason, target. */
    private Counter deliveries(Target.Kind target, String outcome, Reason reason) {
        return Counter.builder("dialer.webhook.deliveries")
                .description("Deliveries of an event to a target by how each try (or refusal) ended")
                .tag("outcome", outcome)
                .tag("target", target.tag())
                .tag("reason", reason.tag())
                .register(registry);
    }
}
