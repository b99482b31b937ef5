package dev.dialer.dispatcher.carrier.sip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.dispatcher.callback.CarrierCallback;
import dev.dialer.dispatcher.outcome.OutcomeClassifier;
import dev.dialer.dispatcher.outcome.Verdict;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sip.ClientTransaction;
import javax.sip.Dialog;
import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;
import javax.sip.ServerTransaction;
import javax.sip.SipException;
import javax.sip.SipFactory;
import javax.sip.message.MessageFactory;
import javax.sip.message.Request;
import javax.sip.message.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;
import org.mockito.InOrder;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * A call that a local SIP error ends (a request's answer or a BYE that could not be sent, a connection to a TCP trunk
 * reset) is let go of on the wire before its end is reported: nothing of it may go on at the trunk.
 */
class SipCallTest {

    private static final String CALL_ID = "c-1@127.0.0.1";
    private static final String INVITE = """
            INVITE sip:+4915112345678@10.0.0.2 SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1\r
            From: <sip:+4930555000@127.0.0.1>;tag=ours\r
            To: <sip:+4915112345678@10.0.0.2>\r
            Call-ID: c-1@127.0.0.1\r
            CSeq: 1 INVITE\r
            Contact: <sip:+4930555000@127.0.0.1:5062>\r
            Max-Forwards: 70\r
            Content-Length: 0\r
            \r
            """;

    private final SipSession session = mock(SipSession.class);
    private final ClientTransaction invite = mock(ClientTransaction.class);
    private final ServerTransaction serverTransaction = mock(ServerTransaction.class);
    private final VirtualTimeScheduler timers = VirtualTimeScheduler.create();
    private final List<CarrierCallback> reported = new ArrayList<>();
    private MessageFactory messages;
    private SipCall call;

    @BeforeEach
    void ringing() throws Exception {
        SipFactory factory = SipFactory.getInstance();
        factory.setPathName("gov.nist");
        messages = factory.createMessageFactory();
        Request request = messages.createRequest(INVITE);
        when(invite.getRequest()).thenReturn(request);
        when(session.serverTransaction(any())).thenReturn(serverTransaction);
        when(session.response(anyInt(), any())).thenAnswer(asked -> messages.createResponse(
                asked.getArgument(0, Integer.class), asked.getArgument(1, Request.class)));
        SipDialog kept = new SipDialog(CALL_ID, "req-1", 1, 1, "10.0.0.2:5060/udp", SipDialog.State.CALLING,
                "sip:+4915112345678@10.0.0.2", "z9hG4bK-1", "127.0.0.1", 5062, "sip:+4930555000@127.0.0.1", "ours",
                "sip:+4915112345678@10.0.0.2", null, null, List.of(), 1, null);
        call = new SipCall("req-1", 1, 1, CALL_ID, session, Duration.ofMinutes(5), Clock.systemUTC(),
                (sipCall, event) -> { }, kept);

        step(new SipCall.Start(invite, Duration.ofSeconds(60), Duration.ofSeconds(32)));
        step(new ResponseEvent(this, invite, null, response(180, "Ringing", "INVITE")));
        assertThat(reported).extracting(CarrierCallback::status)
                .containsExactly(AttemptStatus.INITIATED, AttemptStatus.RINGING);
    }

    @Test
    void aRingingCallEndedByALocalErrorIsCancelledNotLeftRinging() throws Exception {
        // The trunk's INFO in the early dialog; our answer to it cannot be sent.
        doThrow(new SipException("connection reset")).when(serverTransaction).sendResponse(any());

        step(new RequestEvent(this, serverTransaction, null, request("INFO", 2)));

        assertThat(call.ended()).isTrue();
        assertThat(reported.get(reported.size() - 1)).satisfies(end -> {
            assertThat(end.status()).isEqualTo(AttemptStatus.FAILED);
            assertThat(end.sipReason()).startsWith("local SIP error");
        });
        verify(session).cancel(invite);
        // As after any CANCEL: the INVITE's transaction is let go of if no final answer comes.
        timers.advanceTimeBy(Duration.ofSeconds(32));
        verify(session).abandon(invite);
    }

    /**
     * The callee picks up after the call ended unanswered (while its end is being reported): the answer is
     * acknowledged and hung up, once however often the trunk sends it again, and the call stays ended.
     */
    @Test
    void anAnswerAfterTheCallEndedUnansweredIsAcknowledgedAndHungUp() throws Exception {
        doThrow(new SipException("connection reset")).when(serverTransaction).sendResponse(any());
        step(new RequestEvent(this, serverTransaction, null, request("INFO", 2)));
        assertThat(call.ended()).isTrue();
        int reportedAtTheEnd = reported.size();

        ResponseEvent late = new ResponseEvent(this, invite, mock(Dialog.class), response(200, "OK", "INVITE"));
        step(late);
        step(new ResponseEvent(this, invite, mock(Dialog.class), response(200, "OK", "INVITE")));

        verify(session, times(1)).hangUpAnswer(any(), any());
        verify(session).hangUpAnswer(late, call.kept());
        assertThat(reported).hasSize(reportedAtTheEnd);
        assertThat(call.takeForkedAnswers()).as("not a second fork").isZero();
    }

    @Test
    void aCancelThatCouldNotBeSentIsSentAgainAsTheFailedCallIsLetGoOf() throws Exception {
        // The ring timeout's CANCEL cannot be sent the first time (a TCP trunk's connection reset).
        doThrow(new SipException("connection reset")).doNothing().when(session).cancel(invite);

        step(SipCall.Signal.RING_TIMEOUT);

        assertThat(call.ended()).isTrue();
        assertThat(reported.get(reported.size() - 1)).satisfies(end -> {
            assertThat(end.status()).isEqualTo(AttemptStatus.FAILED);
            assertThat(end.sipReason()).startsWith("local SIP error");
        });
        verify(session, times(2)).cancel(invite);
        timers.advanceTimeBy(Duration.ofSeconds(32));
        verify(session).abandon(invite);
    }

    @Test
    void anAnsweredCallEndedByALocalErrorIsHungUpNotLeftOnTheLine() throws Exception {
        Dialog dialog = mock(Dialog.class);
        when(dialog.getRemoteTag()).thenReturn("theirs");
        step(new ResponseEvent(this, invite, dialog, response(200, "OK", "INVITE")));
        step(SipCall.Signal.SEND_ACK);
        assertThat(reported.get(reported.size() - 1).status()).isEqualTo(AttemptStatus.IN_PROGRESS);
        // A session refresh from the trunk; our answer to it cannot be sent.
        doThrow(new SipException("connection reset")).when(serverTransaction).sendResponse(any());

        step(new RequestEvent(this, serverTransaction, dialog, request("INVITE", 2)));

        assertThat(call.ended()).isTrue();
        assertThat(reported.get(reported.size() - 1).status()).isEqualTo(AttemptStatus.COMPLETED);
        verify(session).bye(dialog);
    }

    @Test
    void anAnswerIsAcknowledgedAndReportedOnlyOnceKeptAsAnswered() throws Exception {
        Dialog dialog = mock(Dialog.class);
        when(dialog.getRemoteTag()).thenReturn("theirs");

        step(new ResponseEvent(this, invite, dialog, response(200, "OK", "INVITE")));

        verify(dialog, never()).sendAck(any());
        assertThat(call.kept().state()).as("kept as answered first").isEqualTo(SipDialog.State.CONFIRMED);
        assertThat(call.takeKeptChange()).isPresent();
        assertThat(reported.get(reported.size() - 1).status()).isEqualTo(AttemptStatus.RINGING);
        assertThat(call.report().status()).as("answered for a cancel that asks meanwhile: too late")
                .isEqualTo(AttemptStatus.IN_PROGRESS);
        assertThat(call.takeAckToSend()).isTrue();
        assertThat(call.takeAckToSend()).as("asked once").isFalse();

        step(SipCall.Signal.SEND_ACK);
        step(SipCall.Signal.SEND_ACK);

        verify(dialog, times(1)).sendAck(any());
        assertThat(reported).extracting(CarrierCallback::status).containsExactly(AttemptStatus.INITIATED,
                AttemptStatus.RINGING, AttemptStatus.IN_PROGRESS);
    }

    @Test
    void whatComesBeforeTheAnswersAckIsDoneOnlyOnceTheAnswerIsAcknowledged() throws Exception {
        Dialog dialog = mock(Dialog.class);
        when(dialog.getRemoteTag()).thenReturn("theirs");
        step(new ResponseEvent(this, invite, dialog, response(200, "OK", "INVITE")));

        // The trunk hangs up before the kept answer was stored.
        step(new RequestEvent(this, serverTransaction, dialog, request("BYE", 2)));
        step(SipCall.Signal.SEND_ACK);

        InOrder order = inOrder(dialog, serverTransaction);
        order.verify(dialog).sendAck(any());
        order.verify(serverTransaction).sendResponse(any());
        verify(dialog, times(1)).sendAck(any());
        assertThat(reported).extracting(CarrierCallback::status).containsExactly(AttemptStatus.INITIATED,
                AttemptStatus.RINGING, AttemptStatus.IN_PROGRESS, AttemptStatus.COMPLETED);
    }

    @Test
    void anAnswerWhoseAckCannotBeSentEndsTheCallAsALocalError() throws Exception {
        Dialog dialog = mock(Dialog.class);
        when(dialog.getRemoteTag()).thenReturn("theirs");
        doThrow(new SipException("connection reset")).when(dialog).sendAck(any());
        step(new ResponseEvent(this, invite, dialog, response(200, "OK", "INVITE")));

        step(SipCall.Signal.SEND_ACK);

        assertThat(call.ended()).isTrue();
        assertThat(reported.get(reported.size() - 1)).satisfies(end -> {
            assertThat(end.status()).isEqualTo(AttemptStatus.FAILED);
            assertThat(end.sipReason()).startsWith("local SIP error");
        });
        assertThat(reported).extracting(CarrierCallback::status).doesNotContain(AttemptStatus.IN_PROGRESS);
    }

    @Test
    void aSecondForksByeEndsOnlyThatForkAndAProvisionalAfterTheAnswerChangesNothing() throws Exception {
        Dialog answered = mock(Dialog.class);
        when(answered.getRemoteTag()).thenReturn("theirs");
        Dialog secondFork = mock(Dialog.class);
        step(new ResponseEvent(this, invite, answered, response(200, "OK", "INVITE")));
        step(new ResponseEvent(this, invite, answered, response(183, "Session Progress", "INVITE")));

        step(new RequestEvent(this, serverTransaction, secondFork, request("BYE", 2)));

        assertThat(call.ended()).as("the answered call talks on").isFalse();
        assertThat(reported.get(reported.size() - 1).status()).isEqualTo(AttemptStatus.IN_PROGRESS);

        step(new RequestEvent(this, serverTransaction, answered, request("BYE", 3)));

        assertThat(call.ended()).isTrue();
        assertThat(reported.get(reported.size() - 1).status()).isEqualTo(AttemptStatus.COMPLETED);
    }

    @Test
    void afterItsEndALateByeIsAnswered200AndALateReInvite481() throws Exception {
        Dialog dialog = mock(Dialog.class);
        step(new ResponseEvent(this, invite, dialog, response(200, "OK", "INVITE")));
        step(new RequestEvent(this, serverTransaction, dialog, request("BYE", 2)));
        assertThat(call.ended()).isTrue();

        // A re-INVITE that crossed the end: a 200 without a session description would seem to take it.
        step(new RequestEvent(this, serverTransaction, dialog, request("INVITE", 3)));
        step(new RequestEvent(this, serverTransaction, dialog, request("BYE", 4)));

        ArgumentCaptor<Response> answers = ArgumentCaptor.forClass(Response.class);
        verify(serverTransaction, times(3)).sendResponse(answers.capture());
        assertThat(answers.getAllValues()).extracting(Response::getStatusCode).containsExactly(200, 481, 200);
    }

    @Test
    void aCapacityRefusalAfterTheCallRangIsNoCapacityRejectionSoNotTheSameAttemptAgain() throws Exception {
        // The setup's call rang (180); a 503 naming the SBC's call limit comes only now.
        Response refused = messages.createResponse("SIP/2.0 503 Max Account Calls In Progress\r\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1\r\n"
                + "From: <sip:+4930555000@127.0.0.1>;tag=ours\r\n"
                + "To: <sip:+4915112345678@10.0.0.2>;tag=theirs\r\n"
                + "Call-ID: " + CALL_ID + "\r\n"
                + "CSeq: 1 INVITE\r\n"
                + "X-Call-Limit: 20\r\n"
                + "Content-Length: 0\r\n\r\n");

        step(new ResponseEvent(this, invite, null, refused));

        CarrierCallback end = reported.get(reported.size() - 1);
        assertThat(end.status()).isEqualTo(AttemptStatus.FAILED);
        assertThat(end.sipReason()).isEqualTo("Max Account Calls In Progress (X-Call-Limit: 20)"
                + OutcomeClassifier.AFTER_RINGING);
        assertThat(new OutcomeClassifier().classify(end.status(), end.sipStatus(), end.sipReason()).verdict())
                .as("retried as a new attempt, never requeued under this one").isEqualTo(Verdict.RETRYABLE);
    }

    @Test
    void aChallengeItCannotAnswerAfterTheRingTimeoutEndsTheCallAsUnansweredNotFailed() throws Exception {
        // No credentials are configured (the mocked session cannot authenticate); our CANCEL crossed the challenge.
        step(SipCall.Signal.RING_TIMEOUT);
        step(new ResponseEvent(this, invite, null, response(407, "Proxy Authentication Required", "INVITE")));

        CarrierCallback end = reported.get(reported.size() - 1);
        assertThat(end.status()).as("as the INVITE's final answer after our ring timeout")
                .isEqualTo(AttemptStatus.NO_ANSWER);
        assertThat(end.sipStatus()).isEqualTo(407);
        assertThat(call.ended()).isTrue();
    }

    private void step(Object event) {
        reported.addAll(call.step(event, timers));
    }

    private Response response(int code, String reason, String method) throws Exception {
        return messages.createResponse("SIP/2.0 " + code + " " + reason + "\r\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1\r\n"
                + "From: <sip:+4930555000@127.0.0.1>;tag=ours\r\n"
                + "To: <sip:+4915112345678@10.0.0.2>;tag=theirs\r\n"
                + "Call-ID: " + CALL_ID + "\r\n"
                + "CSeq: 1 " + method + "\r\n"
                + "Contact: <sip:callee@10.0.0.2:5060>\r\n"
                + "Content-Length: 0\r\n\r\n");
    }

    private Request request(String method, int cseq) throws Exception {
        return messages.createRequest(method + " sip:+4930555000@127.0.0.1:5062 SIP/2.0\r\n"
                + "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-theirs-" + cseq + "\r\n"
                + "From: <sip:+4915112345678@10.0.0.2>;tag=theirs\r\n"
                + "To: <sip:+4930555000@127.0.0.1>;tag=ours\r\n"
                + "Call-ID: " + CALL_ID + "\r\n"
                + "CSeq: " + cseq + " " + method + "\r\n"
                + "Max-Forwards: 70\r\n"
                + "Content-Length: 0\r\n\r\n");
    }
}
