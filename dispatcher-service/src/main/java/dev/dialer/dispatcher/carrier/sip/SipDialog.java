package dev.dialer.dispatcher.carrier.sip;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.sip.ClientTransaction;
import javax.sip.Dialog;
import javax.sip.address.Address;
import javax.sip.header.CSeqHeader;
import javax.sip.header.FromHeader;
import javax.sip.header.RouteHeader;
import javax.sip.header.ToHeader;
import javax.sip.header.ViaHeader;
import javax.sip.message.Request;

/**
 * What must outlive the process of one SIP call to end it cleanly from another: the INVITE's identity (for a CANCEL)
 * and, once answered, the dialog's (for a BYE). Kept in {@code dispatch.sip_dialogs} by a {@link DialogStore}.
 *
 * @param callId       the Call-ID
 * @param requestId    the request the call belongs to
 * @param attempt      its attempt number
 * @param dial         which dial of the attempt the call is ({@code dispatch.attempts.dial_no}); null for a call kept
 *                     before the dial was
 * @param trunk        where the INVITE went, {@code host:port/transport}
 * @param state        how far the call got
 * @param inviteUri    the INVITE's Request-URI
 * @param viaBranch    the INVITE's Via branch
 * @param viaHost      the INVITE's Via host (sent-by)
 * @param viaPort      the INVITE's Via port (sent-by)
 * @param localUri     our From URI
 * @param localTag     our From tag
 * @param remoteUri    the To URI
 * @param remoteTag    the trunk's To tag, once it gave one
 * @param remoteTarget the trunk's Contact, once answered: where in-dialog requests go
 * @param routeSet     the dialog's route set, in order (Route addresses), once answered
 * @param localCseq    the last CSeq number we used (the INVITE's until answered)
 * @param answeredAt   when the call was answered
 */
record SipDialog(String callId, String requestId, int attempt, Integer dial, String trunk, State state,
                 String inviteUri, String viaBranch, String viaHost, int viaPort, String localUri, String localTag,
                 String remoteUri, String remoteTag, String remoteTarget, List<String> routeSet, long localCseq,
                 Instant answeredAt) {

    /** How far a call got. */
    enum State {
        /** INVITE sent, no provisional response yet. */
        CALLING,
        /** Ringing: a provisional response came; CANCEL ends it. */
        EARLY,
        /** Answered and acknowledged: BYE ends it. */
        CONFIRMED;

        String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        static State fromWire(String wire) {
            return valueOf(wire.toUpperCase(Locale.ROOT));
        }
    }

    SipDialog {
        routeSet = routeSet == null ? List.of() : List.copyOf(routeSet);
    }

    /** The call as its INVITE leaves (or left, after a challenge: the INVITE with credentials). */
    static SipDialog calling(String requestId, int attempt, int dial, String trunk, ClientTransaction invite) {
        Request request = invite.getRequest();
        ViaHeader via = (ViaHeader) request.getHeader(ViaHeader.NAME);
        FromHeader from = (FromHeader) request.getHeader(FromHeader.NAME);
        ToHeader to = (ToHeader) request.getHeader(ToHeader.NAME);
        CSeqHeader cseq = (CSeqHeader) request.getHeader(CSeqHeader.NAME);
        return new SipDialog(SipSession.callId(invite), requestId, attempt, dial, trunk, State.CALLING,
                request.getRequestURI().toString(), via.getBranch(), via.getHost(), via.getPort(),
                from.getAddress().getURI().toString(), from.getTag(), to.getAddress().getURI().toString(), null, null,
                List.of(), cseq.getSeqNumber(), null);
    }

    /** The call once it rings. */
    SipDialog early(String tag) {
        return new SipDialog(callId, requestId, attempt, dial, trunk, State.EARLY, inviteUri, viaBranch, viaHost,
                viaPort, localUri, localTag, remoteUri, tag, remoteTarget, routeSet, localCseq, answeredAt);
    }

    /** The call once answered: the dialog's remote tag, target, route set and CSeq. */
    SipDialog confirmed(Dialog dialog, Instant at) {
        List<String> routes = new ArrayList<>();
        for (Iterator<?> it = dialog.getRouteSet(); it != null && it.hasNext(); ) {
            Object route = it.next();
            if (route instanceof RouteHeader header) {
                routes.add(header.getAddress().toString());
            }
        }
        Address target = dialog.getRemoteTarget();
        return new SipDialog(callId, requestId, attempt, dial, trunk, State.CONFIRMED, inviteUri, viaBranch, viaHost,
                viaPort, localUri, localTag, remoteUri, dialog.getRemoteTag(),
                target == null ? null : target.getURI().toString(), routes, dialog.getLocalSeqNumber(), at);
    }
}
