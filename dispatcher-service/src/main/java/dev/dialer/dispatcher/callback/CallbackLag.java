package dev.dialer.dispatcher.callback;

import dev.dialer.dispatcher.carrier.routing.CarrierRoutingProperties;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;
import org.springframework.stereotype.Component;

/**
 * {@value #NAME}: how late carrier news reaches the dialer, per carrier (its route name: a handful of values; a name
 * the dialer did not write is counted as {@value #OTHER}) and {@code kind}:
 * <ul>
 *   <li>{@value #DELIVERY}: from the carrier's event time to the callback's arrival. jambonz puts no event time in a
 *       status callback, so the time is the signature's {@code t=} (whole seconds, when it signed the request): a
 *       callback's lag is over-stated by under a second, and unsigned callbacks have none;</li>
 *   <li>{@value #FIRST_CALLBACK}: from our create-call request (the {@code sent_at} our tag carries) to the arrival of
 *       the call's first callback ({@code trying}); on a SIP trunk, from the INVITE to the trunk's first response;</li>
 *   <li>{@value #APPLIED}: SIP trunk only, from a SIP event's arrival to its status being applied.</li>
 * </ul>
 */
@Component
public class CallbackLag {

    public static final String NAME = "dialer.dispatcher.carrier.callback.lag";
    public static final String DELIVERY = "delivery";
    public static final String FIRST_CALLBACK = "first_callback";
    public static final String APPLIED = "applied";
    static final String OTHER = "other";
    /** The route name of the one Voice Gateway carrier when no routing is configured. */
    static final String DEFAULT_CARRIER = "voice-gateway";

    private final MeterRegistry registry;
    private final Clock clock;
    private final Set<String> carriers = new LinkedHashSet<>();

    CallbackLag(MeterRegistry registry, CarrierRoutingProperties routing, Clock clock) {
        this.registry = registry;
        this.clock = clock;
        carriers.add(DEFAULT_CARRIER);
        carriers.addAll(routing.carriers().keySet());
        for (String carrier : carriers) {
            timer(registry, carrier, DELIVERY);
            timer(registry, carrier, FIRST_CALLBACK);
        }
    }

    /** The timer for one carrier and kind; the SIP trunk carrier records its own kinds through it too. */
    public static Timer timer(MeterRegistry registry, String carrier, String kind) {
        return Timer.builder(NAME)
                .description("How late carrier news reaches the dialer, by kind")
                .tag("carrier", carrier)
                .tag("kind", kind)
                .register(registry);
    }

    /**
     * Records what a callback says about its own lateness.
     *
     * @param carrier        the route name our tag carries, if any
     * @param signedAtSecond the signature's {@code t=}, if the callback was signed
     * @param sentAtMillis   when our create-call request was sent, if the tag says; recorded for a {@code trying}
     * @param first          whether this is the call's first callback ({@code trying})
     */
    void received(String carrier, Long signedAtSecond, Long sentAtMillis, boolean first) {
        Instant now = clock.instant();
        String tag = carrier != null && carriers.contains(carrier) ? carrier : OTHER;
        if (signedAtSecond != null) {
            record(tag, DELIVERY, Duration.between(Instant.ofEpochSecond(signedAtSecond), now));
        }
        if (first && sentAtMillis != null) {
            record(tag, FIRST_CALLBACK, Duration.between(Instant.ofEpochMilli(sentAtMillis), now));
        }
    }

    private void record(String carrier, String kind, Duration lag) {
        // Clocks of two machines: a callback seemingly from the future arrived without delay.
        timer(registry, carrier, kind).record(lag.isNegative() ? Duration.ZERO : lag);
    }
}
