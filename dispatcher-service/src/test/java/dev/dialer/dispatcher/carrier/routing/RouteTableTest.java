package dev.dialer.dispatcher.carrier.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.common.contract.CallCommand;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RouteTableTest {

    private static final CarrierRoutingProperties.Endpoint ENDPOINT =
            new CarrierRoutingProperties.Endpoint("http://127.0.0.1:1", null, null, null, null, null);

    private final CarrierRoutingProperties properties = new CarrierRoutingProperties(carriers("a", "b", "c"),
            List.of("a", "b"), Map.of("acc-c", List.of("c", "a")),
            Map.of("+44", List.of("b"), "+4420", List.of("c", "b")), guard());
    private final RouteTable table = new RouteTable(properties, Set.of("a", "b", "c"));

    @Test
    void trunkNamingAConfiguredCarrierGoesFirstThenTheDefaultOrder() {
        assertThat(table.route(command("acc-c", "+4420123", Map.of("trunk", "b")))).containsExactly("b", "a");
    }

    @Test
    void trunkNamingSomethingElseIsLeftToTheCarrierAndRulesApply() {
        assertThat(table.route(command("acc-x", "+4930123", Map.of("trunk", "vg-trunk-7")))).containsExactly("a", "b");
    }

    @Test
    void accountRuleComesBeforePrefixes() {
        assertThat(table.route(command("acc-c", "+4420123", Map.of()))).containsExactly("c", "a");
    }

    @Test
    void longestMatchingPrefixWins() {
        assertThat(table.route(command("acc-x", "+4420123", Map.of()))).containsExactly("c", "b");
        assertThat(table.route(command("acc-x", "+4411123", Map.of()))).containsExactly("b");
    }

    @Test
    void defaultOrderWhenNothingMatches() {
        assertThat(table.route(command("acc-x", "+3312345", Map.of()))).containsExactly("a", "b");
    }

    @Test
    void ruleNamingAnUnknownCarrierFailsStartUp() {
        CarrierRoutingProperties bad = new CarrierRoutingProperties(carriers("a"), List.of("a"),
                Map.of("acc", List.of("nope")), Map.of(), guard());
        assertThatThrownBy(() -> bad.validate(false)).hasMessageContaining("accounts.acc").hasMessageContaining("nope");
    }

    @Test
    void sipNeedsNoEndpointWhenTheSipTrunkIsEnabled() {
        CarrierRoutingProperties withSip = new CarrierRoutingProperties(carriers("a"), List.of("sip", "a"), Map.of(),
                Map.of(), guard());
        withSip.validate(true);
        assertThatThrownBy(() -> withSip.validate(false)).hasMessageContaining("'sip'");
    }

    private static Map<String, CarrierRoutingProperties.Endpoint> carriers(String... names) {
        Map<String, CarrierRoutingProperties.Endpoint> map = new LinkedHashMap<>();
        for (String name : names) {
            map.put(name, ENDPOINT);
        }
        return map;
    }

    private static CarrierRoutingProperties.Guard guard() {
        return new CarrierRoutingProperties.Guard(java.time.Duration.ofSeconds(5), 10, 50, 10,
                java.time.Duration.ofSeconds(30), java.time.Duration.ZERO);
    }

    private static CallCommand command(String account, String to, Map<String, Object> options) {
        return new CallCommand(1, "req", account, "+4930000000", to, null, "a.wav", null, 0, 3, 1, null, null, null,
                null, null, null, null, options, Instant.now());
    }
}
