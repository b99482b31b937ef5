package dev.dialer.dispatcher.carrier.sip;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.dispatcher.callback.CarrierCallback;
import dev.dialer.dispatcher.carrier.CallReport;
import dev.dialer.dispatcher.carrier.CarrierException;
import dev.dialer.dispatcher.carrier.PlacedCall;
import dev.dialer.dispatcher.outcome.OutcomeClassifier;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sip.ClientTransaction;
import javax.sip.Dialog;
import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;
import javax.sip.ServerTransaction;
import javax.sip.SipException;
import javax.sip.TimeoutEvent;
import javax.sip.header.CSeqHeader;
import javax.sip.header.ToHeader;
import javax.sip.message.Request;
import javax.sip.message.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * One outgoing SIP call as a state machine. Every event (the start, a response, a request from the trunk, a timer, a
 * hang-up order) is handed to the carrier's {@link Inbox}, and {@link SipTrunkCarrier} runs {@link #step} for them
 * one at a time, in order, on a Reactor worker: never on the SIP stack's listener thread, and never two at once for
 * one call, so the fields need no locks.
 *
 * <p>Rules: CANCEL only after a provisional response (a ring timeout or hang-up before one waits for it); a 200 that
 * crosses our CANCEL, or comes while one waits, is an answer like any (someone picked up); an INVITE whose final
 * answer does not follow our CANCEL in time is given up as if the 487 had come; an answered call is ended with BYE at
 * its time limit.
 * The attempt status each step produces is returned as {@link CarrierCallback}s, in order.
 *
 * <p>What must survive the process ({@link SipDialog}: the INVITE's identity, then the dialog's) changes with the state;
 * the carrier stores each change ({@link #takeKeptChange}) before it reports the step's statuses.
 */
final class SipCall {

    private static final Logger log = LoggerFactory.getLogger(SipCall.class);

    /** Why we cancel. */
    enum Cancel { RING_TIMEOUT, HANG_UP }

    /** Timer and order events; SIP events travel as the stack's own event objects. */
    enum Signal { RING_TIMEOUT, TIME_LIMIT, HANG_UP, CANCEL_UNANSWERED, SEND_INVITE, SEND_ACK, TAKEN_OVER, KEEP_AGAIN }

    /**
     * The first event: send the INVITE.
     *
     * @param answerAfterCancel how long the INVITE may go without a final answer once we cancelled it (64 × T1)
     */
    record Start(ClientTransaction invite, Duration ringTimeout, Duration answerAfterCancel) {
    }

    /** Where a call's events go to be run in order. */
    interface Inbox {
        void offer(SipCall call, Object event);
    }

    private enum State { CALLING, EARLY, ANSWERED, ENDED }

    private final String requestId;
    private final int attempt;
    private final int dial;
    private final String callId;
    private final SipSession session;
    private final Duration timeLimit;
    private final Clock clock;
    private final Inbox inbox;
    private final Sinks.One<PlacedCall> placed = Sinks.one();

    private ClientTransaction invite;
    private Dialog dialog;
    private State state = State.CALLING;
    private boolean provisional;
    private boolean ringingReported;
    private Cancel pendingCancel;
    private Cancel cancelled;
    private int challenges;
    private Instant answeredAt;
    /** The answer's reason phrase ({@code OK}), reported again with the call's end. */
    private String answerReason;
    private Disposable ringTimer;
    private Disposable limitTimer;
    private Disposable answerTimer;
    private Duration answerAfterCancel;
    private volatile CallReport report;
    /**
     * What became of the call as far as a hang-up asked of it is concerned: {@code true} once it is answered (a
     * person is on the line, a cancel is too late), {@code false} once it ended unanswered, or was taken over.
     */
    private final CompletableFuture<Boolean> answeredOrEnded = new CompletableFuture<>();
    private SipDialog kept;
    private boolean keptChanged;
    private long invitedAtNanos;
    private Duration firstResponseAfter;
    private boolean firstResponseTaken;
    /** The To tags of the 2xx answers to our INVITE taken so far: the call's own, then any other fork's. */
    private final Set<String> answeredTags = new HashSet<>(2);
    private int forkedAnswers;
    private int answersAfterEnd;
    /** An INVITE with credentials waits to be kept before it goes out; {@link #takeInviteToSend} asks for it once. */
    private boolean inviteUnsent;
    private boolean inviteSendAsked;
    /**
     * The answer's ACK waits for what is kept to say the call was answered ({@link #takeAckToSend}): once the trunk has
     * our ACK it never sends its 2xx again, and a dispatcher that took over a call kept as ringing would cancel it (a
     * CANCEL after the final answer does nothing) rather than hang it up, leaving the line open. Sent before anything
     * else the call does, however it comes.
     */
    private boolean ackUnsent;
    private boolean ackSendAsked;
    private long ackCSeq;
    private String ackTag;
    /** Whether the INVITE now in flight got any response; one that got none when it timed out counts for the trunk. */
    private boolean inviteHeard;
    private int unansweredInvites;

    /**
     * @param dial which dial of the attempt this call is: its statuses name it, so that a late or repeated status of an
     *             earlier dial (delivered again through the callbacks topic) never acts on a later one
     */
    SipCall(String requestId, int attempt, int dial, String callId, SipSession session, Duration timeLimit,
            Clock clock, Inbox inbox, SipDialog kept) {
        this.kept = kept;
        this.inbox = inbox;
        this.requestId = requestId;
        this.attempt = attempt;
        this.dial = dial;
        this.callId = callId;
        this.session = session;
        this.timeLimit = timeLimit;
        this.clock = clock;
        this.report = new CallReport(AttemptStatus.INITIATED, "trying", callId, null, null, null);
    }

    String callId() {
        return callId;
    }

    /** Emits the call once its INVITE is out, or the error that kept it from going out. */
    Mono<PlacedCall> placed() {
        return placed.asMono();
    }

    /**
     * Completes {@code true} once the call is answered, {@code false} once it ended without an answer (or another
     * dispatcher took it over): what a cancel of it came to, a callee's answer crossing our CANCEL included.
     */
    CompletableFuture<Boolean> answeredOrEnded() {
        return answeredOrEnded;
    }

    /** What the call looks like now, for reconciliation. */
    CallReport report() {
        return report;
    }

    boolean ended() {
        return state == State.ENDED;
    }

    /** What must survive the process of this call, as it stands. */
    SipDialog kept() {
        return kept;
    }

    /** The kept state if it changed since the last call, once; empty otherwise. */
    Optional<SipDialog> takeKeptChange() {
        if (!keptChanged) {
            return Optional.empty();
        }
        keptChanged = false;
        return Optional.of(kept);
    }

    /**
     * The kept state could not be stored: it is to be stored again ({@link #takeKeptChange} gives it once more),
     * unless it changed since, in which case the newer one is.
     */
    void keepAgain() {
        keptChanged = true;
    }

    /** How long the trunk took to answer the INVITE at all (its first response), once; empty before or after. */
    Optional<Duration> takeFirstResponseDelay() {
        if (firstResponseAfter == null || firstResponseTaken) {
            return Optional.empty();
        }
        firstResponseTaken = true;
        return Optional.of(firstResponseAfter);
    }

    /**
     * Whether an INVITE waits for its {@link Signal#SEND_INVITE}, which the carrier offers once the kept state naming it
     * is stored; true once per such INVITE.
     */
    boolean takeInviteToSend() {
        if (!inviteUnsent || inviteSendAsked) {
            return false;
        }
        inviteSendAsked = true;
        return true;
    }

    /**
     * Whether the answer's ACK waits for its {@link Signal#SEND_ACK}, which the carrier offers once the kept state
     * saying the call was answered is stored (or could not be); true once per answer.
     */
    boolean takeAckToSend() {
        if (!ackUnsent || ackSendAsked) {
            return false;
        }
        ackSendAsked = true;
        return true;
    }

    /** The To tags of the 2xx answers to this call's INVITE taken so far ({@link #toTag}). */
    Set<String> answeredTags() {
        return Set.copyOf(answeredTags);
    }

    /** How many of this call's INVITEs timed out without any response (Timer B) since the last call; counts once. */
    int takeUnansweredInvites() {
        int taken = unansweredInvites;
        unansweredInvites = 0;
        return taken;
    }

    /** Answers to the INVITE acknowledged and hung up since the last call because they came after the call's end. */
    int takeAnswersAfterEnd() {
        int taken = answersAfterEnd;
        answersAfterEnd = 0;
        return taken;
    }

    /** How many answers from other forks of the INVITE this call hung up since the last call; counts once. */
    int takeForkedAnswers() {
        int taken = forkedAnswers;
        forkedAnswers = 0;
        return taken;
    }

    private void keep(SipDialog changed) {
        kept = changed;
        keptChanged = true;
    }

    private void offer(Object event) {
        inbox.offer(this, event);
    }

    /** Sends the INVITE and starts the ring timer; a call whose INVITE could not go out ends without a status. */
    private void start(Start start, List<CarrierCallback> out, Scheduler timers) {
        invite = start.invite();
        answerAfterCancel = start.answerAfterCancel();
        try {
            invitedAtNanos = System.nanoTime();
            invite.sendRequest();
        } catch (SipException e) {
            state = State.ENDED;
            placed.tryEmitError(new CarrierException(CarrierException.Reason.UNREACHABLE,
                    "INVITE could not be sent: " + e.getMessage(), e));
            return;
        }
        ringTimer = timers.schedule(() -> offer(Signal.RING_TIMEOUT), start.ringTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
        placed.tryEmitValue(new PlacedCall(callId, callId));
        out.add(callback(AttemptStatus.INITIATED, "trying", null, null, null));
    }

    /** One event: the SIP actions it calls for, then the attempt statuses it produced. */
    List<CarrierCallback> step(Object event, Scheduler timers) {
        List<CarrierCallback> out = new ArrayList<>(2);
        if (state == State.ENDED) {
            straggler(event);
            return out;
        }
        try {
            if (ackUnsent) {
                acknowledge(out); // whatever comes first, SEND_ACK or not: before anything else is done
            }
            if (event instanceof Start start) {
                start(start, out, timers);
            } else if (event instanceof ResponseEvent response) {
                onResponse(response, out, timers);
            } else if (event instanceof RequestEvent request) {
                onRequest(request, out);
            } else if (event instanceof TimeoutEvent timeout) {
                onTimeout(timeout, out);
            } else if (event instanceof Signal signal) {
                onSignal(signal, out, timers);
            }
        } catch (Exception e) {
            if (invite == null) {
                state = State.ENDED;
                placed.tryEmitError(new CarrierException(CarrierException.Reason.UNREACHABLE,
                        "INVITE could not be sent: " + e.getMessage(), e));
                return out;
            }
            log.warn("SIP call {} ({} attempt {}) failed on {}: {}; let go of on the wire", callId, requestId,
                    attempt, event.getClass().getSimpleName(), e.toString());
            // Ended here, the call must not go on at the trunk: a phone left ringing would ring through the next
            // attempt's wait, an answered line would stay open with its slot freed.
            letGo(timers);
            if (state != State.ANSWERED || ackUnsent) {
                end(out, AttemptStatus.FAILED, "failed", 500, "local SIP error: " + e.getMessage());
            } else {
                completed(out);
            }
        }
        return out;
    }

    private void onResponse(ResponseEvent event, List<CarrierCallback> out, Scheduler timers) throws Exception {
        Response response = event.getResponse();
        if (firstResponseAfter == null && invitedAtNanos != 0) {
            firstResponseAfter = Duration.ofNanos(System.nanoTime() - invitedAtNanos);
        }
        CSeqHeader cseq = (CSeqHeader) response.getHeader(CSeqHeader.NAME);
        if (cseq == null || !Request.INVITE.equals(cseq.getMethod())) {
            return; // answers to our CANCEL and BYE change nothing: the INVITE's final answer or our BYE decided
        }
        inviteHeard = true;
        int code = response.getStatusCode();
        if (code < 200) {
            onProvisional(response, out, timers);
        } else if (code < 300) {
            onAnswer(event, cseq, out, timers);
        } else if ((code == 401 || code == 407) && (cancelled != null || pendingCancel != null
                || session.canAuthenticate() && challenges++ == 0)) {
            // A call given up on (ring timeout, hang-up) ends as cancelled by any challenge, answerable or not.
            onChallenge(response, out);
        } else {
            String reason = reasonOf(response);
            // A capacity limit is met before the callee's phone rings: one told after it is not requeued as one.
            onRefusal(code, ringingReported && OutcomeClassifier.isCapacitySignal(code, reason)
                    ? OutcomeClassifier.afterRinging(reason) : reason, out);
        }
    }

    /**
     * The INVITE again, with credentials. It is a new INVITE transaction, which has had no provisional answer yet
     * whatever the challenged one had (a 100 before the 407), so a CANCEL waits for one again: sent sooner, it may
     * overtake its INVITE (RFC 3261 §9.1), and the trunk refuses it while the INVITE goes on to ring. A call we gave
     * up on before the challenge came (ring timeout, hang-up) is not invited again: the challenge was its INVITE's
     * final answer, so it ends here as cancelled. The new INVITE goes out only once what is kept names it (its branch
     * and CSeq): a dispatcher that died in between would leave a CANCEL built from the challenged INVITE, which the
     * trunk refuses while the call rings on ({@link #sendKeptInvite}).
     */
    private void onChallenge(Response challenge, List<CarrierCallback> out) throws SipException {
        if (cancelled != null || pendingCancel != null) {
            cancelled = cancelled != null ? cancelled : pendingCancel;
            pendingCancel = null;
            endCancelled(out, challenge.getStatusCode(), reasonOf(challenge));
            return;
        }
        invite = session.authenticate(challenge, invite);
        provisional = false;
        inviteHeard = false;
        state = State.CALLING;
        keep(SipDialog.calling(requestId, attempt, dial, kept.trunk(), invite));
        inviteUnsent = true;
        inviteSendAsked = false;
    }

    /**
     * The INVITE with credentials, now kept, goes out; a call given up meanwhile (ring timeout, hang-up) is never
     * invited again and ends as cancelled, as one given up before its challenge came.
     */
    private void sendKeptInvite(List<CarrierCallback> out) throws SipException {
        if (!inviteUnsent) {
            return;
        }
        inviteUnsent = false;
        if (pendingCancel != null) {
            cancelled = pendingCancel;
            pendingCancel = null;
            session.abandon(invite); // built, never sent: the stack would keep it for good
            endCancelled(out, null, "given up before the INVITE with credentials was sent");
            return;
        }
        invite.sendRequest();
    }

    private void onProvisional(Response response, List<CarrierCallback> out, Scheduler timers) throws SipException {
        if (state == State.ANSWERED) {
            return; // a provisional answer that came after the 2xx, reordered: the call is answered
        }
        int code = response.getStatusCode();
        provisional = true;
        if (pendingCancel != null) {
            sendCancel(pendingCancel, timers);
            pendingCancel = null;
            return;
        }
        if (code == 100 || cancelled != null) {
            return;
        }
        state = State.EARLY;
        if (kept.state() == SipDialog.State.CALLING) {
            keep(kept.early(((ToHeader) response.getHeader(ToHeader.NAME)).getTag()));
        }
        if (!ringingReported) {
            ringingReported = true;
            String raw = code == 183 ? "early-media" : "ringing";
            out.add(callback(AttemptStatus.RINGING, raw, code, null, null));
            report = new CallReport(AttemptStatus.RINGING, raw, callId, code, null, null);
        }
    }

    private void onAnswer(ResponseEvent event, CSeqHeader cseq, List<CarrierCallback> out, Scheduler timers)
            throws Exception {
        if (!answeredTags.isEmpty()) {
            anotherAnswer(event);
            return;
        }
        Dialog dialog = event.getDialog();
        if (dialog == null) {
            log.warn("SIP call {}: 2xx without a dialog; cannot acknowledge it", callId);
            return;
        }
        String reason = event.getResponse().getReasonPhrase();
        if (cancelled != null || pendingCancel != null) {
            // The callee answered as we gave up (a 200 crossing our CANCEL, or one that came before any provisional
            // answer let a CANCEL go out): someone picked up, and is not cut off. The call is answered as any other,
            // and ends as answered calls end, as a cancel too late for a Voice Gateway's call does (decision 0059:
            // a cancel waiting for the hang-up's outcome, answeredOrEnded, is told it came too late).
            log.info("SIP call {}: answered as we gave up on it ({}); the call goes on", callId,
                    cancelled != null ? cancelled : pendingCancel);
            cancelled = null;
            pendingCancel = null;
            cancelTimer(answerTimer);
        }
        ackTag = toTag(event.getResponse());
        answeredTags.add(ackTag);
        this.dialog = dialog; // a call on the line, to be hung up however this call ends
        cancelTimer(ringTimer);
        state = State.ANSWERED;
        answeredAt = clock.instant();
        answerReason = reason;
        // Acknowledged once kept as answered ({@link #ackUnsent}); its in-progress is reported then.
        keep(kept.confirmed(dialog, answeredAt));
        ackUnsent = true;
        ackCSeq = cseq.getSeqNumber();
        // Answered for whoever asks meanwhile (a cancel is then too late); its status is reported once acknowledged.
        report = new CallReport(AttemptStatus.IN_PROGRESS, "in-progress", callId, 200, reason, null);
        answeredOrEnded.complete(true);
        limitTimer = timers.schedule(() -> offer(Signal.TIME_LIMIT), timeLimit.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Sends the answer's ACK and reports the call in progress. An ACK that could not be sent ends the call as a local
     * error ({@link #step}); the trunk's next copy of the 2xx is then acknowledged and hung up as an answer after the
     * end.
     */
    private void acknowledge(List<CarrierCallback> out) throws Exception {
        try {
            dialog.sendAck(dialog.createAck(ackCSeq));
        } catch (Exception e) {
            answeredTags.remove(ackTag); // not taken: its next copy is an answer after the end
            throw e;
        }
        ackUnsent = false;
        out.add(callback(AttemptStatus.IN_PROGRESS, "in-progress", 200, answerReason, null));
    }

    /**
     * A 2xx after the one this call took. With the same To tag it is that answer again (the stack re-sends our ACK
     * itself). With another, the INVITE forked downstream and a second phone picked up: a dialog of its own, which we
     * acknowledge and end with BYE at once (RFC 3261 §13.2.2.4), else a person would hold a silent line until the trunk
     * gave up on our ACK (the trunk's own BYE comes only after 64 × T1 without it). The stack swallows a copy that comes
     * while the INVITE's transaction lingers after its first 2xx, and hands over the retransmissions that follow, which
     * a UAS sends until it is acknowledged; with the dialog the stack made for it when it has one, else the ACK and BYE
     * are built from what the call keeps.
     */
    private void anotherAnswer(ResponseEvent event) {
        Response response = event.getResponse();
        // Another fork only while this call's own answer stands (acknowledged, or being acknowledged): after an
        // unanswered end, or an answer whose ACK failed, it is a late answer, however many tags come.
        boolean fork = ackTag != null && answeredTags.contains(ackTag);
        if (!answeredTags.add(toTag(response))) {
            return;
        }
        try {
            session.hangUpAnswer(event, kept);
            if (fork) {
                forkedAnswers++;
                log.info("SIP call {} ({} attempt {}): a second fork of the INVITE answered too; acknowledged and hung "
                        + "up", callId, requestId, attempt);
            } else {
                answersAfterEnd++;
                log.warn("SIP call {} ({} attempt {}): answered after it had ended; acknowledged and hung up", callId,
                        requestId, attempt);
            }
        } catch (Exception e) {
            answeredTags.remove(toTag(response)); // its next retransmission tries again
            log.warn("SIP call {}: a late answer could not be acknowledged and hung up: {}", callId, e.toString());
        }
    }

    /** A response's To tag as the answered tags hold it: "null" for a response without one. */
    static String toTag(Response response) {
        ToHeader to = (ToHeader) response.getHeader(ToHeader.NAME);
        return String.valueOf(to == null ? null : to.getTag());
    }

    /**
     * The reason phrase; a 503 that carries {@code X-Call-Limit} (jambonz's SBC at an account's concurrency limit)
     * names the limit in it, so the outcome table sees a capacity signal whatever the phrase says.
     */
    static String reasonOf(Response response) {
        String reason = response.getReasonPhrase();
        javax.sip.header.Header limit = response.getHeader("X-Call-Limit");
        if (response.getStatusCode() == 503 && limit instanceof javax.sip.header.ExtensionHeader extension) {
            return reason + " (X-Call-Limit: " + extension.getValue() + ")";
        }
        return reason;
    }

    private void onRefusal(int code, String reason, List<CarrierCallback> out) {
        if (code == 487) {
            endCancelled(out, code, reason);
        } else if (code == 486 || code == 600 || code == 603) {
            end(out, AttemptStatus.BUSY, "busy", code, reason);
        } else {
            end(out, AttemptStatus.FAILED, "failed", code, reason);
        }
    }

    private void onRequest(RequestEvent event, List<CarrierCallback> out) throws Exception {
        Request request = event.getRequest();
        ServerTransaction transaction = session.serverTransaction(event);
        if (Request.BYE.equals(request.getMethod())) {
            transaction.sendResponse(session.response(200, request));
            // Only the answered dialog's BYE ends the call: a second fork's (one we acknowledged and hang up on)
            // ends only that fork.
            if (state == State.ANSWERED && (dialog == null || event.getDialog() == null
                    || event.getDialog() == dialog)) {
                completed(out);
            }
        } else if (state == State.ANSWERED && (Request.INVITE.equals(request.getMethod())
                || Request.UPDATE.equals(request.getMethod()))) {
            transaction.sendResponse(sessionGoesOn(request));
        } else if (Request.OPTIONS.equals(request.getMethod())) {
            transaction.sendResponse(session.response(Response.OK, request));
        } else if (!Request.ACK.equals(request.getMethod())) {
            transaction.sendResponse(session.response(Response.NOT_IMPLEMENTED, request));
        }
    }

    /**
     * The answer to a re-INVITE or UPDATE inside the answered call: a session timer's refresh (RFC 4028) or a new offer
     * from the trunk. The session goes on as it is, so a request with an offer (a re-INVITE always needs an answer
     * from us) gets our description unchanged, the very bytes first sent, which keep their version (RFC 3264 §8); our
     * Contact stays the dialog's target. Refused (501), such a refresh would end the call at the session's expiry.
     */
    private Response sessionGoesOn(Request request) throws java.text.ParseException {
        Response ok = session.response(Response.OK, request);
        Request original = invite.getRequest();
        javax.sip.header.Header contact = original.getHeader(javax.sip.header.ContactHeader.NAME);
        if (contact != null) {
            ok.setHeader(contact);
        }
        boolean offered = request.getRawContent() != null && request.getRawContent().length > 0;
        if ((offered || Request.INVITE.equals(request.getMethod())) && original.getRawContent() != null) {
            ok.setContent(original.getRawContent(),
                    (javax.sip.header.ContentTypeHeader) original.getHeader(javax.sip.header.ContentTypeHeader.NAME));
        }
        return ok;
    }

    /** The reason of an INVITE the trunk never answered. */
    static final String NO_RESPONSE = "no response from the trunk";

    private void onTimeout(TimeoutEvent event, List<CarrierCallback> out) {
        ClientTransaction transaction = event.getClientTransaction();
        if (transaction == null || transaction != invite || state == State.ANSWERED) {
            return; // not the INVITE in flight (the one challenged before it, say), or already answered
        }
        if (!inviteHeard) {
            unansweredInvites++;
        }
        // Nothing came back at all (Timer B, 64 × T1): the trunk, not the callee, did not answer. Reported as a failure
        // with no SIP status (retried as a transient failure), not as the callee's 408 no-answer.
        end(out, AttemptStatus.FAILED, "failed", null, NO_RESPONSE);
    }

    private void onSignal(Signal signal, List<CarrierCallback> out, Scheduler timers) throws SipException {
        switch (signal) {
            case RING_TIMEOUT -> giveUp(Cancel.RING_TIMEOUT, timers);
            case HANG_UP -> {
                // A cancel of a call already answered comes too late: a person is on the line, and it talks on.
                if (state != State.ANSWERED) {
                    giveUp(Cancel.HANG_UP, timers);
                }
            }
            case TIME_LIMIT -> {
                if (state == State.ANSWERED) {
                    hangUpAnswered(out);
                }
            }
            case CANCEL_UNANSWERED -> {
                // Its timer's signal may already be on its way when an answer takes the cancel back.
                if (cancelled != null) {
                    abandonInvite(out);
                }
            }
            case SEND_INVITE -> sendKeptInvite(out);
            // Changes nothing: a pending ACK is sent before any event is handled ({@link #step}).
            case SEND_ACK -> { }
            case TAKEN_OVER -> takenOver(timers);
            // Changes nothing: the carrier stores the kept state again after this step ({@link #keepAgain}).
            case KEEP_AGAIN -> { }
        }
    }

    /**
     * Another dispatcher took the call over (this one's lease lapsed while it lived): that one ends the call and
     * reports its end, so here it ends without a status. What only this process can reach is let go of first: the
     * trunk answers our INVITE here, not there, so an answered call is hung up (the other's BYE, if it sent one, makes
     * ours a harmless 481), one the trunk answered provisionally is cancelled (its INVITE's transaction abandoned if no
     * final answer comes, as after any CANCEL), and an INVITE not yet sent is never sent. Never fails: what cannot be
     * sent is logged, and the call ends here all the same without a status.
     */
    private void takenOver(Scheduler timers) {
        state = State.ENDED;
        answeredOrEnded.complete(false);
        cancelTimer(ringTimer);
        cancelTimer(limitTimer);
        cancelTimer(answerTimer);
        letGo(timers);
    }

    /**
     * Lets go of what the trunk still has of this call: an answered (acknowledged) call is hung up, one the trunk
     * answered provisionally is cancelled unless it was already (its INVITE's transaction abandoned if no final answer
     * comes, as after any CANCEL), and an INVITE not yet sent is never sent. Never fails: what cannot be sent is
     * logged.
     */
    private void letGo(Scheduler timers) {
        try {
            if (dialog != null) {
                session.bye(dialog);
            } else if (inviteUnsent) {
                inviteUnsent = false;
                session.abandon(invite);
            } else if (provisional) {
                if (cancelled == null) {
                    cancelled = Cancel.HANG_UP;
                    session.cancel(invite);
                }
                ClientTransaction cancelledInvite = invite;
                timers.schedule(() -> session.abandon(cancelledInvite), answerAfterCancel.toMillis(),
                        TimeUnit.MILLISECONDS);
            }
        } catch (Exception e) {
            log.warn("SIP call {} ({} attempt {}) could not be let go of on the wire: {}", callId, requestId, attempt,
                    e.toString());
        }
    }

    private void giveUp(Cancel why, Scheduler timers) throws SipException {
        if (state == State.ANSWERED || cancelled != null) {
            return;
        }
        if (provisional) {
            sendCancel(why, timers);
        } else {
            pendingCancel = why; // RFC 3261 9.1: no CANCEL before a provisional response
        }
    }

    /**
     * Sends the CANCEL and starts waiting for the INVITE's final answer: the INVITE's transaction has no timer of its
     * own once the trunk answered provisionally, so without this a trunk that never sends its 487 would keep the call
     * ringing, for the watchdog too, for ever.
     */
    private void sendCancel(Cancel why, Scheduler timers) throws SipException {
        session.cancel(invite);
        // Only once sent: a CANCEL that could not be sent is sent again as the failed call is let go of.
        cancelled = why;
        answerTimer = timers.schedule(() -> offer(Signal.CANCEL_UNANSWERED), answerAfterCancel.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /**
     * No final answer to the INVITE we cancelled (the trunk answered the CANCEL, or not, but never sent its 487):
     * RFC 3261 §9.1 says to consider the INVITE cancelled and destroy its transaction, so the call ends as the 487
     * would have ended it.
     */
    private void abandonInvite(List<CarrierCallback> out) {
        log.warn("SIP call {} ({} attempt {}): no final answer {} after our CANCEL; given up as cancelled", callId,
                requestId, attempt, answerAfterCancel);
        session.abandon(invite);
        endCancelled(out, null, "no final answer to our CANCEL");
    }

    /** The end of a call we cancelled: {@code canceled} when the dialer asked for it, else nobody answered in time. */
    private void endCancelled(List<CarrierCallback> out, Integer sip, String reason) {
        if (cancelled == Cancel.HANG_UP) {
            end(out, AttemptStatus.CANCELED, "canceled", sip, reason);
        } else {
            end(out, AttemptStatus.NO_ANSWER, "no-answer", sip, reason);
        }
    }

    /**
     * The answered call ended: {@code completed}, with the answer's SIP status, as the Voice Gateway reports a call's
     * {@code sip_status} to its end.
     */
    private void completed(List<CarrierCallback> out) {
        end(out, AttemptStatus.COMPLETED, "completed", 200, answerReason);
    }

    private void hangUpAnswered(List<CarrierCallback> out) throws SipException {
        session.bye(dialog);
        completed(out);
    }

    private void end(List<CarrierCallback> out, AttemptStatus status, String raw, Integer sip, String reason) {
        Integer duration = status == AttemptStatus.COMPLETED && answeredAt != null
                ? (int) Math.max(0, Math.round(Duration.between(answeredAt, clock.instant()).toMillis() / 1000.0))
                : null;
        state = State.ENDED;
        cancelTimer(ringTimer);
        cancelTimer(limitTimer);
        cancelTimer(answerTimer);
        out.add(callback(status, raw, sip, reason, duration));
        report = new CallReport(status, raw, callId, sip, reason, duration);
        answeredOrEnded.complete(false);
    }

    /**
     * After the end: still answer the trunk's requests (200 to a BYE crossing ours or an OPTIONS; 481 to any other, a
     * re-INVITE crossing our BYE say, which a 200 without a session description would seem to accept), hang up an
     * answer from another fork of an INVITE already answered, ignore the rest.
     */
    private void straggler(Object event) {
        // An answer to the INVITE after the call ended: another fork of an answered call, or the callee picking up
        // once the call had ended unanswered (given up after our CANCEL had no answer, say) while its end was being
        // reported. Either is acknowledged and hung up, or the callee would hear silence until the trunk gives up.
        if (event instanceof ResponseEvent response
                && response.getResponse().getStatusCode() / 100 == 2
                && response.getResponse().getHeader(CSeqHeader.NAME) instanceof CSeqHeader cseq
                && Request.INVITE.equals(cseq.getMethod())) {
            anotherAnswer(response);
            return;
        }
        if (event instanceof RequestEvent request && !Request.ACK.equals(request.getRequest().getMethod())) {
            try {
                String method = request.getRequest().getMethod();
                int code = Request.BYE.equals(method) || Request.OPTIONS.equals(method) ? Response.OK
                        : Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST;
                session.serverTransaction(request).sendResponse(session.response(code, request.getRequest()));
            } catch (Exception e) {
                log.debug("SIP call {}: could not answer a late {}", callId, request.getRequest().getMethod(), e);
            }
        }
    }

    private CarrierCallback callback(AttemptStatus status, String raw, Integer sip, String reason, Integer duration) {
        return new CarrierCallback(requestId, attempt, status, raw, callId, sip, reason, duration, null, null, dial);
    }

    private static void cancelTimer(Disposable timer) {
        if (timer != null) {
            timer.dispose();
        }
    }
}
