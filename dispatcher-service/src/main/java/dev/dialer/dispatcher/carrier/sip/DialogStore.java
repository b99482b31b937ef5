package dev.dialer.dispatcher.carrier.sip;

import java.util.Collection;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Where the SIP trunk carrier keeps its calls while they run, under a lease per carrier instance, so a process that
 * dies does not take its calls' state with it ({@link PostgresDialogStore}).
 */
interface DialogStore {

    /**
     * Records a new call, held by this carrier instance (again, harmlessly, if this instance already did); fails when
     * another instance holds a call of that id.
     */
    Mono<Void> save(SipDialog dialog);

    /**
     * Records a kept call's new state, only while this instance still holds it: false when another instance took it
     * over (its lease lapsed) or ended it already, and then nothing is written.
     */
    Mono<Boolean> update(SipDialog dialog);

    /** The call ended: nothing is left to do for it. Deletes it only while this instance holds it. */
    Mono<Void> forget(String callId);

    /** A call someone recorded and nobody has ended yet; empty when there is none. */
    Mono<SipDialog> find(String callId);

    /**
     * Asks whoever holds the call to hang it up (it is read with {@link #hangUpsRequested}), unless it is kept as
     * answered ({@link SipDialog.State#CONFIRMED}: a person is on the line, and it talks on). Emits the kept call's
     * state; empty when nobody keeps the call (it ended, or was never kept).
     */
    Mono<SipDialog.State> requestHangUp(String callId);

    /** The calls this instance holds whose hang-up was asked for, by {@link #requestHangUp} anywhere. */
    Flux<String> hangUpsRequested();

    /**
     * Extends the lease on these calls, which this instance kept and still runs. Only those: a call that ended but
     * whose {@link #forget} failed must lapse, so that someone deletes it, rather than be kept for ever. Answers those
     * of them this instance no longer holds: taken over by another (or ended by it) after this one's lease lapsed.
     */
    Flux<String> renewLeases(Collection<String> running);

    /** Lets another instance take this instance's calls over at once (on an orderly stop). */
    Mono<Void> releaseLeases();

    /** Lets another instance take one call over at once (its recovery here failed). */
    Mono<Void> release(String callId);

    /** Takes over, under a new lease, up to {@code limit} calls whose holder's lease has lapsed. */
    Flux<SipDialog> claimOrphans(int limit);
}
