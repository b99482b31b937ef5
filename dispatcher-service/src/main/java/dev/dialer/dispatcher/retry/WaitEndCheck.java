package dev.dialer.dispatcher.retry;

import dev.dialer.common.contract.CallCommand;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import reactor.core.publisher.Flux;
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

    /**
     * The request ids of {@code released} (commands whose waits ended, each with the attempt about to be released)
     * still to be called: one question for a whole claim where the check can ask that way, by default
     * {@link #stillWanted} for each.
     */
    default Mono<Set<String>> stillWantedOf(List<CallCommand> released) {
        return Flux.fromIterable(released)
                .concatMap(command -> stillWanted(command, command.attempt())
                        .filter(Boolean::booleanValue)
                        .map(wanted -> command.requestId()))
                .collect(Collectors.toSet());
    }
}
