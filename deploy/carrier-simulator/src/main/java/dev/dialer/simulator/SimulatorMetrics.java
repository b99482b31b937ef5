package dev.dialer.simulator;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/** The simulator's own Prometheus registry; tags are bounded (outcome, status, result), never a number or URL. */
final class SimulatorMetrics {

    /** How a callback delivery went: {@code ok} for 200/202/204, {@code refused} for any other answer. */
    enum CallbackResult { OK, REFUSED, ERROR, LOST }

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicInteger active = new AtomicInteger();

    SimulatorMetrics() {
        Gauge.builder("dialer.simulator.calls.active", active, AtomicInteger::get)
                .description("Simulated calls that have not reached a final status")
                .register(registry);
    }

    void callCreated(Outcome outcome) {
        active.incrementAndGet();
        Counter.builder("dialer.simulator.calls.created")
                .description("Create-call requests accepted")
                .tag("outcome", outcome.name().toLowerCase(Locale.ROOT))
                .register(registry)
                .increment();
    }

    void capacityRejected() {
        registry.counter("dialer.simulator.capacity.rejected").increment();
    }

    void callEnded() {
        active.decrementAndGet();
    }

    void callback(String status, CallbackResult result) {
        Counter.builder("dialer.simulator.callbacks")
                .description("Status callbacks sent, by call status and delivery result")
                .tag("status", status)
                .tag("result", result.name().toLowerCase(Locale.ROOT))
                .register(registry)
                .increment();
    }

    String scrape() {
        return registry.scrape();
    }

    void close() {
        registry.close();
    }
}
