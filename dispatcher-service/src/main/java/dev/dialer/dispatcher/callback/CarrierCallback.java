package dev.dialer.dispatcher.callback;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.db.PostgresText;
import dev.dialer.dispatcher.outcome.OutcomeClassifier;

/**
 * A verified carrier callback, in the dialer's words: what {@link CallbackApplier} applies, whether it came over HTTP,
 * from the callbacks topic, from the SIP trunk carrier or from the watchdog.
 *
 * <p>A callback that carries {@code answeredBy} is an answering-machine result ({@link AnsweredBy}): its status is the
 * {@code in-progress} it implies, and it changes the attempt's {@code answered_by}, not its status.
 *
 * <p>What the carrier said ({@code providerStatus}, {@code providerCallId}, {@code sipReason}) is kept as PostgreSQL
 * can store it ({@link PostgresText}): the attempt's change and its event are written in one statement, which a NUL
 * character would fail every time, and the callback would never be applied (dead-lettered from the callbacks topic;
 * the watchdog's status query, which brings the same text, would fare no better). A call id is kept so wherever it
 * arrives (the create-call's answer, {@link dev.dialer.dispatcher.carrier.PlacedCall}, or a callback), and still names
 * the same call.
 *
 * @param requestId       the request, from the correlation tag (or by the call's id, when the call's application
 *                        replaced the tag)
 * @param attempt         the attempt number, likewise
 * @param status          the attempt status the carrier's status maps to
 * @param providerStatus  the carrier's raw status (for an answering-machine result, its event type)
 * @param providerCallId  the carrier's id of the call
 * @param sipStatus       SIP response code, if reported
 * @param sipReason       SIP reason phrase, if reported
 * @param durationSeconds talk time, on a completed call
 * @param answeredBy      who answered, by answering-machine detection ({@link AnsweredBy}); {@code null} otherwise
 * @param errorCode       why the dialer itself ended the attempt (e.g. {@code dispatcher_restart}), reported as the
 *                        events' {@code error.code}; {@code null} for what the carrier reported
 * @param dial            which dial of the attempt the callback is about, from the correlation tag (an attempt is
 *                        dialled again under its number after a capacity rejection); {@code null} when the tag names
 *                        none: then it is taken to be about the current dial
 * @param takenOver       the dialer's own report of a SIP call it took over from a dispatcher that stopped (its lease
 *                        on the kept call lapsed): about that call only, which may have outlived its dial, so it is
 *                        bound to it ({@code callBound})
 * @param callBound       about the call {@code providerCallId} names only: it acts only while the attempt's call is
 *                        that one or not yet known. A Voice Gateway callback is (its {@code call_sid} is the call's,
 *                        the {@code sid} of the create-call answer, while its tag is whatever the call's application
 *                        last wrote: decision 0125), and so is the report of a SIP call taken over
 * @param from            the attempt's status the report was inferred from, when it holds only while the attempt is
 *                        still in it ({@link dev.dialer.dispatcher.attempt.Transition#from}): the watchdog's end of a
 *                        call the carrier no longer knows, or reports alive past its life; {@code null} for what a
 *                        carrier reported
 * @param carrier         the route name of the carrier that placed the call, from the correlation tag; {@code null}
 *                        when the tag names none (or the callback is not a carrier's): a capacity rejection then
 *                        shrinks the trunk holding the attempt's slot
 */
public record CarrierCallback(String requestId, int attempt, AttemptStatus status, String providerStatus,
                              String providerCallId, Integer sipStatus, String sipReason, Integer durationSeconds,
                              String answeredBy, String errorCode, Integer dial, boolean takenOver,
                              boolean callBound, AttemptStatus from, String carrier) {

    public CarrierCallback {
        callBound = callBound || takenOver;
        providerStatus = PostgresText.storable(providerStatus);
        providerCallId = PostgresText.storable(providerCallId);
        sipReason = PostgresText.storable(sipReason);
    }

    /** A callback that names no carrier. */
    public CarrierCallback(String requestId, int attempt, AttemptStatus status, String providerStatus,
                           String providerCallId, Integer sipStatus, String sipReason, Integer durationSeconds,
                           String answeredBy, String errorCode, Integer dial, boolean takenOver,
                           boolean callBound, AttemptStatus from) {
        this(requestId, attempt, status, providerStatus, providerCallId, sipStatus, sipReason, durationSeconds,
                answeredBy, errorCode, dial, takenOver, callBound, from, null);
    }

    /** A callback that holds from whichever status the attempt is in. */
    public CarrierCallback(String requestId, int attempt, AttemptStatus status, String providerStatus,
                           String providerCallId, Integer sipStatus, String sipReason, Integer durationSeconds,
                           String answeredBy, String errorCode, Integer dial, boolean takenOver,
                           boolean callBound) {
        this(requestId, attempt, status, providerStatus, providerCallId, sipStatus, sipReason, durationSeconds,
                answeredBy, errorCode, dial, takenOver, callBound, null);
    }

    /** A callback about whichever call its dial placed, or the report of a SIP call taken over. */
    public CarrierCallback(String requestId, int attempt, AttemptStatus status, String providerStatus,
                           String providerCallId, Integer sipStatus, String sipReason, Integer durationSeconds,
                           String answeredBy, String errorCode, Integer dial, boolean takenOver) {
        this(requestId, attempt, status, providerStatus, providerCallId, sipStatus, sipReason, durationSeconds,
                answeredBy, errorCode, dial, takenOver, takenOver);
    }

    /** A callback the carrier made, or the dialer about the attempt's current call. */
    public CarrierCallback(String requestId, int attempt, AttemptStatus status, String providerStatus,
                           String providerCallId, Integer sipStatus, String sipReason, Integer durationSeconds,
                           String answeredBy, String errorCode, Integer dial) {
        this(requestId, attempt, status, providerStatus, providerCallId, sipStatus, sipReason, durationSeconds,
                answeredBy, errorCode, dial, false);
    }

    /** A callback that names no dial. */
    public CarrierCallback(String requestId, int attempt, AttemptStatus status, String providerStatus,
                           String providerCallId, Integer sipStatus, String sipReason, Integer durationSeconds,
                           String answeredBy, String errorCode) {
        this(requestId, attempt, status, providerStatus, providerCallId, sipStatus, sipReason, durationSeconds,
                answeredBy, errorCode, null);
    }

    /** A status callback as the carrier reports it. */
    public CarrierCallback(String requestId, int attempt, AttemptStatus status, String providerStatus,
                           String providerCallId, Integer sipStatus, String sipReason, Integer durationSeconds) {
        this(requestId, attempt, status, providerStatus, providerCallId, sipStatus, sipReason, durationSeconds, null,
                null, null);
    }

    /**
     * This callback with its reason marked as coming after the call rang ({@link OutcomeClassifier#afterRinging}),
     * which the outcome table never reads as a capacity rejection.
     */
    public CarrierCallback afterRinging() {
        return new CarrierCallback(requestId, attempt, status, providerStatus, providerCallId, sipStatus,
                OutcomeClassifier.afterRinging(sipReason), durationSeconds, answeredBy, errorCode, dial, takenOver,
                callBound, from, carrier);
    }

    /** Whether this is an answering-machine result rather than a status change. */
    public boolean isAnsweringMachineResult() {
        return answeredBy != null;
    }
}
