package dev.dialer.dispatcher.outcome;

import dev.dialer.common.contract.AttemptStatus;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * {@code dialer.dispatcher.outcomes{status, sip_class}}: attempts ended, by the status each ended with and the class
 * of the SIP status the carrier reported for it. Every path that ends an attempt counts it here, once the end is
 * committed: the carrier's final callback, a carrier that would not place the call, the watchdog's
 * {@code status_timeout}. Both tags are bounded sets.
 */
public final class OutcomeMetrics {

    private final MeterRegistry registry;

    public OutcomeMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /**
     * An attempt ended with {@code status}.
     *
     * @param sipStatus the SIP status the carrier reported for it; null when it reported none
     */
    public void ended(AttemptStatus status, Integer sipStatus) {
        registry.counter("dialer.dispatcher.outcomes", "status", status.wire(), "sip_class", sipClass(sipStatus))
                .increment();
    }

    /** {@code 2xx} … {@code 6xx}, or {@code none} when the carrier reported no SIP status: a bounded tag. */
    static String sipClass(Integer sipStatus) {
        return sipStatus == null || sipStatus < 100 || sipStatus > 699 ? "none" : (sipStatus / 100) + "xx";
    }
}
