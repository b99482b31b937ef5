package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

class IsolationPropertiesTest {

    @EnableConfigurationProperties(IsolationProperties.class)
    static class Bound {
    }

    private final ApplicationContextRunner context = new ApplicationContextRunner().withUserConfiguration(Bound.class);

    @Test
    void aHostsCapMayBeRaisedUpToTheTransportsConnectionsToAHostAndNoFurther() {
        context.withPropertyValues("dialer.webhook.isolation.max-concurrent-per-host=512")
                .run(started -> assertThat(started.getBean(IsolationProperties.class).maxConcurrentPerHost())
                        .isEqualTo(HttpWebhookTransport.MAX_CONNECTIONS));
        context.withPropertyValues("dialer.webhook.isolation.max-concurrent-per-host=513")
                .run(started -> assertThat(started).getFailure()
                        .hasStackTraceContaining("dialer.webhook.isolation")
                        .hasStackTraceContaining("maxConcurrentPerHost"));
    }
}
