package dev.dialer.dispatcher.carrier.sip;

import java.util.Collection;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Where the SIP trunk carrier keeps its calls while they run, under a lease per carrier instance, so a process that
 * dies does not take its calls' state with it ({@link PostgresDialogStore}).
 */
interface DialogStore {

    /** Records the call (or its new state), held by this carrier instance. */
    Mono<Void> save(SipDialog dialog);

    /** The call ended: nothing is left to do for it. */
    Mono<Void> forget(String callId);

    /** A call someone recorded and nobody has ended yet; empty when there is none. */
    Mono<SipDialog> find(String callId);

    /**
     * Asks whoever holds the call to hang it up (it is read with {@link #hangUpsRequested}); false when nobody keeps
     * the call (it ended, or was never kept).
     */
    Mono<Boolean> requestHangUp(String callId);

    /** The calls this instance holds whose hang-up was asked for, by {@link #requestHangUp} anywhere. */
    Flux<String> hangUpsRequested();

    /**
     * Extends the lease on these calls, which this instance holds and still runs. Only those: a call that ended but
     * whose {@link #forget} failed must lapse, so that someone deletes it, rather than be kept for ever.
     */
    Mono<Void> renewLeases(Collection<String> running);

    /** Lets another instance take this instance's calls over at once (on an orderly stop). */
    Mono<Void> releaseLeases();

    /** Lets another instance take one call over at once (its recovery here failed). */
    Mono<Void> release(String callId);

    /** Takes over, under a new lease, up to {@code limit} calls whose holder's lease has lapsed. */
    Flux<SipDialog> claimOrphans(int limit);
}
