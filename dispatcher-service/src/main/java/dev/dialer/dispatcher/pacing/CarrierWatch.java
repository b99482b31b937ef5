package dev.dialer.dispatcher.pacing;

import dev.dialer.dispatcher.carrier.CarrierReadiness;
import dev.dialer.dispatcher.carrier.routing.CarrierRoutingProperties;
import dev.dialer.dispatcher.lifecycle.BackgroundLoop;
import dev.dialer.dispatcher.resilience.ThrottledWarnings;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;

/**
 * A carrier that went silent with its trunk full is found out, and the calls waiting for its slots go to the next
 * carrier of their route (decision 0165). No create-call goes to a carrier whose trunk is full, so its breaker, which
 * counts create-calls, never opened, and the lanes queued at its trunk waited for a slot that frees only when a call
 * of it ends, which a carrier gone silent never reports: an hour, until the slots lapse, though the route's next
 * carrier was working. Every second, the carriers that have had no request of this dispatcher for
 * {@code routing.guard.probe-idle-after} are asked whether they answer, through their breakers
 * ({@link CarrierReadiness#probeIdle}), and the lanes queued at the trunk of a carrier that takes no calls now are
 * woken to ask their route again ({@link Trunks#sendAwayWaiting}).
 */
@Component
class CarrierWatch extends BackgroundLoop {

    private static final Logger log = LoggerFactory.getLogger(CarrierWatch.class);
    private static final Duration EVERY = Duration.ofSeconds(1);
    /** Lanes woken at a trunk whose carrier takes no calls, by {@code trunk}. */
    static final String SENT_AWAY = "dialer.dispatcher.trunk.waiting.sent.away";

    private final ThrottledWarnings sentAway = new ThrottledWarnings(log, Duration.ofSeconds(60));
    private final CarrierReadiness carrier;
    private final Lanes lanes;
    private final Duration probeIdleAfter;
    private final MeterRegistry registry;

    CarrierWatch(CarrierReadiness carrier, Lanes lanes, CarrierRoutingProperties routing, MeterRegistry registry) {
        super("carrier watch");
        this.carrier = carrier;
        this.lanes = lanes;
        this.probeIdleAfter = routing.guard().probeIdleAfter();
        this.registry = registry;
    }

    @Override
    protected boolean enabled() {
        return true;
    }

    @Override
    protected Flux<?> loop() {
        Flux<Integer> sendAway = Flux.interval(EVERY, EVERY).map(tick -> sendAwayFromCarriersOutOfService());
        if (probeIdleAfter.isZero()) {
            return sendAway;
        }
        // A round's probes wait for their answers (at most the guard's timeout); ticks meanwhile are dropped.
        Flux<Void> probes = Flux.interval(EVERY, EVERY)
                .onBackpressureDrop()
                .concatMap(tick -> carrier.probeIdle(probeIdleAfter), 1);
        return Flux.merge(sendAway, probes);
    }

    /**
     * Wakes the lanes queued at each trunk whose carrier takes no calls now; how many were woken that had not come back
     * from the last time (counted and logged: those that come back have no other carrier to go to).
     */
    int sendAwayFromCarriersOutOfService() {
        int woken = 0;
        for (String trunk : carrier.trunksOutOfService()) {
            int here = lanes.trunks().sendAwayWaiting(trunk);
            if (here > 0) {
                woken += here;
                registry.counter(SENT_AWAY, "trunk", trunk).increment(here);
                sentAway.warn(trunk, "{} calls waiting at trunk {}, whose carrier takes no calls now, ask their "
                        + "route again", here, trunk);
            }
        }
        return woken;
    }

    @Override
    protected String started() {
        return probeIdleAfter.isZero() ? "carriers are watched for an open breaker; idle ones are not probed"
                : "carriers idle for " + probeIdleAfter + " are probed; lanes waiting at a carrier that takes no "
                        + "calls ask their route again";
    }
}
