package dev.dialer.dispatcher.retry;

import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * How {@code dispatch.schedule} is measured ({@link ScheduleBacklog}). Bad values stop the service at start-up.
 *
 * @param gaugeEvery how often the rows waiting in the schedule are counted for the gauges: one statement that reads
 *                   the whole table, so not much more often than Prometheus scrapes
 */
@Validated
@ConfigurationProperties("dialer.dispatcher.schedule")
public record ScheduleProperties(
        @DefaultValue("PT15S") @NotNull @DurationMin(millis = 1) Duration gaugeEvery) {
}
