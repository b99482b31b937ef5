package dev.dialer.dispatcher.carrier.sip;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CarrierOptions;
import dev.dialer.common.contract.Destination;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import javax.sip.InvalidArgumentException;
import javax.sip.SipProvider;
import javax.sip.address.Address;
import javax.sip.address.AddressFactory;
import javax.sip.address.SipURI;
import javax.sip.address.URI;
import javax.sip.header.FromHeader;
import javax.sip.header.HeaderFactory;
import javax.sip.header.RouteHeader;
import javax.sip.header.ViaHeader;
import javax.sip.message.MessageFactory;
import javax.sip.message.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the INVITE for a command: Request-URI and {@code To} = the callee's number at the trunk, or for a command to a
 * SIP URI that URI, with a {@code Route} to the trunk so that the trunk stays the next hop; {@code From} = the caller ID
 * (with the command's {@code callerName} and {@code fromHost}: {@link #from}), an SDP offer (the SBC in front anchors the media: the dialer sends none), the command's own SIP {@code headers}
 * (from its carrier options) and ours:
 * <ul>
 *   <li>{@code X-Dialer-Request-Id}, {@code X-Dialer-Attempt}, {@code X-Dialer-Account-Id}: correlation;</li>
 *   <li>{@code X-Dialer-Flow-Id} or {@code X-Dialer-Audio}: what the SBC's application should run on answer;</li>
 *   <li>{@code X-Dialer-Variables}: the flow's variables, form-encoded ({@code name=value&…}).</li>
 * </ul>
 * A given header may not replace one the SIP dialog depends on (Via, From, To, Call-ID, CSeq, Contact, …) nor ours.
 */
final class Invites {

    static final String REQUEST_ID = "X-Dialer-Request-Id";
    static final String ATTEMPT = "X-Dialer-Attempt";
    static final String ACCOUNT_ID = "X-Dialer-Account-Id";
    static final String FLOW_ID = "X-Dialer-Flow-Id";
    static final String AUDIO = "X-Dialer-Audio";
    static final String VARIABLES = "X-Dialer-Variables";

    private static final Logger log = LoggerFactory.getLogger(Invites.class);


    private final SipTrunkProperties properties;
    private final AddressFactory addresses;
    private final HeaderFactory headers;
    private final MessageFactory messages;

    Invites(SipTrunkProperties properties, AddressFactory addresses, HeaderFactory headers, MessageFactory messages) {
        this.properties = properties;
        this.addresses = addresses;
        this.headers = headers;
        this.messages = messages;
    }

    Request invite(CallCommand command, SipProvider provider, int localPort) throws ParseException,
            InvalidArgumentException {
        boolean sipTarget = Destination.kindOf(command.to()) == Destination.Kind.SIP;
        URI target = sipTarget ? addresses.createURI(command.to()) : numberAtTrunk(command);
        Address toAddress = addresses.createAddress(sipTarget ? addresses.createURI(command.to())
                : addresses.createSipURI(command.to(), properties.trunkHost()));
        List<ViaHeader> vias = new ArrayList<>();
        vias.add(headers.createViaHeader(properties.bindAddress(), localPort, properties.transport(), null));
        Request invite = messages.createRequest(target, Request.INVITE, provider.getNewCallId(),
                headers.createCSeqHeader(1L, Request.INVITE),
                from(command),
                headers.createToHeader(toAddress, null), vias, headers.createMaxForwardsHeader(70));
        SipURI contact = addresses.createSipURI(command.callerId(), properties.bindAddress());
        contact.setPort(localPort);
        contact.setTransportParam(properties.transport());
        invite.addHeader(headers.createContactHeader(addresses.createAddress(contact)));
        if (sipTarget) {
            // The URI names the callee, the trunk stays the next hop: a loose route to it (RFC 3261 16.12).
            invite.addHeader(trunkRoute());
        }
        addGivenHeaders(invite, command.carrierOptions().get("headers"));
        addOurHeaders(invite, command);
        invite.setContent(sdpOffer(), headers.createContentTypeHeader("application", "sdp"));
        return invite;
    }

    /**
     * {@code From: "<callerName>" <sip:<caller ID>@<fromHost>>}: the Voice Gateway dialect's {@code callerName} as the
     * display name and its {@code fromHost} as the host, as that carrier uses them; without them, no display name and
     * the configured {@code from-host}. A display name loses the characters a quoted string would have to escape; a
     * {@code fromHost} that is no host name or address is not used (logged), the configured one is.
     */
    FromHeader from(CallCommand command) throws ParseException {
        SipURI caller = addresses.createSipURI(command.callerId(), fromHost(command));
        Address address = addresses.createAddress(caller);
        Object name = command.carrierOptions().get("callerName");
        if (name instanceof String given) {
            String displayName = given.replaceAll("[\"\\\\\\p{Cntrl}]", "").strip();
            if (!displayName.isEmpty()) {
                address.setDisplayName(displayName.length() > CarrierOptions.MAX_DISPLAY_NAME
                        ? displayName.substring(0, CarrierOptions.MAX_DISPLAY_NAME) : displayName);
            }
        }
        return headers.createFromHeader(address, freshTag());
    }

    private String fromHost(CallCommand command) {
        Object host = command.carrierOptions().get("fromHost");
        if (host instanceof String given && !given.isBlank()) {
            if (CarrierOptions.isHost(given)) {
                return given;
            }
            log.warn("request {}: fromHost is no host name or address; the configured from-host is used",
                    command.requestId());
        }
        return properties.fromHostOrBind();
    }

    /** The callee's number at the trunk: the Request-URI of a phone call. */
    private SipURI numberAtTrunk(CallCommand command) throws ParseException, InvalidArgumentException {
        SipURI target = addresses.createSipURI(command.to(), properties.trunkHost());
        target.setPort(properties.trunkPort());
        target.setTransportParam(properties.transport());
        return target;
    }

    /** The configured trunk as {@link SipDialog#trunk} keeps it, {@code host:port/transport}: {@link #keptTrunkRoute}. */
    static String trunkOf(SipTrunkProperties properties) {
        return properties.trunkHost() + ":" + properties.trunkPort() + "/" + properties.transport();
    }

    /** {@code Route: <sip:trunk:port;transport=…;lr>}: sends a request to the trunk whatever its Request-URI. */
    RouteHeader trunkRoute() throws ParseException, InvalidArgumentException {
        return route(properties.trunkHost(), properties.trunkPort(), properties.transport());
    }

    /**
     * The {@link #trunkRoute} of a call kept by any dispatcher, to the trunk its INVITE went to ({@code trunk} as
     * {@link SipDialog#trunk} keeps it, {@code host:port/transport}), not to the one configured here now: a CANCEL or
     * ACK must follow its INVITE. Empty when a request to {@code requestUri} needs none: an INVITE to a number is
     * addressed to that trunk itself.
     */
    java.util.Optional<RouteHeader> keptTrunkRoute(String requestUri, String trunk) throws ParseException,
            InvalidArgumentException {
        int slash = trunk.lastIndexOf('/');
        int colon = trunk.lastIndexOf(':', slash < 0 ? trunk.length() : slash);
        if (slash < 0 || colon < 0) {
            throw new ParseException("kept trunk is not host:port/transport: " + trunk, 0);
        }
        String host = trunk.substring(0, colon);
        int port = Integer.parseInt(trunk.substring(colon + 1, slash));
        URI uri = addresses.createURI(requestUri);
        if (uri instanceof SipURI sip && host.equalsIgnoreCase(sip.getHost()) && sip.getPort() == port) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(route(host, port, trunk.substring(slash + 1)));
    }

    private RouteHeader route(String host, int port, String transport) throws ParseException,
            InvalidArgumentException {
        SipURI trunk = addresses.createSipURI(null, host);
        trunk.setPort(port);
        trunk.setTransportParam(transport);
        trunk.setLrParam();
        return headers.createRouteHeader(addresses.createAddress(trunk));
    }

    private void addGivenHeaders(Request invite, Object given) throws ParseException {
        if (!(given instanceof Map<?, ?> map)) {
            return;
        }
        for (Map.Entry<?, ?> entry : map.entrySet()) {
            String name = String.valueOf(entry.getKey());
            String value = entry.getValue() == null ? "" : String.valueOf(entry.getValue());
            if (CarrierOptions.isAllowedSipHeaderName(name) && CarrierOptions.isSipHeaderValue(value)) {
                invite.addHeader(headers.createHeader(name, value));
            }
        }
    }

    /**
     * The dialer's own headers, from the command. A command written straight to Kafka may carry a line break in these
     * fields (the schema bounds only their length): written as is, it would end the header and start another, one the
     * trunk takes as given, so each line break goes out as a space, as the client's own headers are refused with one.
     */
    void addOurHeaders(Request invite, CallCommand command) throws ParseException {
        invite.addHeader(headers.createHeader(REQUEST_ID, oneLine(command.requestId())));
        invite.addHeader(headers.createHeader(ATTEMPT, Integer.toString(command.attempt())));
        invite.addHeader(headers.createHeader(ACCOUNT_ID, oneLine(command.accountId())));
        if (command.flowId() != null) {
            invite.addHeader(headers.createHeader(FLOW_ID, oneLine(command.flowId())));
        }
        if (command.audio() != null) {
            invite.addHeader(headers.createHeader(AUDIO, oneLine(command.audio())));
        }
        if (!command.variables().isEmpty()) {
            invite.addHeader(headers.createHeader(VARIABLES, formEncoded(command.variables())));
        }
    }

    private static String oneLine(String value) {
        return CarrierOptions.isSipHeaderValue(value) ? value : value.replace('\r', ' ').replace('\n', ' ');
    }

    static String formEncoded(Map<String, String> variables) {
        return variables.entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .map(entry -> encode(entry.getKey()) + "=" + encode(entry.getValue()))
                .collect(Collectors.joining("&"));
    }

    private static String encode(String text) {
        return URLEncoder.encode(text == null ? "" : text, StandardCharsets.UTF_8);
    }

    /** An audio offer (PCMU, PCMA, DTMF events) naming the media address the SBC is to send to. */
    String sdpOffer() {
        long session = System.currentTimeMillis() / 1000;
        String address = properties.mediaAddressOrBind();
        String family = address.contains(":") ? "IP6" : "IP4";
        return "v=0\r\n"
                + "o=dialer " + session + " " + session + " IN " + family + " " + address + "\r\n"
                + "s=dialer\r\n"
                + "c=IN " + family + " " + address + "\r\n"
                + "t=0 0\r\n"
                + "m=audio " + properties.mediaPort() + " RTP/AVP 0 8 101\r\n"
                + "a=rtpmap:0 PCMU/8000\r\n"
                + "a=rtpmap:8 PCMA/8000\r\n"
                + "a=rtpmap:101 telephone-event/8000\r\n"
                + "a=fmtp:101 0-16\r\n"
                + "a=sendrecv\r\n";
    }

    /** A random token for a From tag or a Via branch (after its magic cookie). */
    static String freshTag() {
        return Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    }
}
