package dev.dialer.dispatcher.carrier.sip;

import dev.dialer.common.contract.CallCommand;
import gov.nist.javax.sip.ListeningPointImpl;
import gov.nist.javax.sip.SipStackExt;
import gov.nist.javax.sip.clientauthutils.AccountManager;
import gov.nist.javax.sip.clientauthutils.AuthenticationHelper;
import gov.nist.javax.sip.clientauthutils.UserCredentials;
import gov.nist.javax.sip.message.SIPRequest;
import gov.nist.javax.sip.stack.MessageProcessor;
import gov.nist.javax.sip.stack.SIPTransactionStack;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.text.ParseException;
import java.util.List;
import java.util.Properties;
import java.util.TooManyListenersException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sip.ClientTransaction;
import javax.sip.Dialog;
import javax.sip.DialogState;
import javax.sip.ListeningPoint;
import javax.sip.PeerUnavailableException;
import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;
import javax.sip.ServerTransaction;
import javax.sip.SipException;
import javax.sip.SipFactory;
import javax.sip.SipListener;
import javax.sip.SipProvider;
import javax.sip.SipStack;
import javax.sip.TransactionUnavailableException;
import javax.sip.InvalidArgumentException;
import javax.sip.address.AddressFactory;
import javax.sip.header.AuthorizationHeader;
import javax.sip.header.CSeqHeader;
import javax.sip.header.CallIdHeader;
import javax.sip.header.FromHeader;
import javax.sip.header.ToHeader;
import javax.sip.header.ViaHeader;
import javax.sip.header.HeaderFactory;
import javax.sip.header.ProxyAuthorizationHeader;
import javax.sip.message.MessageFactory;
import javax.sip.message.Request;
import javax.sip.message.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JAIN-SIP stack (with its own {@code STACK_NAME}), its listening point and provider, and the few SIP operations
 * a {@link SipCall} needs. Operations send on the calling thread (a datagram or a write to a TCP connection), so they
 * run on the carrier's worker threads, never on an event loop.
 */
final class SipSession implements AutoCloseable {

    private static final AtomicInteger STACKS = new AtomicInteger();
    private static final Logger log = LoggerFactory.getLogger(SipSession.class);

    private final SipTrunkProperties properties;
    private final SipStack stack;
    private final SipProvider provider;
    private final ListeningPoint listeningPoint;
    private final HeaderFactory headers;
    private final MessageFactory messages;
    private final AddressFactory addresses;
    private final Invites invites;
    private final AuthenticationHelper authentication;
    /** How often, and how far apart, a processor whose thread has not run yet is stopped again ({@link #close}). */
    private static final int PROCESSOR_STOP_TRIES = 50;
    private static final long PROCESSOR_STOP_PAUSE_MILLIS = 20;

    SipSession(SipTrunkProperties properties, SipListener listener) throws PeerUnavailableException, SipException,
            javax.sip.InvalidArgumentException, TooManyListenersException {
        this.properties = properties;
        SipFactory factory = SipFactory.getInstance();
        factory.setPathName("gov.nist");
        Properties config = new Properties();
        // Every stack needs a name of its own: the factory caches stacks by it.
        config.setProperty("javax.sip.STACK_NAME", "dialer-sip-" + STACKS.incrementAndGet());
        config.setProperty("gov.nist.javax.sip.TRACE_LEVEL", "0");
        config.setProperty("gov.nist.javax.sip.LOG_MESSAGE_CONTENT", "false");
        config.setProperty("gov.nist.javax.sip.THREAD_POOL_SIZE", "1");
        config.setProperty("gov.nist.javax.sip.REENTRANT_LISTENER", "false");
        // A CANCEL for an INVITE an earlier process sent has no INVITE transaction in this stack, and with this check
        // on, a CANCEL's client transaction refuses to send unless it finds the INVITE's transaction, already sent.
        // That is all the check covers: it never looks for a provisional answer (whatever its error message says),
        // so turning it off loses nothing; our own calls wait for one themselves before they cancel (SipCall).
        config.setProperty("gov.nist.javax.sip.CANCEL_CLIENT_TRANSACTION_CHECKED", "false");
        stack = factory.createSipStack(config);
        headers = factory.createHeaderFactory();
        messages = factory.createMessageFactory();
        addresses = factory.createAddressFactory();
        invites = new Invites(properties, addresses, headers, messages);
        listeningPoint = listen(stack, properties);
        provider = stack.createSipProvider(listeningPoint);
        provider.addSipListener(listener);
        authentication = ((SipStackExt) stack).getAuthenticationHelper(new TrunkAccount(properties), headers);
    }

    /**
     * The listening point on the configured port. The stack refuses port 0, so "any free port" is found here: a port
     * the operating system just handed out, tried again with another should someone take it in between.
     */
    private static ListeningPoint listen(SipStack stack, SipTrunkProperties properties) throws SipException,
            javax.sip.InvalidArgumentException {
        if (properties.bindPort() != 0) {
            return stack.createListeningPoint(properties.bindAddress(), properties.bindPort(), properties.transport());
        }
        javax.sip.InvalidArgumentException last = null;
        for (int tries = 0; tries < 5; tries++) {
            try {
                return stack.createListeningPoint(properties.bindAddress(), freePort(properties), properties.transport());
            } catch (javax.sip.InvalidArgumentException e) {
                last = e;
            }
        }
        throw last;
    }

    private static int freePort(SipTrunkProperties properties) throws javax.sip.InvalidArgumentException {
        InetAddress address;
        try {
            address = InetAddress.getByName(properties.bindAddress());
            if ("udp".equals(properties.transport())) {
                try (DatagramSocket socket = new DatagramSocket(0, address)) {
                    return socket.getLocalPort();
                }
            }
            try (ServerSocket socket = new ServerSocket(0, 1, address)) {
                return socket.getLocalPort();
            }
        } catch (IOException e) {
            throw new javax.sip.InvalidArgumentException("no free port on " + properties.bindAddress(), e);
        }
    }

    /**
     * A client transaction for {@code request}, not yet sent, whose timers count in the trunk's T1: its
     * retransmissions over UDP, and its giving up after 64 × T1.
     */
    private ClientTransaction transaction(Request request) throws TransactionUnavailableException {
        return timed(provider.getNewClientTransaction(request));
    }

    /** {@code transaction}, not yet sent, with its timers counting in the trunk's T1. */
    private ClientTransaction timed(ClientTransaction transaction) {
        transaction.setRetransmitTimer((int) properties.t1().toMillis());
        return transaction;
    }

    /** The local SIP port. */
    int localPort() {
        return listeningPoint.getPort();
    }

    /** A client transaction for the command's INVITE, not yet sent. */
    ClientTransaction newInvite(CallCommand command) throws Exception {
        return transaction(invites.invite(command, provider, localPort()));
    }

    static String callId(ClientTransaction transaction) {
        return ((CallIdHeader) transaction.getRequest().getHeader(CallIdHeader.NAME)).getCallId();
    }

    boolean canAuthenticate() {
        return properties.username() != null && properties.password() != null;
    }

    /** The INVITE again, with credentials for the challenge in {@code response}; not yet sent. */
    ClientTransaction authenticate(Response response, ClientTransaction challenged) throws SipException {
        return timed(authentication.handleChallenge(response, challenged, provider, 5));
    }

    /**
     * An OPTIONS to the trunk, out of any dialog: whether it answers at all. In a client transaction of its own, not
     * yet sent; once sent, over UDP it is retransmitted until answered, for at most 64 × T1 (Timer F).
     */
    ClientTransaction options() throws ParseException, SipException, InvalidArgumentException {
        javax.sip.address.SipURI trunk = addresses.createSipURI(null, properties.trunkHost());
        trunk.setPort(properties.trunkPort());
        trunk.setTransportParam(properties.transport());
        javax.sip.address.SipURI self = addresses.createSipURI(null, properties.fromHostOrBind());
        Request options = messages.createRequest(trunk, Request.OPTIONS, provider.getNewCallId(),
                headers.createCSeqHeader(1L, Request.OPTIONS),
                headers.createFromHeader(addresses.createAddress(self), Invites.freshTag()),
                headers.createToHeader(addresses.createAddress(trunk), null), List.of(ownVia()),
                headers.createMaxForwardsHeader(70));
        return transaction(options);
    }

    void cancel(ClientTransaction invite) throws SipException {
        transaction(invite.createCancel()).sendRequest();
    }

    /**
     * Drops an INVITE we cancelled and gave up on, with its early dialog: the stack keeps an INVITE transaction that
     * got a provisional answer until its final one comes, so one that never comes would stay in memory for good.
     */
    void abandon(ClientTransaction invite) {
        try {
            Dialog early = invite.getDialog();
            invite.terminate();
            if (early != null) {
                early.delete();
            }
        } catch (SipException e) {
            log.debug("INVITE {} could not be dropped: {}", callId(invite), e.toString());
        }
    }

    void bye(Dialog dialog) throws SipException {
        dialog.sendRequest(transaction(dialog.createRequest(Request.BYE)));
    }

    /**
     * Our BYE again, with credentials for the trunk's challenge to it (RFC 3261 §22.2): in its dialog when the stack
     * holds one (the call's own BYE), else in a client transaction of its own (a taken-over call's).
     */
    void byeAgain(Response challenge, ClientTransaction challenged) throws SipException {
        ClientTransaction again = authenticate(challenge, challenged);
        Dialog dialog = challenged.getDialog();
        if (dialog != null && dialog.getState() != DialogState.TERMINATED) {
            dialog.sendRequest(again);
        } else {
            again.sendRequest();
        }
    }

    /** Whether {@code request} went out with credentials already (a second challenge means they were refused). */
    static boolean carriesCredentials(Request request) {
        return request.getHeader(AuthorizationHeader.NAME) != null
                || request.getHeader(ProxyAuthorizationHeader.NAME) != null;
    }

    /**
     * BYE for a dialog this stack never saw (an earlier process answered it, {@link SipDialog}): built from what was
     * kept, sent in a client transaction of its own (retransmitted over UDP until answered).
     */
    void bye(SipDialog dialog) throws ParseException, SipException, InvalidArgumentException {
        Request bye = messages.createRequest(addresses.createURI(dialog.remoteTarget()), Request.BYE,
                headers.createCallIdHeader(dialog.callId()), headers.createCSeqHeader(dialog.localCseq() + 1,
                        Request.BYE), from(dialog), to(dialog, dialog.remoteTag()), List.of(ownVia()),
                headers.createMaxForwardsHeader(70));
        for (String route : dialog.routeSet()) {
            bye.addHeader(headers.createRouteHeader(addresses.createAddress(route)));
        }
        transaction(bye).sendRequest();
    }

    /**
     * CANCEL for an INVITE an earlier process sent: it repeats the INVITE's Request-URI, Via (branch and sent-by, so
     * the trunk matches it to its INVITE: this stack must listen where the earlier one did), From, To, Call-ID and
     * CSeq number. Sent in a client transaction of its own, so over UDP it is retransmitted (Timer E) until the trunk
     * answers it, or for 64 × T1 (Timer F, then a timeout). The transaction carries {@code dialog} as its
     * application data: its answer and its timeout are this CANCEL's ({@link #takenOverCancel}), not the INVITE's.
     *
     * @return false when this stack's transaction for that very CANCEL still lives (the call was taken over again, its
     *         earlier recovery having failed after the CANCEL left): the CANCEL is under way, and not sent again
     */
    boolean cancel(SipDialog dialog) throws ParseException, SipException, InvalidArgumentException {
        Request request = messages.createRequest(addresses.createURI(dialog.inviteUri()), Request.CANCEL,
                headers.createCallIdHeader(dialog.callId()), headers.createCSeqHeader(dialog.localCseq(),
                        Request.CANCEL), from(dialog), to(dialog, null), List.of(inviteVia(dialog)),
                headers.createMaxForwardsHeader(70));
        routeLikeTheInvite(request, dialog);
        // Same branch and method: the stack would refuse a second transaction ("Transaction already exists").
        if (((SIPTransactionStack) stack).findTransaction((SIPRequest) request, false) != null) {
            return false;
        }
        ClientTransaction cancel = transaction(request);
        cancel.setApplicationData(dialog);
        cancel.sendRequest();
        return true;
    }

    /** The taken-over call {@code transaction} is the CANCEL of ({@link #cancel(SipDialog)}), or null. */
    static SipDialog takenOverCancel(ClientTransaction transaction) {
        return transaction != null && Request.CANCEL.equals(transaction.getRequest().getMethod())
                && transaction.getApplicationData() instanceof SipDialog dialog ? dialog : null;
    }

    /**
     * Acknowledges a 2xx nobody will talk on (a second fork's, one that came after the call ended here) and ends its
     * call with BYE: in the dialog the stack made for it when it has one (a BYE outside it is refused while the stack
     * holds it: an answer with the To tag of a provisional one this stack saw), else built from what was kept
     * ({@link #acknowledge}).
     */
    void hangUpAnswer(ResponseEvent event, SipDialog kept) throws ParseException, SipException,
            InvalidArgumentException {
        Response response = event.getResponse();
        Dialog dialog = event.getDialog();
        ToHeader to = (ToHeader) response.getHeader(ToHeader.NAME);
        if (dialog != null && to != null && String.valueOf(dialog.getRemoteTag()).equals(to.getTag())) {
            CSeqHeader cseq = (CSeqHeader) response.getHeader(CSeqHeader.NAME);
            dialog.sendAck(dialog.createAck(cseq.getSeqNumber()));
            bye(dialog);
        } else {
            acknowledge(kept, response);
        }
    }

    /**
     * Acknowledges a final answer to an INVITE an earlier process sent (the trunk would resend it otherwise): a
     * non-2xx hop by hop, with the INVITE's Via; a 2xx end to end, to its Contact, after which the call is ended at
     * once with BYE (nobody is there to talk).
     */
    void acknowledge(SipDialog dialog, Response response) throws ParseException, SipException,
            InvalidArgumentException {
        ToHeader to = (ToHeader) response.getHeader(ToHeader.NAME);
        if (response.getStatusCode() >= 300) {
            Request ack = messages.createRequest(addresses.createURI(dialog.inviteUri()), Request.ACK,
                    headers.createCallIdHeader(dialog.callId()), headers.createCSeqHeader(dialog.localCseq(),
                            Request.ACK), from(dialog), to, List.of(inviteVia(dialog)),
                    headers.createMaxForwardsHeader(70));
            routeLikeTheInvite(ack, dialog);
            provider.sendRequest(ack);
            return;
        }
        javax.sip.header.ContactHeader contact = (javax.sip.header.ContactHeader) response.getHeader(
                javax.sip.header.ContactHeader.NAME);
        javax.sip.address.URI target = contact != null ? contact.getAddress().getURI()
                : addresses.createURI(dialog.inviteUri());
        // The dialog this 2xx opens has its own route set: its Record-Route, in reverse (RFC 3261 §12.1.2). A
        // record-routing SBC in front must see the ACK and the BYE; the callee's Contact behind it may be unreachable.
        List<String> routes = new java.util.ArrayList<>();
        for (java.util.ListIterator<?> recorded = response.getHeaders(javax.sip.header.RecordRouteHeader.NAME);
                recorded.hasNext(); ) {
            routes.add(0, ((javax.sip.header.RecordRouteHeader) recorded.next()).getAddress().toString());
        }
        ViaHeader ackVia = ownVia();
        ackVia.setBranch(freshBranch());
        Request ack = messages.createRequest(target, Request.ACK, headers.createCallIdHeader(dialog.callId()),
                headers.createCSeqHeader(dialog.localCseq(), Request.ACK), from(dialog), to, List.of(ackVia),
                headers.createMaxForwardsHeader(70));
        for (String route : routes) {
            ack.addHeader(headers.createRouteHeader(addresses.createAddress(route)));
        }
        provider.sendRequest(ack);
        bye(new SipDialog(dialog.callId(), dialog.requestId(), dialog.attempt(), dialog.dial(), dialog.trunk(),
                SipDialog.State.CONFIRMED, dialog.inviteUri(), dialog.viaBranch(), dialog.viaHost(),
                dialog.viaPort(), dialog.localUri(), dialog.localTag(), dialog.remoteUri(), to.getTag(),
                target.toString(), List.copyOf(routes), dialog.localCseq(), null));
    }

    /**
     * A CANCEL or a non-2xx ACK goes where its INVITE went: an INVITE to a SIP URI went to its trunk by a Route, which
     * the kept dialog does not hold, so it is added again, to the trunk the dialog names (the one configured here may
     * have changed since, or differ from the dispatcher's that placed the call).
     */
    private void routeLikeTheInvite(Request request, SipDialog dialog) throws ParseException,
            InvalidArgumentException {
        invites.keptTrunkRoute(dialog.inviteUri(), dialog.trunk()).ifPresent(request::addHeader);
    }

    private FromHeader from(SipDialog dialog) throws ParseException {
        return headers.createFromHeader(addresses.createAddress(addresses.createURI(dialog.localUri())),
                dialog.localTag());
    }

    private ToHeader to(SipDialog dialog, String tag) throws ParseException {
        return headers.createToHeader(addresses.createAddress(addresses.createURI(dialog.remoteUri())), tag);
    }

    private ViaHeader ownVia() throws ParseException, InvalidArgumentException {
        return headers.createViaHeader(properties.bindAddress(), localPort(), properties.transport(), null);
    }

    private ViaHeader inviteVia(SipDialog dialog) throws ParseException, InvalidArgumentException {
        return headers.createViaHeader(dialog.viaHost(), dialog.viaPort(), properties.transport(),
                dialog.viaBranch());
    }

    private static String freshBranch() {
        return "z9hG4bK" + Invites.freshTag();
    }

    ServerTransaction serverTransaction(RequestEvent event) throws SipException {
        ServerTransaction existing = event.getServerTransaction();
        return existing != null ? existing : provider.getNewServerTransaction(event.getRequest());
    }

    Response response(int code, Request request) throws java.text.ParseException {
        return messages.createResponse(code, request);
    }

    /**
     * Stops the stack. JAIN-SIP's UDP processor makes its list of channels on its own thread once started, and stopping
     * it before that thread ran throws (a carrier closed right after it started, on a busy machine): the stack's stop
     * ends half-way, the processor already taken off its list but not stopped, its socket open. Then the processor is
     * stopped once its thread has run, and the rest of the stack after it.
     */
    @Override
    public void close() {
        try {
            stack.stop();
        } catch (NullPointerException notRunYet) {
            log.warn("the SIP stack was stopped before its UDP processor's thread ran; stopping that processor once it"
                    + " has: {}", notRunYet.toString());
            stopWhenRunning(((ListeningPointImpl) listeningPoint).getMessageProcessor());
            stack.stop();
        }
    }

    /** Stops a message processor whose thread may not have run yet, waiting a little for it if so. */
    private static void stopWhenRunning(MessageProcessor processor) {
        for (int tries = 1; ; tries++) {
            try {
                processor.stop();
                return;
            } catch (NullPointerException notRunYet) {
                if (tries == PROCESSOR_STOP_TRIES) {
                    throw notRunYet;
                }
                try {
                    Thread.sleep(PROCESSOR_STOP_PAUSE_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw notRunYet;
                }
            }
        }
    }

    /** The trunk's digest credentials, whatever realm it names. */
    private record TrunkAccount(SipTrunkProperties properties) implements AccountManager {
        @Override
        public UserCredentials getCredentials(ClientTransaction challenged, String realm) {
            return new UserCredentials() {
                @Override
                public String getUserName() {
                    return properties.username();
                }

                @Override
                public String getPassword() {
                    return properties.password();
                }

                @Override
                public String getSipDomain() {
                    return realm;
                }
            };
        }
    }
}
