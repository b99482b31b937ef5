package dev.dialer.api.send;

import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * The send endpoint.
 *
 * @param maxBodySize largest request body read; a larger one is answered 413 without being buffered
 */
@Validated
@ConfigurationProperties("dialer.api.send")
record SendProperties(@DefaultValue("256KB") @NotNull DataSize maxBodySize) {

    SendProperties {
        if (maxBodySize != null && (maxBodySize.toBytes() < 1024 || maxBodySize.toBytes() > Integer.MAX_VALUE)) {
            throw new IllegalArgumentException("dialer.api.send.max-body-size must be between 1KB and 2GB");
        }
    }
}
