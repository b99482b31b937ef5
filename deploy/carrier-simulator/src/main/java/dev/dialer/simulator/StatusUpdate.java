package dev.dialer.simulator;

/**
 * One change of a call's status, as carried by a jambonz status callback, or an answering-machine result (posted to
 * the request's {@code amd.actionHook} instead, while the call stays {@code in-progress}).
 *
 * @param callStatus  jambonz {@code call_status}
 * @param sipStatus   the SIP response code behind it
 * @param sipReason   the SIP reason phrase
 * @param duration    whole seconds of talk, only on {@code completed}
 * @param terminatedBy {@code caller} (far end hung up) or {@code jambonz}, only on {@code completed}
 * @param amdType      jambonz's answering-machine event type ({@code amd_human_detected}, …), only on a result
 */
record StatusUpdate(String callStatus, int sipStatus, String sipReason, Long duration, String terminatedBy,
                    String amdType) {

    StatusUpdate(String callStatus, int sipStatus, String sipReason, Long duration, String terminatedBy) {
        this(callStatus, sipStatus, sipReason, duration, terminatedBy, null);
    }

    static final StatusUpdate TRYING = new StatusUpdate("trying", 100, "Trying", null, null);
    static final StatusUpdate RINGING = new StatusUpdate("ringing", 180, "Ringing", null, null);
    static final StatusUpdate IN_PROGRESS = new StatusUpdate("in-progress", 200, "OK", null, null);
    static final StatusUpdate BUSY = new StatusUpdate("busy", 486, "Busy Here", null, null);
    static final StatusUpdate NO_ANSWER = new StatusUpdate("no-answer", 487, "Request Terminated", null, null);
    static final StatusUpdate FAILED = new StatusUpdate("failed", 500, "Internal Server Error", null, null);
    static final StatusUpdate CAPACITY_REJECTED =
            new StatusUpdate("failed", 503, "Max Account Calls In Progress", null, null);

    static StatusUpdate completed(long durationSeconds, String terminatedBy) {
        return new StatusUpdate("completed", 200, "OK", durationSeconds, terminatedBy);
    }

    /** An answering-machine result on an answered call. */
    static StatusUpdate answeringMachine(String amdType) {
        return new StatusUpdate("in-progress", 200, "OK", null, null, amdType);
    }

    boolean isAnsweringMachineResult() {
        return amdType != null;
    }

    /** No callback follows a final status. */
    boolean isFinal() {
        return switch (callStatus) {
            case "completed", "failed", "busy", "no-answer" -> true;
            default -> false;
        };
    }

    /** Whether the far end has not answered yet, so the call can still be cancelled. */
    boolean isUnanswered() {
        return switch (callStatus) {
            case "trying", "ringing", "early-media" -> true;
            default -> false;
        };
    }
}
