package dev.dialer.dispatcher.attempt;

import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * How long the request ledger ({@code dispatch.requests}, {@code dispatch.attempts}) remembers ended requests.
 *
 * @param retention     how long after its end a request, its attempts and what hangs off them are kept; zero keeps
 *                      them for ever. At least {@link #MINIMUM_RETENTION}: a command read again (a consumer group
 *                      whose offsets lapsed and start from the earliest, a reset by hand) must find its request, or it
 *                      would be dialled once more
 * @param purgeInterval how often ended requests past their retention are looked for
 */
@Validated
@ConfigurationProperties("dialer.dispatcher.ledger")
public record LedgerProperties(
        @DefaultValue("P30D") @NotNull Duration retention,
        @DefaultValue("PT1M") @NotNull Duration purgeInterval) {

    /**
     * The shortest retention: {@code dialer.call.commands} keeps a record 7 days, and a log segment is deleted only
     * once its newest record is that old, which with Kafka's default roll time (7 days) is up to 14 days after the
     * oldest was written; one day more for a consumer still reading them.
     */
    public static final Duration MINIMUM_RETENTION = Duration.ofDays(15);

    public LedgerProperties {
        if (retention != null && (retention.isNegative()
                || !retention.isZero() && retention.compareTo(MINIMUM_RETENTION) < 0)) {
            throw new IllegalArgumentException("dialer.dispatcher.ledger.retention must be zero (keep for ever) or at "
                    + "least P15D (a command may be read again 14 days after it was written), "
                    + "was " + retention);
        }
        if (purgeInterval != null && (purgeInterval.isNegative() || purgeInterval.isZero())) {
            throw new IllegalArgumentException("dialer.dispatcher.ledger.purge-interval must be positive, was "
                    + purgeInterval);
        }
    }

    /** Whether ended requests are ever deleted. */
    boolean purges() {
        return !retention.isZero();
    }
}
