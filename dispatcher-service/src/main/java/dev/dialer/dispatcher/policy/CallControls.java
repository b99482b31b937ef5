package dev.dialer.dispatcher.policy;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallControl;
import java.time.Instant;

/**
 * What the latest controls mean for one command. A request cancel is final. A campaign's latest control wins: a
 * campaign cancel covers the requests accepted up to when it was issued (later ones are a new run of the campaign), a
 * pause holds every request of the campaign until a resume replaces it.
 */
final class CallControls {

    private CallControls() {
    }

    static boolean cancelled(CallCommand command, CallControl requestControl, CallControl campaignControl) {
        if (requestControl != null && requestControl.action() == CallControl.Action.CANCEL) {
            return true;
        }
        return campaignControl != null && campaignControl.action() == CallControl.Action.CANCEL
                && acceptedBy(command.createdAt(), campaignControl.issuedAt());
    }

    static boolean paused(CallControl campaignControl) {
        return campaignControl != null && campaignControl.action() == CallControl.Action.PAUSE;
    }

    /** Whether a request accepted at {@code createdAt} was already accepted when a control was issued. */
    static boolean acceptedBy(Instant createdAt, Instant issuedAt) {
        return createdAt == null || issuedAt == null || !createdAt.isAfter(issuedAt);
    }
}
