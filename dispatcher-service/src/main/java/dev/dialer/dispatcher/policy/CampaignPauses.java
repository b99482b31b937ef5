package dev.dialer.dispatcher.policy;

import dev.dialer.common.contract.CallCommand;
import java.time.Duration;
import org.springframework.stereotype.Component;

/**
 * Whether a call's campaign is paused now, for the retry scheduler: a call waiting for its campaign's resume is kept in
 * the schedule while the pause lasts, instead of being published every {@code pause-recheck} to go through its lane's
 * pacing and the dial-time policy only to wait again (each time spending the caller ID's and the trunk's rate and
 * sending another {@code call.deferred} to the customer's webhooks). A resume releases such calls at once
 * ({@link ControlApplier}); the recheck stays as the safety net for a resume this dispatcher did not see.
 */
@Component
public class CampaignPauses {

    private final PolicyViews views;
    private final PolicyProperties properties;

    CampaignPauses(PolicyViews views, PolicyProperties properties) {
        this.views = views;
        this.properties = properties;
    }

    /** Whether the call's campaign is paused, as far as the call-control topic, read in full, tells. */
    public boolean paused(CallCommand command) {
        return views.isReady() && CallControls.paused(views.campaignControl(command.accountId(), command.campaign()));
    }

    /** How long a paused call waits before it is looked at again. */
    public Duration recheck() {
        return properties.pauseRecheck();
    }

    /** The schedule's reason for a call waiting for its campaign's resume. */
    public static boolean isPauseWait(String rowReason) {
        return Reasons.PAUSED.equals(rowReason);
    }
}
