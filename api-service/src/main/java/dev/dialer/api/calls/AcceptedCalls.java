package dev.dialer.api.calls;

import java.time.Instant;
import java.util.List;
import reactor.core.publisher.Mono;

/** Where the send paths record the calls they accepted as {@code queued}; {@link CallLedger} in the service. */
@FunctionalInterface
public interface AcceptedCalls {

    Mono<Void> recordAccepted(String accountId, List<CallLedger.Accepted> calls, Instant createdAt);
}
