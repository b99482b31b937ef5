package dev.dialer.dispatcher.retry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.context.ConfigurationPropertiesAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.Configuration;

class SchedulePropertiesTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ConfigurationPropertiesAutoConfiguration.class,
                    ValidationAutoConfiguration.class))
            .withUserConfiguration(Properties.class);

    @Test
    void theScheduleIsMeasuredEveryFifteenSecondsByDefault() {
        runner.run(context -> assertThat(context.getBean(ScheduleProperties.class).gaugeEvery())
                .isEqualTo(Duration.ofSeconds(15)));
    }

    @Test
    void aPeriodThatIsNotPositiveStopsTheStart() {
        for (String every : new String[] {"PT0S", "-PT1S"}) {
            runner.withPropertyValues("dialer.dispatcher.schedule.gauge-every=" + every)
                    .run(context -> assertThat(context).as(every).hasFailed());
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(ScheduleProperties.class)
    static class Properties {
    }
}
