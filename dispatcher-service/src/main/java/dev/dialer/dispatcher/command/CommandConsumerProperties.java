package dev.dialer.dispatcher.command;

import dev.dialer.common.kafka.Topics;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * How the dispatcher consumes {@code dialer.call.commands}.
 *
 * @param groupId        consumer group shared by every dispatcher replica
 * @param maxPollRecords records fetched per poll: bounds what sits in memory per consumer
 * @param concurrency    partitions handled at once; must be at least the partitions of {@code dialer.call.commands},
 *                       or the per-partition pipeline stalls: a replica keeps the pipeline of every partition it has
 *                       owned since it started, not only of those it owns now. The dispatcher refuses to start on a
 *                       topic with more ({@link #requireCovers})
 * @param rebalanceWait  how long a revocation waits for records already handed to the lanes to be acknowledged (so
 *                       their offsets are committed before the new owner starts); the rest are delivered again to the
 *                       new owner, whose attempt ledger keeps them from dialling twice. Records waiting for their rate
 *                       are never acknowledged in time, so this is a bound on how long a rebalance stalls the group
 * @param callbackStreams callbacks of one {@code dialer.carrier.callbacks} partition applied at once: each caller ID's
 *                       always one after another (so each call's), the partition's caller IDs spread over this many
 *                       streams by hash. 1 applies the partition's callbacks strictly one after another
 * @param drainTimeout   how long an orderly stop waits for the dials running to end before it cancels them (no dial
 *                       starts meanwhile): longer than a dial takes (the carrier's request bound,
 *                       {@code carrier.routing.guard.timeout}, and its statements), shorter than Spring's
 *                       {@code spring.lifecycle.timeout-per-shutdown-phase} (30 s)
 */
@Validated
@ConfigurationProperties("dialer.dispatcher.commands")
public record CommandConsumerProperties(
        @DefaultValue("dialer-dispatcher") @NotBlank String groupId,
        @DefaultValue("500") @Min(1) int maxPollRecords,
        @DefaultValue("256") @Min(1) int concurrency,
        @DefaultValue("PT1S") Duration rebalanceWait,
        @DefaultValue("4") @Min(1) @Max(64) int callbackStreams,
        @DefaultValue("PT15S") Duration drainTimeout) {

    public CommandConsumerProperties {
        if (drainTimeout == null || drainTimeout.isNegative()) {
            throw new IllegalArgumentException("dialer.dispatcher.commands.drain-timeout must not be negative: "
                    + drainTimeout);
        }
    }

    /**
     * Refuses a commands topic of more than {@link #concurrency} partitions: the pipelines of the partitions past it
     * would wait for a place that never frees, and their commands would never be dialled.
     */
    public void requireCovers(int commandsPartitions) {
        if (!covers(commandsPartitions)) {
            throw new IllegalStateException(uncovered(commandsPartitions) + "; set it to at least "
                    + commandsPartitions);
        }
    }

    /** Whether {@code commandsPartitions} partitions of the commands topic can all be read at once. */
    public boolean covers(int commandsPartitions) {
        return commandsPartitions <= concurrency;
    }

    /** What is wrong when {@code commandsPartitions} are not {@linkplain #covers covered}. */
    public String uncovered(int commandsPartitions) {
        return "dialer.dispatcher.commands.concurrency (" + concurrency + ") is less than the " + commandsPartitions
                + " partitions of " + Topics.CALL_COMMANDS + ": the commands of partitions past it would never be read";
    }
}
