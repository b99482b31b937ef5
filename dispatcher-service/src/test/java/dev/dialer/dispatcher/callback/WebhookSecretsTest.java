package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.dispatcher.carrier.CarrierProperties;
import dev.dialer.dispatcher.carrier.routing.CarrierRoutingProperties;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** Which secrets a callback may be signed with, from the configuration as Spring binds it. */
class WebhookSecretsTest {

    @Test
    void theDefaultSecretAndEachRoutedAccountsOwnOnce() {
        Binder binder = new Binder(new MapConfigurationPropertySource(Map.of(
                "dialer.dispatcher.carrier.webhook-secret", "eu-secret",
                "dialer.dispatcher.carrier.routing.carriers.primary.base-url", "https://vg-eu.example.com",
                "dialer.dispatcher.carrier.routing.carriers.backup.base-url", "https://vg-us.example.com",
                "dialer.dispatcher.carrier.routing.carriers.backup.account-sid", "AC2",
                "dialer.dispatcher.carrier.routing.carriers.backup.webhook-secret", "us-secret",
                "dialer.dispatcher.carrier.routing.carriers.third.base-url", "https://vg-ap.example.com",
                "dialer.dispatcher.carrier.routing.carriers.third.webhook-secret", "eu-secret")));

        assertThat(VoiceGatewayStatusEndpoint.webhookSecrets(
                binder.bindOrCreate("dialer.dispatcher.carrier", CarrierProperties.class),
                binder.bindOrCreate("dialer.dispatcher.carrier.routing", CarrierRoutingProperties.class)))
                .containsExactly("eu-secret", "us-secret");
        assertThat(signApart(binder)).as("backup on an account of its own").isTrue();
    }

    @Test
    void carriersThatAllSignWithTheDefaultSecretAreOneAccountForTheSeal() {
        Binder binder = new Binder(new MapConfigurationPropertySource(Map.of(
                "dialer.dispatcher.carrier.webhook-secret", "eu-secret",
                "dialer.dispatcher.carrier.routing.carriers.primary.base-url", "https://vg-eu.example.com",
                "dialer.dispatcher.carrier.routing.carriers.backup.base-url", "https://vg-us.example.com",
                "dialer.dispatcher.carrier.routing.carriers.backup.webhook-secret", "eu-secret")));

        assertThat(signApart(binder)).isFalse();
        assertThat(signApart(new Binder(new MapConfigurationPropertySource(Map.of(
                "dialer.dispatcher.carrier.webhook-secret", "eu-secret"))))).as("no routing").isFalse();
    }

    private static boolean signApart(Binder binder) {
        return VoiceGatewayStatusEndpoint.carriersSignApart(
                binder.bindOrCreate("dialer.dispatcher.carrier", CarrierProperties.class),
                binder.bindOrCreate("dialer.dispatcher.carrier.routing", CarrierRoutingProperties.class));
    }

    @Test
    void aSecretBeingRotatedIsGivenWithTheOneItReplacesAndEitherIsAccepted() {
        Binder binder = new Binder(new MapConfigurationPropertySource(Map.of(
                "dialer.dispatcher.carrier.webhook-secret", "eu-new, eu-old",
                "dialer.dispatcher.carrier.routing.carriers.backup.base-url", "https://vg-us.example.com",
                "dialer.dispatcher.carrier.routing.carriers.backup.webhook-secret", "us-new,us-old,")));

        assertThat(VoiceGatewayStatusEndpoint.webhookSecrets(
                binder.bindOrCreate("dialer.dispatcher.carrier", CarrierProperties.class),
                binder.bindOrCreate("dialer.dispatcher.carrier.routing", CarrierRoutingProperties.class)))
                .containsExactly("eu-new", "eu-old", "us-new", "us-old");
    }

    @Test
    void noneWhenNothingIsConfigured() {
        Binder binder = new Binder(new MapConfigurationPropertySource(Map.of(
                "dialer.dispatcher.carrier.routing.carriers.primary.base-url", "https://vg-eu.example.com")));

        assertThat(VoiceGatewayStatusEndpoint.webhookSecrets(
                binder.bindOrCreate("dialer.dispatcher.carrier", CarrierProperties.class),
                binder.bindOrCreate("dialer.dispatcher.carrier.routing", CarrierRoutingProperties.class))).isEmpty();
    }
}
