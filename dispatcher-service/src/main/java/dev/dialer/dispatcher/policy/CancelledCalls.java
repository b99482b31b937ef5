package dev.dialer.dispatcher.policy;

import dev.dialer.common.contract.CallCommand;
import org.springframework.stereotype.Component;

/**
 * Whether a command's call is cancelled, as the dial-time gate will find it ({@link DialGate#clear}): its request was
 * cancelled, or its campaign was cancelled after the request was accepted. The lanes ask it before a command takes any
 * caller-ID, campaign or trunk token: a cancelled campaign's backlog would otherwise wait out its caller ID's rate, one
 * command per token, only to be ended {@code canceled}, and spend the tokens of every campaign sharing the caller ID or
 * the trunk meanwhile. Such a command is handed to the gate at once, which still decides; nothing is decided here.
 *
 * <p>Exact, never a guess: the answer is {@code false} until the call-control topic has been read in full (a cancel
 * read before then may be superseded by a later control), and a paused campaign is not cancelled (its calls wait at the
 * gate, paced as ever).
 */
@Component
public class CancelledCalls {

    private final PolicyViews views;

    CancelledCalls(PolicyViews views) {
        this.views = views;
    }

    /**
     * Whether the gate will not dial the command because it is cancelled, from what is known in memory now: it ends the
     * request {@code canceled} (or finds it ended already).
     */
    public boolean cancelled(CallCommand command) {
        return views.isReady() && CallControls.cancelled(command, views.requestControl(command.requestId()),
                views.campaignControl(command.accountId(), command.campaign()));
    }
}
