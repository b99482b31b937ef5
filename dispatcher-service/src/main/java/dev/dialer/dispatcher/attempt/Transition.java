package dev.dialer.dispatcher.attempt;

import dev.dialer.common.contract.AttemptStatus;
import java.util.Arrays;
import java.util.List;

/**
 * A status change an attempt should make, with what the carrier said about it.
 *
 * @param requestId      the request
 * @param attempt        the attempt number
 * @param to             the new status
 * @param providerStatus the carrier's raw status, if any
 * @param providerCallId the carrier's id of the call, if known
 * @param sipStatus      SIP response code, if known
 * @param sipReason      SIP reason phrase, if known
 * @param dial           which dial of the attempt the carrier reports on (the tag's {@code dial}): the change happens
 *                       only while that dial is the attempt's current one; {@code null} when the report names none
 *                       (the dialer's own decisions, a SIP call kept before its dial was, an older tag)
 * @param callBound      the change is about the call {@code providerCallId} names, which may not be the attempt's any
 *                       more, or never was: it happens only while the attempt's call is that one, or not yet known (a
 *                       Voice Gateway callback, whose {@code call_sid} is the call's and whose tag the call's
 *                       application can rewrite; the report of a SIP call taken over from a dispatcher that stopped,
 *                       whose kept row may have outlived its dial)
 * @param from           the status the change was decided from, when it holds only while the attempt is still in it:
 *                       the watchdog's inference about a quiet attempt (a call the carrier no longer knows ends as it
 *                       stood when claimed), which news that came since the claim makes wrong; {@code null} for a
 *                       change that holds from any status {@link #predecessorsOf} allows (what the carrier reported)
 */
public record Transition(String requestId, int attempt, AttemptStatus to, String providerStatus,
                         String providerCallId, Integer sipStatus, String sipReason, Integer dial, boolean callBound,
                         AttemptStatus from) {

    /** A change from whichever status the attempt is in, of those {@link #predecessorsOf} allows. */
    public Transition(String requestId, int attempt, AttemptStatus to, String providerStatus, String providerCallId,
                      Integer sipStatus, String sipReason, Integer dial, boolean callBound) {
        this(requestId, attempt, to, providerStatus, providerCallId, sipStatus, sipReason, dial, callBound, null);
    }

    /** A change about whichever call the attempt's {@code dial} placed. */
    public Transition(String requestId, int attempt, AttemptStatus to, String providerStatus, String providerCallId,
                      Integer sipStatus, String sipReason, Integer dial) {
        this(requestId, attempt, to, providerStatus, providerCallId, sipStatus, sipReason, dial, false);
    }

    /** A change that names no dial: it applies to whichever dial the attempt is on. */
    public Transition(String requestId, int attempt, AttemptStatus to, String providerStatus, String providerCallId,
                      Integer sipStatus, String sipReason) {
        this(requestId, attempt, to, providerStatus, providerCallId, sipStatus, sipReason, null, false);
    }

    /**
     * The statuses this transition may start from: the attempt only moves forward
     * ({@code queued → initiated → ringing → in-progress}), a terminal status may end any attempt that has not
     * ended, and nothing follows a terminal status. So a repeated {@code ringing}, a late {@code initiated} or a
     * second final callback change nothing.
     */
    public static List<AttemptStatus> predecessorsOf(AttemptStatus target) {
        return Arrays.stream(AttemptStatus.values())
                .filter(status -> !status.isTerminal())
                .filter(status -> target.isTerminal() || status.ordinal() < target.ordinal())
                .toList();
    }

    /**
     * The statuses this transition may start from: {@link #predecessorsOf} its target, narrowed to {@link #from} when
     * it names one (none, when that status may not move there).
     */
    public List<AttemptStatus> allowedFrom() {
        List<AttemptStatus> predecessors = predecessorsOf(to);
        return from == null ? predecessors : predecessors.contains(from) ? List.of(from) : List.of();
    }
}
