package dev.dialer.dispatcher.policy;

import dev.dialer.common.policy.PolicyDecision;

/**
 * Why a call waits, in the two vocabularies that name it: the {@code reason} of its {@code dispatch.schedule} row,
 * and the {@code reason} of its {@code call.deferred} event (the one {@link PolicyDecision} uses, which the
 * compliance preview answers with too).
 */
final class Reasons {

    static final String WINDOW_ROW = "window";
    static final String CAP_ROW = "cap";
    static final String PAUSED = PolicyDecision.PAUSED;
    static final String WINDOW_EVENT = PolicyDecision.CALLING_WINDOW;
    static final String CAP_EVENT = PolicyDecision.CALLEE_CAP;

    private Reasons() {
    }

    /** The schedule row's reason for a policy deferral. */
    static String rowReason(String decisionReason) {
        return PolicyDecision.CALLEE_CAP.equals(decisionReason) ? CAP_ROW : WINDOW_ROW;
    }
}
