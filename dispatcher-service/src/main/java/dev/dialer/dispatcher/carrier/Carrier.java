package dev.dialer.dispatcher.carrier;

import dev.dialer.common.contract.CallCommand;
import reactor.core.publisher.Mono;

/**
 * Places calls. The seam between dispatching and a carrier's protocol: the Voice Gateway REST API today, a SIP trunk
 * later. Status changes come back separately, as callbacks.
 */
public interface Carrier {

    /**
     * Asks the carrier to place the command's call, once: implementations never retry, because a retried request
     * could ring the callee twice.
     *
     * @return the carrier's ids for the call once it accepted it; or a {@link CarrierException} when it refused,
     *         timed out or could not be reached
     */
    Mono<PlacedCall> place(CallCommand command);
}
