package dev.dialer.dispatcher.carrier;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.dispatcher.carrier.routing.CarrierRoutingProperties;
import dev.dialer.dispatcher.carrier.sip.SipTrunkProperties;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CarrierConfigurationTest {

    @Test
    void aSipKeepTimeoutThatTheCarriersRequestTimeoutWouldCutShortIsRefusedAtStart() {
        assertThatCode(() -> CarrierConfiguration.requireKeepTimeoutWithinRequestTimeout(sip(Duration.ofSeconds(2)),
                routing(Duration.ofSeconds(5)))).doesNotThrowAnyException();

        assertThatThrownBy(() -> CarrierConfiguration.requireKeepTimeoutWithinRequestTimeout(sip(Duration.ofSeconds(5)),
                routing(Duration.ofSeconds(5))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("dialer.dispatcher.carrier.sip.keep-timeout (PT5S)")
                .hasMessageContaining("dialer.dispatcher.carrier.routing.guard.timeout (PT5S)");
    }

    private static SipTrunkProperties sip(Duration keepTimeout) {
        return new SipTrunkProperties(true, "127.0.0.1", 5060, "udp", "127.0.0.1", 0, null, null, null, null, 40000,
                Duration.ofSeconds(60), Duration.ofHours(1), 2, Duration.ofSeconds(30), 3, Duration.ofSeconds(10),
                keepTimeout, Duration.ofMillis(500));
    }

    private static CarrierRoutingProperties routing(Duration requestTimeout) {
        return new CarrierRoutingProperties(Map.of(), List.of(), Map.of(), Map.of(),
                new CarrierRoutingProperties.Guard(requestTimeout, 200, 50, 10, Duration.ofSeconds(30), Duration.ZERO));
    }
}
