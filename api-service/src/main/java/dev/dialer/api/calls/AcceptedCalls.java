package dev.dialer.api.calls;

import dev.dialer.api.ids.TimeOrderedUuids;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import reactor.core.publisher.Mono;

/** Where the send paths record the calls they accepted as {@code queued}; {@link CallLedger} in the service. */
@FunctionalInterface
public interface AcceptedCalls {

    /**
     * A send whose calls' ids are {@code id} with each recipient's index ({@link TimeOrderedUuids#ofRecipient}), and
     * which share everything but the callee.
     *
     * @param callees by recipient index; null where that recipient was not queued
     */
    record Send(UUID id, String callerId, String campaign, int maxAttempts, Instant createdAt, List<String> callees) {

        /** Its calls, one {@link CallLedger.Accepted} each, in recipient order. */
        public List<CallLedger.Accepted> calls() {
            List<CallLedger.Accepted> calls = new ArrayList<>();
            for (int index = 0; index < callees.size(); index++) {
                if (callees.get(index) != null) {
                    calls.add(new CallLedger.Accepted(TimeOrderedUuids.ofRecipient(id, index).toString(), callerId,
                            callees.get(index), campaign, null, maxAttempts));
                }
            }
            return calls;
        }
    }

    /** Records the calls as {@code queued} in one statement, inside the caller's transaction when there is one. */
    Mono<Void> recordAccepted(String accountId, List<CallLedger.Accepted> calls, Instant createdAt);

    /**
     * Records the calls as {@code queued}, outside any transaction, possibly in one statement with other requests'
     * rows; completes once these rows are written.
     */
    default Mono<Void> recordAcceptedShared(String accountId, List<CallLedger.Accepted> calls, Instant createdAt) {
        return recordAccepted(accountId, calls, createdAt);
    }

    /**
     * Records a send's calls as {@code queued}, outside any transaction, possibly in one statement with other
     * requests'; completes once they are written. By default a row per call, as {@link #recordAcceptedShared}.
     */
    default Mono<Void> recordSent(String accountId, Send send) {
        return recordAcceptedShared(accountId, send.calls(), send.createdAt());
    }
}
