package dev.dialer.dispatcher.policy;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.stereotype.Component;

/**
 * {@code dialer.dispatcher.policy.decisions{verdict, reason}}: what the dial-time gate decided (dial, defer, block,
 * expire, cancel) and why; {@code dialer.dispatcher.controls{action, outcome}}: what became of cancel, pause and
 * resume controls. Tags are bounded sets, never ids or numbers.
 */
@Component
class PolicyMetrics {

    static final String NONE = "none";

    private final MeterRegistry registry;

    PolicyMetrics(MeterRegistry registry) {
        this.registry = registry;
        decision("dial", NONE, 0);
        for (String reason : new String[] {Reasons.WINDOW_EVENT, Reasons.CAP_EVENT, Reasons.PAUSED}) {
            decision("defer", reason, 0);
        }
        decision("block", "dnc", 0);
        decision("block", "caller_id_not_allowed", 0);
        decision("block", "flow_not_allowed", 0);
        decision("expire", "valid_until", 0);
        decision("cancel", "canceled", 0);
        for (String outcome : ControlApplier.OUTCOMES) {
            control("cancel", outcome, 0);
        }
    }

    void decided(String verdict, String reason) {
        decision(verdict, reason == null ? NONE : reason, 1);
    }

    void controlled(String action, String outcome) {
        control(action, outcome, 1);
    }

    private void decision(String verdict, String reason, double amount) {
        registry.counter("dialer.dispatcher.policy.decisions", "verdict", verdict, "reason", reason).increment(amount);
    }

    private void control(String action, String outcome, double amount) {
        registry.counter("dialer.dispatcher.controls", "action", action, "outcome", outcome).increment(amount);
    }
}
