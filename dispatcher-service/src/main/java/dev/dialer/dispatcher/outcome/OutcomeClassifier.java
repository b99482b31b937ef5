package dev.dialer.dispatcher.outcome;

import dev.dialer.common.contract.AttemptStatus;
import java.util.Locale;
import java.util.Set;

/**
 * Classifies an attempt's terminal status and SIP response into an {@link Outcome}, following the outcome table the
 * README describes (retries and outcomes). Pure and stateless.
 *
 * <ul>
 *   <li>capacity rejection: 503 whose reason names "calls in progress" or an {@code X-Call-Limit} (the SIP trunk
 *       carrier adds it to the reason when the 503 carries that header), 403 naming a channel limit, 429; never one
 *       marked as coming after the call rang ({@link #AFTER_RINGING}: the SIP trunk carrier marks it, the callback
 *       applier when the attempt's ledger says it rang);</li>
 *   <li>decline: 603, reported as busy, not retried;</li>
 *   <li>unreachable: 404, 484, 410, 604;</li>
 *   <li>retryable: busy (486, 600), no-answer (487, 480, 408), transient failures (500, 502, 504, any other 503)
 *       and, not in the table, any other 5xx and a 401 or 407 (the trunk refused the credentials it was given, or
 *       asked for some none were configured for: wrong for every call until mended there, never the callee's
 *       doing); a busy or no-answer code is reported as such, whatever status the carrier gave it (jambonz reports
 *       every SIP error but 486, 487 and 603 as {@code failed});</li>
 *   <li>any other failure (a 4xx the table does not name, such as 400 or 488) is treated as unreachable: it will fail
 *       the same way again.</li>
 * </ul>
 */
public final class OutcomeClassifier {

    private static final Set<Integer> UNREACHABLE = Set.of(404, 484, 410, 604);
    private static final Set<Integer> BUSY = Set.of(486, 600);
    private static final Set<Integer> NO_ANSWER = Set.of(487, 480, 408);
    /** The trunk refused the dialer's (or the carrier's) credentials: its fault, mended there, not the callee's. */
    private static final Set<Integer> AUTHENTICATION = Set.of(401, 407);

    /**
     * What is appended to the reason of a refusal that looks like a capacity rejection but came after the call rang
     * (by the SIP trunk carrier, or by the callback applier for a Voice Gateway call the ledger saw ringing): the
     * callee's phone rang, so requeued under the same attempt it would ring them again for one attempt. It is
     * classified as its code is without the capacity reading.
     */
    public static final String AFTER_RINGING = " (after ringing)";

    /** {@code reason} marked as coming after the call rang ({@link #AFTER_RINGING}). */
    public static String afterRinging(String reason) {
        return reason == null ? AFTER_RINGING.strip() : reason + AFTER_RINGING;
    }

    /**
     * @param status    a terminal attempt status, as mapped from the carrier's status
     * @param sipStatus the SIP response code, when the carrier reported one
     * @param sipReason the SIP reason phrase, when the carrier reported one
     * @throws IllegalArgumentException when {@code status} is not terminal
     */
    public Outcome classify(AttemptStatus status, Integer sipStatus, String sipReason) {
        if (!status.isTerminal()) {
            throw new IllegalArgumentException("not a terminal status: " + status.wire());
        }
        int sip = sipStatus == null ? 0 : sipStatus;
        return switch (status) {
            case COMPLETED -> new Outcome(Verdict.ANSWERED, status);
            case CANCELED -> new Outcome(Verdict.CANCELED, status);
            default -> classifyUnanswered(status, sip, sipReason);
        };
    }

    private Outcome classifyUnanswered(AttemptStatus status, int sip, String reason) {
        if (isCapacitySignal(sip, reason)) {
            return new Outcome(Verdict.CAPACITY, status);
        }
        if (sip == 603) {
            return new Outcome(Verdict.DECLINED, AttemptStatus.BUSY);
        }
        if (UNREACHABLE.contains(sip)) {
            return new Outcome(Verdict.UNREACHABLE, status);
        }
        if (BUSY.contains(sip)) {
            return new Outcome(Verdict.RETRYABLE, AttemptStatus.BUSY);
        }
        if (NO_ANSWER.contains(sip)) {
            return new Outcome(Verdict.RETRYABLE, AttemptStatus.NO_ANSWER);
        }
        if (status == AttemptStatus.BUSY || status == AttemptStatus.NO_ANSWER || (sip >= 500 && sip < 600)
                || AUTHENTICATION.contains(sip)) {
            return new Outcome(Verdict.RETRYABLE, status);
        }
        // jambonz reports errors that are not SIP responses as failed with 500; no code at all is just as unknown.
        if (sip == 0) {
            return new Outcome(Verdict.RETRYABLE, status);
        }
        return new Outcome(Verdict.UNREACHABLE, status);
    }

    /**
     * Whether a refusal says the carrier had no room for the call (see the class), and so is requeued under the same
     * attempt; never one whose reason ends with {@link #AFTER_RINGING}.
     */
    public static boolean isCapacitySignal(int sip, String reason) {
        String text = reason == null ? "" : reason.toLowerCase(Locale.ROOT);
        if (reason != null && reason.endsWith(AFTER_RINGING.strip())) {
            return false;
        }
        return sip == 429
                || (sip == 503 && (text.contains("calls in progress") || text.contains("x-call-limit")))
                || (sip == 403 && text.contains("channel limit"));
    }
}
