package dev.dialer.webhook.delivery;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * How replay requests ({@link ReplayConsumer}) are read and queued.
 *
 * @param pageSize events read and queued at a time, each page in its own transaction: a replay holds at most this
 *                 many events in memory, however long its window
 */
@Validated
@ConfigurationProperties(prefix = "dialer.webhook.replay")
record ReplayProperties(@Min(1) @Max(10_000) @DefaultValue("500") int pageSize) {
}
