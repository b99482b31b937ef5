package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.hook.PlainHttpPolicy;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.ConfigDataApplicationContextInitializer;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

class DeliveryPropertiesTest {

    @EnableConfigurationProperties(DeliveryProperties.class)
    static class Bound {
    }

    private final ApplicationContextRunner context = new ApplicationContextRunner().withUserConfiguration(Bound.class);

    @Test
    void defaultsToFiveSecondConnectFifteenSecondTotalAndHttpOnlyForAllowListedHosts() {
        context.run(started -> assertThat(started.getBean(DeliveryProperties.class)).isEqualTo(new DeliveryProperties(
                Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(10), null, List.of(),
                PlainHttpPolicy.Mode.ALLOW_LISTED, DataSize.ofKilobytes(256), DataSize.ofKilobytes(20),
                DataSize.ofKilobytes(4), Duration.ofSeconds(1))));
    }

    @Test
    void leasesARetryForTheLookupTheTryTheBodysReadAndAMinuteToRecordIt() {
        context.run(started -> assertThat(started.getBean(DeliveryProperties.class).lease())
                .isEqualTo(Duration.ofSeconds(5 + 15 + 1 + 60)));
    }

    @Test
    void refusesToStartWithAZeroTimeout() {
        context.withPropertyValues("dialer.webhook.delivery.total-timeout=0s")
                .run(started -> assertThat(started).getFailure()
                        .hasStackTraceContaining("dialer.webhook.delivery")
                        .hasStackTraceContaining("totalTimeout"));
    }

    @Test
    void refusesAHookSigningKeyThatIsNotAStandardWebhooksSecret() {
        context.withPropertyValues("dialer.webhook.delivery.hook-signing-key=plain-text")
                .run(started -> assertThat(started).getFailure()
                        .hasStackTraceContaining("hookSigningKey"));
    }

    @Test
    void acceptsAnEmptyHookSigningKeyAsNone() {
        context.withPropertyValues("dialer.webhook.delivery.hook-signing-key=")
                .run(started -> assertThat(started).hasNotFailed());
    }

    @Test
    void bindsTheAllowListAsAList() {
        context.withPropertyValues("dialer.webhook.delivery.allowed-hosts=127.0.0.1,10.0.0.0/8,hooks.internal")
                .run(started -> assertThat(started.getBean(DeliveryProperties.class).allowedHosts())
                        .containsExactly("127.0.0.1", "10.0.0.0/8", "hooks.internal"));
    }

    /** The service's own configuration file, as it ships and as the integration tests' profile changes it. */
    private final ApplicationContextRunner shipped = context
            .withInitializer(new ConfigDataApplicationContextInitializer())
            .withPropertyValues("spring.config.name=webhook-service");

    @Test
    void theShippedConfigurationAllowsNoInternalAddress() {
        shipped.run(started -> assertThat(started.getBean(DeliveryProperties.class).allowedHosts()).isEmpty());
    }

    @Test
    void theTestsProfileAllowsTheLocalMachineForItsReceivers() {
        shipped.withPropertyValues("spring.profiles.active=it")
                .run(started -> assertThat(started.getBean(DeliveryProperties.class).allowedHosts())
                        .containsExactly("127.0.0.1", "localhost"));
    }
}
