package dev.dialer.dispatcher.policy;

import dev.dialer.common.contract.CallCommand;
import java.time.Duration;
import org.springframework.stereotype.Component;

/**
 * What the call controls read so far say of a command, for the parts of the dispatcher that act before the dial-time
 * gate ({@link DialGate#clear}) and must agree with it; nothing is decided here, the gate still decides.
 *
 * <ul>
 *   <li>{@link #cancelled}: the lanes ask it before a command takes any caller-ID, campaign or trunk token. A
 *       cancelled campaign's backlog would otherwise wait out its caller ID's rate, one command per token, only to be
 *       ended {@code canceled}, and spend the tokens of every campaign sharing the caller ID or the trunk meanwhile;
 *       such a command goes to the gate at once.</li>
 *   <li>{@link #onDncList}: asked by the lanes likewise, so that a number on the account's DNC list is ended
 *       {@code blocked} at once rather than after its lane's turn, its caller ID's token and a trunk slot.</li>
 *   <li>{@link #paused}: the retry scheduler asks it of a call waiting for its campaign's resume, which stays in the
 *       schedule while the pause lasts instead of being published every {@code pause-recheck} to go through its
 *       lane's pacing and the gate only to wait again (each time spending the caller ID's and the trunk's rate and
 *       sending another {@code call.deferred}). A resume releases such calls at once ({@link ControlApplier}); the
 *       recheck stays as the safety net for a resume this dispatcher did not see.</li>
 * </ul>
 *
 * <p>Exact, never a guess: each answers {@code false} until the compacted topics have been read in full (a control
 * or DNC entry read before then may be superseded by a later one).
 */
@Component
public class KnownControls {

    private final PolicyViews views;
    private final PolicyProperties properties;

    KnownControls(PolicyViews views, PolicyProperties properties) {
        this.views = views;
        this.properties = properties;
    }

    /**
     * Whether the gate will not dial the command because it is cancelled: its request was cancelled, or its campaign
     * after the request was accepted (the gate ends it {@code canceled}, or finds it ended already). A paused campaign
     * is not cancelled.
     */
    public boolean cancelled(CallCommand command) {
        return views.isReady() && CallControls.cancelled(command, views.requestControl(command.requestId()),
                views.campaignControl(command.accountId(), command.campaign()));
    }

    /**
     * Whether the command's number is on its account's DNC list, as the gate reads it (a cancel comes first, and a
     * DNC entry before a passed {@code valid_until}). False until the lists have been read in full.
     */
    public boolean onDncList(CallCommand command) {
        return views.isReady() && views.onDncList(command.accountId(), command.to());
    }

    /** Whether the call's campaign is paused. */
    public boolean paused(CallCommand command) {
        return views.isReady() && CallControls.paused(views.campaignControl(command.accountId(), command.campaign()));
    }

    /** How long a paused call waits before it is looked at again. */
    public Duration pauseRecheck() {
        return properties.pauseRecheck();
    }

    /** Whether a schedule row's reason is a wait for a campaign's resume. */
    public static boolean isPauseWait(String rowReason) {
        return Reasons.PAUSED.equals(rowReason);
    }
}
