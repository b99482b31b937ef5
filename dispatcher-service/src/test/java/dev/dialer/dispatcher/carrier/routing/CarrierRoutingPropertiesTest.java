package dev.dialer.dispatcher.carrier.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** The routed carriers as Spring binds them from the configuration. */
class CarrierRoutingPropertiesTest {

    @Test
    void aCarrierOnAnotherAccountNamesItsOwnApplicationAndOneWithoutRunsTheDefault() {
        Binder binder = new Binder(new MapConfigurationPropertySource(Map.of(
                "dialer.dispatcher.carrier.routing.carriers.primary.base-url", "https://vg-eu.example.com",
                "dialer.dispatcher.carrier.routing.carriers.backup.base-url", "https://vg-us.example.com",
                "dialer.dispatcher.carrier.routing.carriers.backup.account-sid", "AC2",
                "dialer.dispatcher.carrier.routing.carriers.backup.application-sid", "ac2-player")));

        CarrierRoutingProperties routing =
                binder.bindOrCreate("dialer.dispatcher.carrier.routing", CarrierRoutingProperties.class);

        assertThat(routing.carriers().get("backup").applicationSid()).isEqualTo("ac2-player");
        assertThat(routing.carriers().get("backup").accountSid()).isEqualTo("AC2");
        assertThat(routing.carriers().get("primary").applicationSid()).isNull();
    }
}
