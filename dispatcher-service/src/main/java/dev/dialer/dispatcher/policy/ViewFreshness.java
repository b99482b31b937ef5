package dev.dialer.dispatcher.policy;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * How long ago a policy view was last known to hold everything on its topic: every {@code every}, the topic's last
 * records are looked up ({@code readToNow}) and, once the view has applied them, it is known current as of the moment
 * the look began. The view's reader gives no sign of its own when it stops receiving (a broker it cannot reach, a
 * fetch that keeps failing inside the Kafka client): a look that fails, or waits longer than {@code patience}, leaves
 * the view as old as its last good look, and its age grows for all to see
 * ({@code dialer.dispatcher.policy.view.staleness}, alert {@code DispatcherPolicyViewStale}): a DNC entry or a cancel
 * written since is not honoured by this dispatcher until it is read.
 *
 * <p>The look reads what a transactional reader is handed: records behind a writer's transaction still open are not
 * yet on the topic for it, nor for the view.
 */
final class ViewFreshness {

    private static final Logger log = LoggerFactory.getLogger(ViewFreshness.class);

    private final String view;
    private final Supplier<Mono<Void>> readToNow;
    private final Clock clock;
    private final Duration every;
    private final Duration patience;
    private final Scheduler timer;
    /** The start of the latest look the view was found to have read to; at first, when reading began. */
    private volatile Instant currentAsOf;
    /** A look has failed since the last good one: said once, not at every look. */
    private volatile boolean failing;

    ViewFreshness(String view, Supplier<Mono<Void>> readToNow, Clock clock, Duration every, Duration patience,
                  Scheduler timer, MeterRegistry registry) {
        this.view = view;
        this.readToNow = readToNow;
        this.clock = clock;
        this.every = every;
        this.patience = patience;
        this.timer = timer;
        this.currentAsOf = clock.instant();
        Gauge.builder("dialer.dispatcher.policy.view.staleness", this,
                        freshness -> freshness.staleness().toMillis() / 1e3)
                .description("Seconds since a policy view was last known to hold everything on its topic (looked "
                        + "every few seconds); what was written since is not honoured yet")
                .baseUnit("seconds")
                .tag("view", view)
                .register(registry);
    }

    /** Looks until cancelled, the first time at once. */
    Mono<Void> run() {
        currentAsOf = clock.instant();
        return Mono.defer(this::look)
                .then(Mono.delay(every, timer))
                .repeat()
                .then();
    }

    /** How long ago the view was last known current. */
    Duration staleness() {
        Duration age = Duration.between(currentAsOf, clock.instant());
        return age.isNegative() ? Duration.ZERO : age;
    }

    private Mono<Void> look() {
        Instant began = clock.instant();
        return Mono.defer(readToNow)
                .timeout(patience, timer)
                .doOnSuccess(done -> current(began))
                .onErrorResume(error -> {
                    if (!failing) {
                        failing = true;
                        log.warn("{} view could not be found current ({}); it holds what it read up to {} s ago, and "
                                + "is looked at again every {} s", view, error.toString(),
                                staleness().toSeconds(), every.toSeconds());
                    }
                    return Mono.empty();
                });
    }

    private void current(Instant asOf) {
        if (asOf.isAfter(currentAsOf)) {
            currentAsOf = asOf;
        }
        if (failing) {
            failing = false;
            log.info("{} view current again", view);
        }
    }

    String view() {
        return view;
    }

    /** For the health endpoint: whole seconds. */
    long stalenessSeconds() {
        return staleness().toSeconds();
    }
}
