package dev.dialer.dispatcher.watchdog;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The reconciliation watchdog.
 *
 * @param enabled      run it (every dispatcher instance may: claims are leased)
 * @param margin       added to the carrier's ring timeout and time limit: an attempt with no news for that long is
 *                     reconciled
 * @param pollInterval how often quiet attempts are looked for
 * @param lease        how long a claimed attempt is left to the dispatcher that claimed it
 * @param batchSize    attempts claimed at a time (a poll claims again while its claims come back full)
 * @param staleAfter   the {@code watchdog} health component ({@code /actuator/health}, not readiness: decision 0128)
 *                     goes DOWN when no poll has finished for this long (several poll intervals: a poll that
 *                     reconciles a full batch against a slow carrier takes a while). Longer than {@code lease} plus
 *                     a {@code poll-interval}, so that a claim given up at its lease, which the next poll recovers
 *                     from, does not report it DOWN; unset, twice that, at least 2 minutes (5 minutes by default)
 * @param giveUpAfter  how long past the end of a quiet attempt's call's life (its dial, its ring timeout and time
 *                     limit, and the margin: the carrier has ended the call by then) the watchdog keeps asking a
 *                     carrier that cannot answer (an API down, refusing the account, or answering what the dialer
 *                     cannot read); then the attempt ends as one the carrier no longer knows, so that its request
 *                     still gets its final event
 */
@Validated
@ConfigurationProperties("dialer.dispatcher.watchdog")
public record WatchdogProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("PT5M") @NotNull Duration margin,
        @DefaultValue("PT30S") @NotNull Duration pollInterval,
        @DefaultValue("PT2M") @NotNull Duration lease,
        @DefaultValue("50") @Min(1) int batchSize,
        Duration staleAfter,
        @DefaultValue("PT15M") @NotNull Duration giveUpAfter) {

    public WatchdogProperties {
        requireNotNegative("margin", margin);
        requirePositive("poll-interval", pollInterval);
        requirePositive("lease", lease);
        // Derived when unset, so that a longer lease alone never makes the service refuse to start.
        if (staleAfter == null && lease != null && pollInterval != null) {
            Duration twiceAClaim = lease.plus(pollInterval).multipliedBy(2);
            staleAfter = twiceAClaim.compareTo(Duration.ofMinutes(2)) > 0 ? twiceAClaim : Duration.ofMinutes(2);
        }
        requirePositive("stale-after", staleAfter);
        if (lease != null && pollInterval != null && staleAfter != null
                && staleAfter.compareTo(lease.plus(pollInterval)) <= 0) {
            throw new IllegalArgumentException("dialer.dispatcher.watchdog.stale-after must be longer than lease ("
                    + lease + ") plus a poll-interval (" + pollInterval + "), was " + staleAfter);
        }
        requireNotNegative("give-up-after", giveUpAfter);
        if (pollInterval != null && staleAfter != null && staleAfter.compareTo(pollInterval.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("dialer.dispatcher.watchdog.stale-after must be at least two poll "
                    + "intervals (" + pollInterval.multipliedBy(2) + "), was " + staleAfter);
        }
    }

    private static void requirePositive(String name, Duration value) {
        if (value != null && (value.isNegative() || value.isZero())) {
            throw new IllegalArgumentException("dialer.dispatcher.watchdog." + name + " must be positive, was " + value);
        }
    }

    private static void requireNotNegative(String name, Duration value) {
        if (value != null && value.isNegative()) {
            throw new IllegalArgumentException("dialer.dispatcher.watchdog." + name + " must not be negative, was "
                    + value);
        }
    }
}
