package dev.dialer.common.policy;

import java.time.Instant;

/**
 * The answer of {@link DialPolicy}.
 *
 * @param verdict   what to do
 * @param reason    why, for {@link Verdict#BLOCK}, {@link Verdict#DEFER} and {@link Verdict#EXPIRE}: one of the
 *                  constants below (they travel in events and in the preview's answer)
 * @param notBefore for {@link Verdict#DEFER}: when the call may be placed; null for {@link #PAUSED}, which waits
 *                  for the campaign's resume
 */
public record PolicyDecision(Verdict verdict, String reason, Instant notBefore) {

    public static final String DNC = "dnc";
    public static final String CALLER_ID_NOT_ALLOWED = "caller_id_not_allowed";
    public static final String FLOW_NOT_ALLOWED = "flow_not_allowed";
    public static final String VALID_UNTIL = "valid_until";
    public static final String CALLEE_CAP = "callee_cap";
    public static final String CALLING_WINDOW = "calling_window";
    public static final String PAUSED = "paused";

    public enum Verdict {
        /** Place the call now. */
        DIAL,
        /** Wait until {@code notBefore} (a paused campaign: until it is resumed), then decide again. */
        DEFER,
        /** End the request {@code blocked}. */
        BLOCK,
        /** End the request {@code expired}. */
        EXPIRE
    }

    static PolicyDecision dial() {
        return new PolicyDecision(Verdict.DIAL, null, null);
    }

    static PolicyDecision defer(String reason, Instant notBefore) {
        return new PolicyDecision(Verdict.DEFER, reason, notBefore);
    }

    static PolicyDecision block(String reason) {
        return new PolicyDecision(Verdict.BLOCK, reason, null);
    }

    static PolicyDecision expire() {
        return new PolicyDecision(Verdict.EXPIRE, VALID_UNTIL, null);
    }
}
