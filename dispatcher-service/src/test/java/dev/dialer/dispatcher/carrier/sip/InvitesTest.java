package dev.dialer.dispatcher.carrier.sip;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import javax.sip.SipFactory;
import javax.sip.header.RouteHeader;
import org.junit.jupiter.api.Test;

/** Where a taken-over call's CANCEL or ACK is routed: to the trunk its INVITE went to, not the one configured now. */
class InvitesTest {

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
