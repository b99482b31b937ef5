package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

class ReplayPropertiesTest {

    @EnableConfigurationProperties(ReplayProperties.class)
    static class Bound {
    }

    private final ApplicationContextRunner context = new ApplicationContextRunner().withUserConfiguration(Bound.class);

    @Test
    void readsFiveHundredEventsOfAReplayAtATimeByDefault() {
        context.run(started -> assertThat(started.getBean(ReplayProperties.class).pageSize()).isEqualTo(500));
    }

    @Test
    void refusesToStartWithPagesOfNoEvents() {
        context.withPropertyValues("dialer.webhook.replay.page-size=0")
                .run(started -> assertThat(started).getFailure()
                        .hasStackTraceContaining("dialer.webhook.replay")
                        .hasStackTraceContaining("pageSize"));
    }
}
