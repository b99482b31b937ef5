package dev.dialer.dispatcher.pacing;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.PositiveOrZero;
import java.time.Duration;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.ConstructorBinding;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The dial limits. A rate of 0 means no limit. Map keys holding {@code +} are written in brackets in YAML
 * ({@code "[+4930123456]": 2}).
 *
 * @param callerCps           calls per second started per caller ID, unless overridden
 * @param callerBurst         calls one caller ID may start back to back after an idle spell (1 = evenly spaced)
 * @param accountCallerCps    per-account override of {@code caller-cps}, by account id
 * @param numberCps           per-caller-ID override, by E.164 caller ID; wins over the account's
 * @param campaignCps         calls per second per campaign, for campaigns of the names listed here only: each
 *                            account's campaign of a name has the rate of its own
 * @param trunkCps            calls per second across a trunk (each carrier of the route table is one), divided among
 *                            dispatchers by partition share, unless {@code trunks} names the trunk
 * @param trunkConcurrency    calls in progress at once on a trunk (a slot is held until the attempt's terminal
 *                            status), divided among dispatchers by partition share; shrinks on capacity rejections;
 *                            unless {@code trunks} names the trunk
 * @param slotTimeLimit       a concurrency slot whose terminal status never arrives is released after this long, or
 *                            after its call's own ring timeout, time limit and {@code slotMargin} when that is longer
 * @param capacityRequeueDelay how long a call the carrier rejected for capacity waits before it is dialled again
 * @param timerCatchUp        how late a start may come for the time its rate promised and still keep the rate's
 *                            schedule (the next start then follows at once): what a busy machine's late timers cost
 *                            the rate is made up, never beyond rate + burst starts in any one-second window. 0 gives
 *                            lateness away, as a plain cell rate algorithm does
 * @param slotMargin          added to a call's ring timeout and time limit for how long its slot may be held: the
 *                            time from the dial to the carrier's ringing, and for the final status to come back
 * @param trunks              per trunk, by its carrier's route name ({@code voice-gateway} or {@code sip} with a
 *                            single carrier), its own figures; what one leaves out is the default figure above
 */
@Validated
@ConfigurationProperties("dialer.dispatcher.pacing")
public record PacingProperties(
        @DefaultValue("10") @PositiveOrZero double callerCps,
        @DefaultValue("1") @Min(1) int callerBurst,
        Map<String, Double> accountCallerCps,
        Map<String, Double> numberCps,
        Map<String, Double> campaignCps,
        @DefaultValue("0") @PositiveOrZero double trunkCps,
        @DefaultValue("0") @PositiveOrZero int trunkConcurrency,
        @DefaultValue("PT1H5M") @NotNull Duration slotTimeLimit,
        @DefaultValue("PT2S") @NotNull Duration capacityRequeueDelay,
        @DefaultValue("PT1S") @NotNull Duration timerCatchUp,
        @DefaultValue("PT4M") @NotNull Duration slotMargin,
        Map<String, @Valid Trunk> trunks) {

    @ConstructorBinding
    public PacingProperties {
        if (timerCatchUp != null && timerCatchUp.isNegative()) {
            throw new IllegalArgumentException("dialer.dispatcher.pacing.timer-catch-up must not be negative");
        }
        if (slotMargin != null && slotMargin.isNegative()) {
            throw new IllegalArgumentException("dialer.dispatcher.pacing.slot-margin must not be negative");
        }
        accountCallerCps = accountCallerCps == null ? Map.of() : Map.copyOf(accountCallerCps);
        numberCps = numberCps == null ? Map.of() : Map.copyOf(numberCps);
        campaignCps = campaignCps == null ? Map.of() : Map.copyOf(campaignCps);
        trunks = trunks == null ? Map.of() : Map.copyOf(trunks);
    }

    /** With no trunk of its own figures. */
    public PacingProperties(double callerCps, int callerBurst, Map<String, Double> accountCallerCps,
                            Map<String, Double> numberCps, Map<String, Double> campaignCps, double trunkCps,
                            int trunkConcurrency, Duration slotTimeLimit, Duration capacityRequeueDelay,
                            Duration timerCatchUp, Duration slotMargin) {
        this(callerCps, callerBurst, accountCallerCps, numberCps, campaignCps, trunkCps, trunkConcurrency,
                slotTimeLimit, capacityRequeueDelay, timerCatchUp, slotMargin, Map.of());
    }

    /** With the default {@code slot-margin} (4 minutes). */
    public PacingProperties(double callerCps, int callerBurst, Map<String, Double> accountCallerCps,
                            Map<String, Double> numberCps, Map<String, Double> campaignCps, double trunkCps,
                            int trunkConcurrency, Duration slotTimeLimit, Duration capacityRequeueDelay,
                            Duration timerCatchUp) {
        this(callerCps, callerBurst, accountCallerCps, numberCps, campaignCps, trunkCps, trunkConcurrency,
                slotTimeLimit, capacityRequeueDelay, timerCatchUp, Duration.ofMinutes(4));
    }

    /** The calls per second of the trunk named {@code trunk}: its own figure, or else {@code trunk-cps}. */
    public double trunkCps(String trunk) {
        Trunk own = trunks.get(trunk);
        return own != null && own.cps() != null ? own.cps() : trunkCps;
    }

    /** The calls in progress of the trunk named {@code trunk}: its own figure, or else {@code trunk-concurrency}. */
    public int trunkConcurrency(String trunk) {
        Trunk own = trunks.get(trunk);
        return own != null && own.concurrency() != null ? own.concurrency() : trunkConcurrency;
    }

    /**
     * One trunk's own limits; 0 means no limit, and a figure left out is the default one.
     *
     * @param cps         calls per second across the trunk, divided among dispatchers by partition share
     * @param concurrency calls in progress at once on the trunk, divided likewise; shrinks on its capacity rejections
     */
    public record Trunk(@PositiveOrZero Double cps, @PositiveOrZero Integer concurrency) {
    }
}
