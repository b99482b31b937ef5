package dev.dialer.dispatcher.retry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.context.ConfigurationPropertiesAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.Configuration;

class RetryPropertiesTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ConfigurationPropertiesAutoConfiguration.class,
                    ValidationAutoConfiguration.class))
            .withUserConfiguration(Properties.class);

    @Test
    void defaultsAreOneMinuteOneSecondPollThirtySecondLeaseTwoMinutesStaleAfterAndBatchesOfHundred() {
        runner.run(context -> assertThat(context.getBean(RetryProperties.class))
                .isEqualTo(new RetryProperties(Duration.ofMinutes(1), Duration.ofSeconds(1), Duration.ofSeconds(30),
                        Duration.ofMinutes(2), 100, Duration.ofSeconds(15), Duration.ofMinutes(30),
                        Duration.ofMinutes(5))));
    }

    @Test
    void aCallNoCarrierTookWaitsAsLongAgainAsItHasWaitedBetweenTheShortestAndLongestWait() {
        RetryProperties retry = new RetryProperties(Duration.ofMinutes(1), Duration.ofSeconds(1),
                Duration.ofSeconds(30), Duration.ofMinutes(2), 100, Duration.ofSeconds(15), Duration.ofMinutes(30),
                Duration.ofMinutes(5));
        assertThat(retry.carrierUnavailableWait(Duration.ZERO)).isEqualTo(Duration.ofSeconds(15));
        assertThat(retry.carrierUnavailableWait(Duration.ofSeconds(15))).isEqualTo(Duration.ofSeconds(15));
        assertThat(retry.carrierUnavailableWait(Duration.ofSeconds(31))).isEqualTo(Duration.ofSeconds(31));
        assertThat(retry.carrierUnavailableWait(Duration.ofSeconds(62))).isEqualTo(Duration.ofSeconds(62));
        assertThat(retry.carrierUnavailableWait(Duration.ofMinutes(4))).isEqualTo(Duration.ofMinutes(4));
        assertThat(retry.carrierUnavailableWait(Duration.ofMinutes(20))).isEqualTo(Duration.ofMinutes(5));
        // A clock that went back does not shorten the wait below the shortest.
        assertThat(retry.carrierUnavailableWait(Duration.ofSeconds(-3))).isEqualTo(Duration.ofSeconds(15));
    }

    @Test
    void minuteLengthCanBeShortenedForDemos() {
        runner.withPropertyValues("dialer.dispatcher.retry.minute-length=PT0.2S")
                .run(context -> assertThat(context.getBean(RetryProperties.class).minuteLength())
                        .isEqualTo(Duration.ofMillis(200)));
    }

    @Test
    void badValuesStopTheStart() {
        Map.of("minute-length", "PT0S", "poll-interval", "-PT1S", "lease", "PT0.5S", "batch-size", "0")
                .forEach((name, value) -> runner.withPropertyValues("dialer.dispatcher.retry." + name + "=" + value)
                        .run(context -> assertThat(context).as(name).hasFailed()));
    }

    @Test
    void staleAfterMustOutlastATickGivenUpAtItsLeaseAndTheNextTwoPolls() {
        runner.withPropertyValues("dialer.dispatcher.retry.lease=PT1M", "dialer.dispatcher.retry.stale-after=PT1M2S")
                .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("stale-after"));
        runner.withPropertyValues("dialer.dispatcher.retry.lease=PT1M", "dialer.dispatcher.retry.stale-after=PT1M3S")
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void staleAfterUnsetFollowsALongerLease() {
        runner.withPropertyValues("dialer.dispatcher.retry.lease=PT5M")
                .run(context -> assertThat(context.getBean(RetryProperties.class).staleAfter())
                        .isEqualTo(Duration.ofMinutes(10).plusSeconds(4)));
    }

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(RetryProperties.class)
    static class Properties {
    }
}
