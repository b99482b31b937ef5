package dev.dialer.webhook.delivery;

import dev.dialer.common.hook.PlainHttpPolicy;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.time.Duration;
import java.util.List;
import org.hibernate.validator.constraints.time.DurationMax;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * How one HTTP try reaches a webhook endpoint, and what may be sent where.
 *
 * @param connectTimeout    how long opening a connection to an endpoint may take
 * @param totalTimeout      how long one try may take until it is answered: connect, send, and the answer's status
 *                          and headers (the body's start is read after that, see {@code responseBodyTimeout})
 * @param lookupWait        how long events wait for a webhook id the directory has never seen (a webhook created
 *                          just before a call may still be on its way), each event from its own arrival, before its
 *                          delivery to it is stored for a try after the retry ordering wait (dead-lettered then if
 *                          the webhook is still unknown); events naming a deleted webhook skip it at once
 * @param hookSigningKey    {@code whsec_} key (at least 16 bytes) from which each account's secret for its
 *                          per-request hooks ({@code notify_url}, {@code action_hook}, {@code amd_hook}) is derived
 *                          ({@link dev.dialer.common.hook.HookSecrets}); api-service must have the same key to show
 *                          accounts their secret. Changing it changes every account's hook secret. Unset or empty
 *                          sends hooks unsigned (with a warning at start-up)
 * @param allowedHosts      host names, IP literals and CIDR blocks that may be called although they resolve to an
 *                          address that is not public unicast (loopback, private, shared, link-local, special-purpose,
 *                          see {@link TargetGuard}); none by default, so that no webhook reaches the machine or
 *                          network the service runs in unless a deployment says so (the standalone stack allows the
 *                          local machine for its receivers)
 * @param plainHttp         where plain {@code http://} may be used: {@code allowed} everywhere (local development),
 *                          {@code allow-listed} only for hosts on {@code allowed-hosts} (the default), {@code refused}
 *                          nowhere ({@link PlainHttpPolicy}; api-service refuses such URLs by the same settings)
 * @param maxPayload        the largest event sent; a larger one is refused (and logged)
 * @param responseBodyLimit how much of an endpoint's answer is read and kept in the delivery log; the rest is not read
 * @param responseBodyTimeout how long the start of an answer's body is read, once its status has arrived: what
 *                          arrived by then is kept, and the try is the status's all the same
 * @param publishedBodyLimit how much of that answer goes into the record on {@code dialer.webhook.deliveries}
 */
@Validated
@ConfigurationProperties(prefix = "dialer.webhook.delivery")
record DeliveryProperties(
        @NotNull @DurationMin(millis = 1) @DefaultValue("5s") Duration connectTimeout,
        @NotNull @DurationMin(millis = 1) @DefaultValue("15s") Duration totalTimeout,
        @NotNull @DurationMin(millis = 0) @DurationMax(minutes = 5) @DefaultValue("10s") Duration lookupWait,
        @Pattern(regexp = "(whsec_[A-Za-z0-9+/=]+)?") String hookSigningKey,
        @NotNull @DefaultValue List<String> allowedHosts,
        @NotNull @DefaultValue("allow-listed") PlainHttpPolicy.Mode plainHttp,
        @NotNull @DefaultValue("256KB") DataSize maxPayload,
        @NotNull @DefaultValue("20KB") DataSize responseBodyLimit,
        @NotNull @DefaultValue("4KB") DataSize publishedBodyLimit,
        @NotNull @DurationMin(millis = 1) @DurationMax(minutes = 1) @DefaultValue("1s") Duration responseBodyTimeout) {

    /**
     * How long a claimed retry stays leased: the name lookup (at most the connect timeout), the try (at most the total
     * timeout and the body's read) and {@link #RECORDING} to write what came of it, so that a live try is not claimed
     * again. The wait for a pooled connection is part of the try, within its total timeout. A try that outlives its
     * lease all the same writes nothing over a newer claim ({@link RetryStore}).
     */
    Duration lease() {
        return connectTimeout.plus(totalTimeout).plus(responseBodyTimeout).plus(RECORDING);
    }

    /** Time allowed to record a try's outcome: a few statements and the attempt's publish (up to 10 s). */
    static final Duration RECORDING = Duration.ofSeconds(60);
}
