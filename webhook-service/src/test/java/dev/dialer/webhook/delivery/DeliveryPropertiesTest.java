package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

class DeliveryPropertiesTest {

    @EnableConfigurationProperties(DeliveryProperties.class)
    static class Bound {
    }

    private final ApplicationContextRunner context = new ApplicationContextRunner().withUserConfiguration(Bound.class);

    @Test
    void defaultsToFiveSecondConnectFifteenSecondTotalAndThreeAttempts() {
        context.run(started -> assertThat(started.getBean(DeliveryProperties.class)).isEqualTo(new DeliveryProperties(
                Duration.ofSeconds(5), Duration.ofSeconds(15), 3, Duration.ofSeconds(1), Duration.ofSeconds(10), null,
                List.of())));
    }

    @Test
    void refusesToStartWithoutAnyAttempt() {
        context.withPropertyValues("dialer.webhook.delivery.attempts=0")
                .run(started -> assertThat(started).getFailure()
                        .hasStackTraceContaining("dialer.webhook.delivery")
                        .hasStackTraceContaining("attempts"));
    }

    @Test
    void refusesToStartWithAZeroTimeout() {
        context.withPropertyValues("dialer.webhook.delivery.total-timeout=0s")
                .run(started -> assertThat(started).getFailure()
                        .hasStackTraceContaining("dialer.webhook.delivery")
                        .hasStackTraceContaining("totalTimeout"));
    }

    @Test
    void refusesAHookSecretThatIsNotAStandardWebhooksSecret() {
        context.withPropertyValues("dialer.webhook.delivery.hook-secret=plain-text")
                .run(started -> assertThat(started).getFailure()
                        .hasStackTraceContaining("hookSecret"));
    }

    @Test
    void acceptsAnEmptyHookSecretAsNone() {
        context.withPropertyValues("dialer.webhook.delivery.hook-secret=")
                .run(started -> assertThat(started).hasNotFailed());
    }

    @Test
    void bindsTheAllowListAsAList() {
        context.withPropertyValues("dialer.webhook.delivery.allowed-hosts=127.0.0.1,10.0.0.0/8,hooks.internal")
                .run(started -> assertThat(started.getBean(DeliveryProperties.class).allowedHosts())
                        .containsExactly("127.0.0.1", "10.0.0.0/8", "hooks.internal"));
    }

    @Test
    void backoffDoublesAfterEachAttempt() {
        DeliveryProperties properties = new DeliveryProperties(Duration.ofSeconds(5), Duration.ofSeconds(15), 4,
                Duration.ofMillis(500), Duration.ofSeconds(10), null, List.of());

        assertThat(properties.backoffAfter(1)).isEqualTo(Duration.ofMillis(500));
        assertThat(properties.backoffAfter(2)).isEqualTo(Duration.ofSeconds(1));
        assertThat(properties.backoffAfter(3)).isEqualTo(Duration.ofSeconds(2));
    }
}
