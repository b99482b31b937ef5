package dev.dialer.dispatcher.carrier.sip;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.dispatcher.carrier.CarrierException;
import java.text.ParseException;
import java.time.Duration;
import javax.sip.TransactionUnavailableException;
import org.junit.jupiter.api.Test;

class SipTrunkCarrierTest {

    @Test
    void aCallThatEndedIsRememberedForA2xxAsLongAsTheTrunksT1LetsItBeRetransmitted() {
        assertThat(SipTrunkCarrier.endedKept(trunk(Duration.ofMillis(500)))).isEqualTo(Duration.ofSeconds(32));
        // A trunk far away, given a longer T1: its 2xx is retransmitted for 128 s, not 32.
        assertThat(SipTrunkCarrier.endedKept(trunk(Duration.ofSeconds(2)))).isEqualTo(Duration.ofSeconds(128));
    }

    @Test
    void anInviteTheStackCannotSendAnywhereIsTheTrunksFailureAndOneItCannotParseIsTheCalls() {
        // JAIN-SIP's answer when the trunk host does not resolve, or no listening point is left.
        CarrierException unresolved = SipTrunkCarrier.buildFailure(new TransactionUnavailableException(
                "Could not resolve next hop or listening point unavailable! "));
        CarrierException unparsable = SipTrunkCarrier.buildFailure(new ParseException("sip:+49 30", 4));

        assertThat(unresolved.reason()).isEqualTo(CarrierException.Reason.UNREACHABLE);
        assertThat(unresolved.isTechnical()).as("waits, or the route's next carrier takes it").isTrue();
        assertThat(unresolved.mayHaveBeenPlaced()).isFalse();
        assertThat(unparsable.reason()).isEqualTo(CarrierException.Reason.REJECTED);
        assertThat(unparsable.isTechnical()).isFalse();
    }

    private static SipTrunkProperties trunk(Duration t1) {
        return new SipTrunkProperties(true, "10.0.0.2", 5070, "udp", "127.0.0.1", 5062, null, null, null, null, 40000,
                Duration.ofSeconds(60), Duration.ofHours(1), 2, Duration.ofSeconds(3), 3, Duration.ofSeconds(10),
                Duration.ofSeconds(2), t1);
    }
}
