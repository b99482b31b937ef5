package dev.dialer.common.contract;

import java.util.Set;

/**
 * The {@code reason}s of an event that gives its attempt's dial back: nobody was rung for it, so it counts against no
 * per-callee cap. A {@code call.deferred} under the same attempt number ({@link #CAPACITY}: the carrier refused the
 * call for its capacity; {@link #CARRIER_UNAVAILABLE}: no carrier could take it now), or the attempt's
 * {@code call.status failed} when no carrier placed a call for it ({@link #CAPACITY}, {@link #NOT_PLACED}; its
 * {@code call.status canceled}, {@link #CAPACITY}, when a cancel of the request crossed the refusal). The
 * dispatcher writes them; api-service's read model forgets the dial they name (decision 0074).
 */
public final class DialGivenBack {

    /** The carrier refused the call for its capacity; also the {@code error.code} of a request that ends so. */
    public static final String CAPACITY = "capacity";
    /** No carrier could take the call: every one configured for its route was out of service. */
    public static final String CARRIER_UNAVAILABLE = "carrier_unavailable";
    /** No carrier placed a call for the attempt, other than for its capacity: it rang nobody. */
    public static final String NOT_PLACED = "not_placed";

    private static final Set<String> REASONS = Set.of(CAPACITY, CARRIER_UNAVAILABLE, NOT_PLACED);

    private DialGivenBack() {
    }

    /** Whether an event of one of these kinds with this {@code reason} gives its attempt's dial back. */
    public static boolean by(String reason) {
        return reason != null && REASONS.contains(reason);
    }
}
