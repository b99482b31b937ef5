package dev.dialer.dispatcher.outcome;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.callback.CarrierCallback;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Tells a call we cancelled from one the callee did not answer. Carriers report both the same way (jambonz: 487
 * Request Terminated as {@code no-answer}); only the ledger knows that the dialer itself asked for the cancel
 * ({@link AttemptLedger#markCancelRequested}), in which case the attempt ends {@code canceled}.
 */
@Component
public class OwnCancels {

    private final AttemptLedger ledger;

    OwnCancels(AttemptLedger ledger) {
        this.ledger = ledger;
    }

    /** The callback as it should be applied: {@code canceled} if it reports the end of a call we cancelled. */
    public Mono<CarrierCallback> reclassify(CarrierCallback callback) {
        if (!mayBeOurCancel(callback)) {
            return Mono.just(callback);
        }
        return ledger.cancelRequested(callback.requestId(), callback.attempt())
                .map(ours -> ours ? canceled(callback) : callback);
    }

    /** A 487, or a {@code no-answer} without a SIP code: what an unanswered call ended by a CANCEL looks like. */
    static boolean mayBeOurCancel(CarrierCallback callback) {
        Integer sip = callback.sipStatus();
        return (callback.status() == AttemptStatus.NO_ANSWER && (sip == null || sip == 487))
                || (callback.status() == AttemptStatus.FAILED && sip != null && sip == 487);
    }

    private static CarrierCallback canceled(CarrierCallback callback) {
        return new CarrierCallback(callback.requestId(), callback.attempt(), AttemptStatus.CANCELED,
                callback.providerStatus(), callback.providerCallId(), callback.sipStatus(), callback.sipReason(),
                callback.durationSeconds(), callback.answeredBy(), callback.errorCode(), callback.dial(),
                callback.takenOver(), callback.callBound(), callback.from());
    }
}
