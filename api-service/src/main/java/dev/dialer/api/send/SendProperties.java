package dev.dialer.api.send;

import dev.dialer.api.ids.TimeOrderedUuids;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * The send and preview endpoints.
 *
 * @param maxBodySize   largest request body read; a larger one is answered 413 without being buffered
 * @param maxRecipients most recipients one request's {@code to} may hold; more is answered 413 naming {@code to}
 *                      before any number is read. The default, 1,000, is the bulk request the API is measured at
 *                      (docs/benchmarks/api.md), and small enough that: a thousand recipients each with the longest
 *                      {@code foreign_id} (about 170 KB) fit in the default body size, so the count is the limit a
 *                      client meets, however it writes {@code to}; the answer (a row per recipient, which an
 *                      {@code Idempotency-Key} also stores) stays near the body's size; and one request, which the
 *                      rate limit counts once, holds the database and Kafka for tens of milliseconds, not seconds
 */
@Validated
@ConfigurationProperties("dialer.api.send")
record SendProperties(@DefaultValue(SendProperties.DEFAULT_MAX_BODY_SIZE) @NotNull DataSize maxBodySize,
                      @DefaultValue("" + SendProperties.DEFAULT_MAX_RECIPIENTS) int maxRecipients) {

    /** The defaults, which the OpenAPI document states too. */
    static final String DEFAULT_MAX_BODY_SIZE = "256KB";
    static final int DEFAULT_MAX_BODY_BYTES = 256 * 1024;
    static final int DEFAULT_MAX_RECIPIENTS = 1000;

    SendProperties {
        if (maxBodySize != null && (maxBodySize.toBytes() < 1024 || maxBodySize.toBytes() > Integer.MAX_VALUE)) {
            throw new IllegalArgumentException("dialer.api.send.max-body-size must be between 1KB and 2GB");
        }
        if (maxRecipients < 1 || maxRecipients > TimeOrderedUuids.MAX_RECIPIENTS) {
            // A send's calls' ids number its recipients in 16 bits (decision 0086).
            throw new IllegalArgumentException("dialer.api.send.max-recipients must be between 1 and "
                    + TimeOrderedUuids.MAX_RECIPIENTS);
        }
    }
}
