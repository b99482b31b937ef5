package dev.dialer.dispatcher.carrier;

import dev.dialer.dispatcher.attempt.AttemptLedger;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Ends a call on the dialer's own initiative (a request cancelled while its call rings or talks). The ledger notes
 * the cancel first, so the carrier's coming 487 / {@code no-answer} is applied as {@code canceled}, not as a callee
 * who did not answer.
 */
@Component
public class CallCanceller {

    private final AttemptLedger ledger;
    private final Carrier carrier;

    CallCanceller(AttemptLedger ledger, Carrier carrier) {
        this.ledger = ledger;
        this.carrier = carrier;
    }

    /**
     * The outcome arrives as the call's final status.
     *
     * @return {@code false} once the carrier took the order; {@code true} when the call was answered before the
     *         carrier could be asked, and talks on; empty when the call is over or unknown
     */
    public Mono<Boolean> cancel(CallRef call) {
        return ledger.markCancelRequested(call.requestId(), call.attempt())
                .then(Mono.defer(() -> carrier.hangUp(call)));
    }
}
