package dev.dialer.dispatcher.pacing;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * How a partition's records are held in per-caller-ID lanes.
 *
 * @param maxInFlightPerPartition records of one partition held for dialling at once (waiting in a lane or being
 *                                dialled); the partition stops fetching when it is reached and fetches again below
 *                                half of it. Also stops fetching: 1,000 records on their way to the parking lot, or
 *                                20 times this many offsets kept (a few bytes each) behind an unfinished record
 * @param inFlightPerLane         dials of one caller ID running at once (each started in order, in its turn)
 * @param parkAfter               a record whose lane already holds this much waiting (in time at the lane's rate)
 *                                is parked in {@code dispatch.schedule} rather than held, so a long backlog never
 *                                holds the partition's commits or the window
 * @param maxDialsInFlight        dials running at once in this dispatcher, all partitions together (a dial runs from
 *                                its start until the carrier accepted or refused the call); further starts wait for
 *                                one to end. Bounds the heap when starts outrun PostgreSQL and the carrier. Keep it
 *                                below the carrier guard's {@code max-concurrent-calls} (200), or a burst of starts
 *                                finds the carrier's bulkhead full
 */
@Validated
@ConfigurationProperties("dialer.dispatcher.lanes")
public record LanesProperties(
        @DefaultValue("1000") @Min(2) int maxInFlightPerPartition,
        @DefaultValue("50") @Min(1) int inFlightPerLane,
        @DefaultValue("PT10S") @NotNull Duration parkAfter,
        @DefaultValue("150") @Min(1) int maxDialsInFlight) {

    public LanesProperties {
        if (parkAfter != null && (parkAfter.isNegative() || parkAfter.isZero())) {
            throw new IllegalArgumentException("dialer.dispatcher.lanes.park-after must be positive");
        }
    }
}
