package dev.dialer.dispatcher.callback;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * How carrier callbacks are applied.
 *
 * @param batchSize       at most this many calls' non-final status changes (initiated, ringing, in-progress) made in
 *                        one statement ({@link StatusMoves}); 1 makes each in a statement of its own, as it comes
 * @param batchesInFlight at most this many of those statements run at once (each on a connection of the pool, two
 *                        for a batch split after a failure); a second starts only while a whole batch waits, or once
 *                        the running ones have run {@link StatusMoves#SLOW_STATEMENT}
 * @param applyInPlace    whether a callback about a call this dispatcher dialled, whose caller ID it owns, is applied
 *                        where it arrives instead of travelling through {@code dialer.carrier.callbacks} (decision
 *                        0100); unset, it is when the carrier posts to this dispatcher's own address (no
 *                        {@code carrier.callback-url}, which may name a load balancer that spreads a call's callbacks
 *                        over several dispatchers); off, every callback with a caller ID goes through the topic
 */
@Validated
@ConfigurationProperties("dialer.dispatcher.callbacks")
public record CallbackProperties(@DefaultValue("64") @Min(1) @Max(1000) int batchSize,
                                 @DefaultValue("4") @Min(1) @Max(64) int batchesInFlight,
                                 Boolean applyInPlace) {

    /** {@link #applyInPlace}, or its default when unset: whether the carrier posts to this dispatcher's own address. */
    public boolean appliesInPlace(String configuredCallbackUrl) {
        return applyInPlace != null ? applyInPlace : configuredCallbackUrl == null;
    }
}
