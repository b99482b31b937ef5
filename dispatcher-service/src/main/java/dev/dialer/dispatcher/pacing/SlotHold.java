package dev.dialer.dispatcher.pacing;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CarrierOptions;
import java.time.Duration;
import java.util.Map;

/**
 * How long a call's trunk slot may be held without its final status: as long as the call itself may last, its ring
 * timeout and time limit, and {@code slot-margin} for the way to the carrier and the final status's way back; never
 * less than {@code slot-time-limit}.
 *
 * <p>The ring timeout and time limit are the command's own ({@code carrier_options.timeout} and {@code timeLimit},
 * which both carriers send or apply in place of their defaults), else the carriers' defaults (the longer of the two,
 * whichever carrier places the call). A call given a time limit of hours keeps its slot while it talks: with one bound
 * for every call, its slot lapsed at {@code slot-time-limit} and the trunk carried one call more than its limit until
 * the call ended. Each value counts for at most {@link #MAX_SECONDS}, the most the API accepts, so a slot whose final
 * status is lost is freed within two days and a margin whatever a command says.
 */
final class SlotHold {

    /** The most seconds of a ring timeout or a time limit counted: a day, the most the API accepts for either. */
    static final long MAX_SECONDS = CarrierOptions.MAX_SECONDS;

    private final long floorNanos;
    private final long marginNanos;
    private final long defaultRingSeconds;
    private final long defaultLimitSeconds;

    /**
     * @param slotTimeLimit the least a slot is held
     * @param margin        added to the call's ring timeout and time limit
     * @param defaultRing   the ring timeout of a command that names none
     * @param defaultLimit  the time limit of a command that names none
     */
    SlotHold(Duration slotTimeLimit, Duration margin, Duration defaultRing, Duration defaultLimit) {
        this.floorNanos = slotTimeLimit.toNanos();
        this.marginNanos = margin.toNanos();
        this.defaultRingSeconds = Math.min(defaultRing.toSeconds(), MAX_SECONDS);
        this.defaultLimitSeconds = Math.min(defaultLimit.toSeconds(), MAX_SECONDS);
    }

    /** Without the carriers' defaults: a command that names no ring timeout or time limit is held the least. */
    static SlotHold configured(PacingProperties pacing) {
        return new SlotHold(pacing.slotTimeLimit(), pacing.slotMargin(), Duration.ZERO, Duration.ZERO);
    }

    /** How long the slot of {@code command}'s call may be held, in nanoseconds. */
    long nanos(CallCommand command) {
        return nanos(command.carrierOptions());
    }

    /** How long the slot of a call with these {@code carrier_options} may be held, in nanoseconds. */
    long nanos(Map<String, Object> carrierOptions) {
        long seconds = seconds(carrierOptions, "timeout", defaultRingSeconds)
                + seconds(carrierOptions, "timeLimit", defaultLimitSeconds);
        return Math.max(floorNanos, Duration.ofSeconds(seconds).toNanos() + marginNanos);
    }

    /** The longest any call's slot may be held: the longest ring timeout and time limit counted, and the margin. */
    Duration longest() {
        return Duration.ofNanos(Math.max(floorNanos, Duration.ofSeconds(2 * MAX_SECONDS).toNanos() + marginNanos));
    }

    /** As the carriers read the option ({@link CarrierOptions#seconds}), else the default. */
    private static long seconds(Map<String, Object> carrierOptions, String option, long fallback) {
        Long seconds = CarrierOptions.seconds(carrierOptions, option);
        return seconds != null ? seconds : fallback;
    }
}
