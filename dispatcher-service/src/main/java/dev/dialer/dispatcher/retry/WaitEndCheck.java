package dev.dialer.dispatcher.retry;

import dev.dialer.common.contract.CallCommand;
import reactor.core.publisher.Mono;

/**
 * Asked when a wait ends, before the waiting attempt is released: is the request still to be called? Cancellation,
 * DNC and TTL checks (ARCHITECTURE.md §5) belong here, next to the check that the request has not ended.
 */
public interface WaitEndCheck {

    /**
     * @param command the request's command
     * @param attempt the attempt about to be released
     * @return whether to release it; {@code false} drops the attempt
     */
    Mono<Boolean> stillWanted(CallCommand command, int attempt);
}
