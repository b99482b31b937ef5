package dev.dialer.dispatcher.policy;

import reactor.core.publisher.Mono;

/** Ends a live call at the carrier, for a cancel: a ringing call is cancelled, an answered one hung up. */
public interface CallHangUp {

    /** What the carrier did. */
    enum Result {
        /** The carrier accepted: its status callback will report the call's end. */
        ENDED,
        /** The call had ended already (or the carrier does not know it): nothing to hang up. */
        ALREADY_OVER
    }

    /**
     * @param providerCallId the carrier's id of the call
     * @param answered       whether the call is known to be answered (otherwise it is treated as ringing)
     * @return the result; an error when the carrier could not be asked (unreachable, timed out, 5xx)
     */
    Mono<Result> hangUp(String providerCallId, boolean answered);
}
