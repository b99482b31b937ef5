package dev.dialer.api.calls;

import java.time.Instant;
import java.util.List;
import reactor.core.publisher.Mono;

/** Where the send paths record the calls they accepted as {@code queued}; {@link CallLedger} in the service. */
@FunctionalInterface
public interface AcceptedCalls {

    /** Records the calls as {@code queued} in one statement, inside the caller's transaction when there is one. */
    Mono<Void> recordAccepted(String accountId, List<CallLedger.Accepted> calls, Instant createdAt);

    /**
     * Records the calls as {@code queued}, outside any transaction, possibly in one statement with other requests'
     * rows; completes once these rows are written.
     */
    default Mono<Void> recordAcceptedShared(String accountId, List<CallLedger.Accepted> calls, Instant createdAt) {
        return recordAccepted(accountId, calls, createdAt);
    }
}
