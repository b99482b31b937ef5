package dev.dialer.dispatcher.carrier.sip;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import javax.sip.SipFactory;
import javax.sip.header.RouteHeader;
import javax.sip.message.Request;
import org.junit.jupiter.api.Test;

/** Where a taken-over call's CANCEL or ACK is routed: to the trunk its INVITE went to, not the one configured now. */
class InvitesTest {

    private static final SipTrunkProperties TRUNK = new SipTrunkProperties(true, "10.0.0.2", 5070, "udp", "127.0.0.1",
            5062, "dialer.example.com", null, null, null, 40000, Duration.ofSeconds(60), Duration.ofHours(1), 2,
            Duration.ofSeconds(3), 3, Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofMillis(500));

    @Test
    void theFromHeaderCarriesTheCallersNameAndHostAsTheVoiceGatewayDialectGivesThem() throws Exception {
        Invites invites = invites(TRUNK);

        assertThat(invites.from(command(Map.of())).getAddress().toString())
                .isEqualTo("<sip:+4930555000@dialer.example.com>");
        assertThat(invites.from(command(Map.of("callerName", "Acme \"Support\"\r\n", "fromHost",
                "sip.acme.example"))).getAddress().toString())
                .as("a display name without the characters a quoted string would have to escape")
                .isEqualTo("\"Acme Support\" <sip:+4930555000@sip.acme.example>");
        assertThat(invites.from(command(Map.of("fromHost", "acme.example>;evil=1"))).getAddress().toString())
                .as("a fromHost that is no host is not used").isEqualTo("<sip:+4930555000@dialer.example.com>");
        assertThat(invites.from(command(Map.of("fromHost", "[2001:db8::1]"))).getAddress().toString())
                .isEqualTo("<sip:+4930555000@[2001:db8::1]>");
    }

    /** A command written straight to Kafka with a line break in a field the INVITE carries adds no header. */
    @Test
    void aLineBreakInACommandsFieldStartsNoHeaderOfItsOwn() throws Exception {
        SipFactory factory = SipFactory.getInstance();
        factory.setPathName("gov.nist");
        Request invite = factory.createMessageFactory().createRequest("""
                INVITE sip:+4915112345678@10.0.0.2 SIP/2.0\r
                Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1\r
                From: <sip:+4930555000@dialer.example.com>;tag=1\r
                To: <sip:+4915112345678@10.0.0.2>\r
                Call-ID: c-1\r
                CSeq: 1 INVITE\r
                Max-Forwards: 70\r
                Content-Length: 0\r
                \r
                """);
        CallCommand command = new CallCommand(1, "req-1\r\nX-Injected: 1", "acc-1", "+4930555000",
                "+4915112345678", "flow-1\nX-Flow: 2", "a.wav\r\nX-Audio: 3", null, 0, 3, 1, null, null, null, null,
                null, null, null, null, Map.of(), Instant.now());

        invites(TRUNK).addOurHeaders(invite, command);

        String written = invite.toString();
        assertThat(written).doesNotContain("\r\nX-Injected", "\r\nX-Flow", "\nX-Flow", "\r\nX-Audio")
                .contains("req-1  X-Injected: 1", "flow-1 X-Flow: 2", "a.wav  X-Audio: 3");
        assertThat(invite.getHeader("X-Injected")).isNull();
    }

    private static CallCommand command(Map<String, Object> carrierOptions) {
        return new CallCommand(1, "req-from", "acc-1", "+4930555000", "+4915112345678", null, "a.wav", null, 0, 3,
                1, null, null, null, null, null, null, null, null, carrierOptions, Instant.now());
    }

    private static Invites invites(SipTrunkProperties properties) throws Exception {
        SipFactory factory = SipFactory.getInstance();
        factory.setPathName("gov.nist");
        return new Invites(properties, factory.createAddressFactory(), factory.createHeaderFactory(),
                factory.createMessageFactory());
    }

    @Test
    void aRequestOfAKeptCallFollowsTheTrunkItsInviteWentToNotTheOneConfiguredNow() throws Exception {
        SipFactory factory = SipFactory.getInstance();
        factory.setPathName("gov.nist");
        // Configured now: another SBC than the one the earlier dispatcher used.
        SipTrunkProperties now = new SipTrunkProperties(true, "10.0.0.2", 5070, "udp", "127.0.0.1", 5062, null, null,
                null, null, 40000, Duration.ofSeconds(60), Duration.ofHours(1), 2, Duration.ofSeconds(3), 3,
                Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofMillis(500));
        Invites invites = new Invites(now, factory.createAddressFactory(), factory.createHeaderFactory(),
                factory.createMessageFactory());

        RouteHeader route = invites.keptTrunkRoute("sip:alice@pbx.example.com", "10.0.0.1:5060/tcp").orElseThrow();
        assertThat(route.getAddress().getURI().toString()).isEqualTo("sip:10.0.0.1:5060;transport=tcp;lr");

        assertThat(invites.keptTrunkRoute("sip:+4915112345678@10.0.0.1:5060;transport=tcp", "10.0.0.1:5060/tcp"))
                .as("an INVITE to a number went to that trunk itself").isEmpty();
        assertThat(invites.keptTrunkRoute("sip:alice@pbx.example.com", Invites.trunkOf(now)).orElseThrow()
                .getAddress().getURI().toString()).as("as this dispatcher keeps its own calls")
                .isEqualTo("sip:10.0.0.2:5070;transport=udp;lr");
    }
}
