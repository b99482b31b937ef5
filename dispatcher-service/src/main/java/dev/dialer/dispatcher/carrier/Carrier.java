package dev.dialer.dispatcher.carrier;

import dev.dialer.common.contract.CallCommand;
import java.time.Duration;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Places calls. The seam between dispatching and a carrier's protocol: the Voice Gateway REST API or a SIP trunk.
 * Status changes come back separately, as callbacks; {@link #status} asks for them when they stop coming.
 */
public interface Carrier {

    /**
     * Asks the carrier to place the command's call, once: implementations never retry, because a retried request
     * could ring the callee twice.
     *
     * @param dial which dial of the attempt this is ({@code AttemptLedger#claimDial}): 1, or more when the attempt is
     *             dialled again after the carrier took no call. A carrier whose callbacks echo a tag carries it, so
     *             that a callback of an earlier dial is told apart from the current one's
     *
     * @return the carrier's ids for the call once it accepted it; or a {@link CarrierException} when it refused,
     *         timed out or could not be reached
     */
    Mono<PlacedCall> place(CallCommand command, int dial);

    /**
     * What the carrier knows about a call it was asked to place (reconciliation of calls that went quiet).
     *
     * @return the call's state; empty when the carrier knows no such call; a {@link CarrierException} when it could
     *         not be asked
     */
    Mono<CallReport> status(CallRef call);

    /**
     * Cancels a call while it rings, for a cancel of its request. A call answered by the time the carrier is asked is
     * left to talk: a person is on the line, and a cancel never hangs up on anyone. The outcome arrives as a status
     * callback.
     *
     * @return {@code false} once the carrier took the order; {@code true} when the call was found answered and left to
     *         talk (the cancel came too late); empty when the call is already over or unknown
     */
    Mono<Boolean> hangUp(CallRef call);

    /**
     * Whether asking to place the command's call now could reach a carrier: false only while every carrier of its
     * route refuses without trying (its circuit breaker open, or half-open with its probes made). Lanes hold their
     * calls meanwhile instead of dialling them into certain refusal.
     */
    default boolean accepting(CallCommand command) {
        return true;
    }

    /**
     * Whether the carrier can address the command's destination at all; one that cannot refuses it before sending
     * anything ({@code unsupported_target}), and the route's next carrier takes the call.
     */
    default boolean reaches(CallCommand command) {
        return true;
    }

    /**
     * The trunk whose limits pace the command's call now: the carrier it would be tried on first. Null when the
     * carrier names no trunks ({@link #trunks}).
     */
    default String trunkOf(CallCommand command) {
        return null;
    }

    /** The trunks calls go out over, one per carrier, the one of the default route first; empty when not named. */
    default List<String> trunks() {
        return List.of();
    }

    /**
     * The carrier's own timeout of a create-call request, which tells a request never sent (unreachable) from one
     * that may have placed the call, as a timeout around it cannot: such a timeout must be the longer. Null when the
     * carrier has none.
     */
    default Duration requestTimeout() {
        return null;
    }

    /**
     * Whether the carrier can be asked, outside any call, whether it answers at all ({@link #probe}).
     */
    default boolean probes() {
        return false;
    }

    /**
     * Asks the carrier, outside any call, whether it answers at all: completes when it answered as a working carrier
     * does; errors with a {@link CarrierException} when it did not (no connection, no answer in time, an answer a
     * create-call would take for a technical failure). Empty for a carrier that does not {@link #probes}.
     */
    default Mono<Void> probe() {
        return Mono.empty();
    }

    /**
     * Asks each carrier that {@link #probes} and has had no request of this dialer's for {@code idle} whether it
     * answers, through its breaker, so that a carrier gone silent while no call goes to it (its trunk full of calls
     * whose ends will never come) is found out; completes when the answers are in, never errors.
     */
    default Mono<Void> probeIdle(Duration idle) {
        return Mono.empty();
    }

    /** The trunks whose carrier takes no calls now: its breaker open, or half-open with its probes made. */
    default List<String> trunksOutOfService() {
        return List.of();
    }
}
