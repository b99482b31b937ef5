package dev.dialer.dispatcher.carrier;

import dev.dialer.dispatcher.attempt.AttemptLedger;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Ends a call on the dialer's own initiative (a request cancelled while its call rings or talks). The ledger notes
 * the cancel first, so the carrier's coming 487 / {@code no-answer} is applied as {@code canceled}, not as a callee
 * who did not answer.
 *
 * <p>{@code dialer.dispatcher.cancel.hangups{result}} counts what became of each order: {@code ordered} (the carrier
 * took it), {@code answered} (the call talks, the cancel came too late), {@code gone} (no carrier knows the call: it
 * is over) and {@code failed} (it could not be given; the caller asks again).
 */
@Component
public class CallCanceller {

    static final String METRIC = "dialer.dispatcher.cancel.hangups";
    private static final String[] RESULTS = {"ordered", "answered", "gone", "failed"};

    private static final Logger log = LoggerFactory.getLogger(CallCanceller.class);

    private final AttemptLedger ledger;
    private final Carrier carrier;
    private final MeterRegistry registry;

    CallCanceller(AttemptLedger ledger, Carrier carrier, MeterRegistry registry) {
        this.ledger = ledger;
        this.carrier = carrier;
        this.registry = registry;
        for (String result : RESULTS) {
            registry.counter(METRIC, "result", result);
        }
    }

    /**
     * The outcome arrives as the call's final status. Asking again is harmless: a call that is over is left alone.
     *
     * @return {@code false} once the carrier took the order; {@code true} when the call was answered before the
     *         carrier could be asked, and talks on; empty when the call is over or unknown; an error when the order
     *         could not be given (the carrier could not be reached, or refused it): the call may still ring
     */
    public Mono<Boolean> cancel(CallRef call) {
        return ledger.markCancelRequested(call.requestId(), call.attempt())
                .then(Mono.defer(() -> carrier.hangUp(call)))
                .doOnSuccess(answered -> count(answered == null ? "gone" : answered ? "answered" : "ordered"))
                .doOnError(error -> {
                    log.warn("cancel of request {} attempt {} did not reach the carrier; the call may still ring: {}",
                            call.requestId(), call.attempt(), error.toString());
                    count("failed");
                });
    }

    private void count(String result) {
        registry.counter(METRIC, "result", result).increment();
    }
}
