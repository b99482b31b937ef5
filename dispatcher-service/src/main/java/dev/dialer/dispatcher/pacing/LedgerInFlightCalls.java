package dev.dialer.dispatcher.pacing;

import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.InFlightAttempt;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.apache.kafka.common.utils.Utils;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;

/**
 * The calls in flight on gained partitions, from the attempt ledger: attempts the carrier was asked for within the
 * slot time limit that have not ended, whose caller ID lives on one of the partitions. A caller ID's partition is the
 * one Kafka's Java client (murmur2) gives its key, as the commands consumer routes them.
 */
@Component
class LedgerInFlightCalls implements InFlightCalls {

    private final AttemptLedger ledger;
    private final Clock clock;
    private final Duration slotTimeLimit;

    LedgerInFlightCalls(AttemptLedger ledger, Clock clock, PacingProperties pacing) {
        this.ledger = ledger;
        this.clock = clock;
        this.slotTimeLimit = pacing.slotTimeLimit();
    }

    @Override
    public Flux<TrunkGate.CountedCall> on(Set<Integer> partitions, int partitionCount) {
        Instant now = clock.instant();
        return ledger.inFlight(now.minus(slotTimeLimit))
                .filter(attempt -> partitions.contains(partitionOf(attempt.callerId(), partitionCount)))
                .map(attempt -> counted(attempt, partitionCount, now));
    }

    private static TrunkGate.CountedCall counted(InFlightAttempt attempt, int partitionCount, Instant now) {
        long age = Duration.between(attempt.carrierAskedAt(), now).toNanos();
        return new TrunkGate.CountedCall(TrunkGate.slotKey(attempt.requestId(), attempt.attempt()),
                partitionOf(attempt.callerId(), partitionCount), age);
    }

    static int partitionOf(String callerId, int partitionCount) {
        return Utils.toPositive(Utils.murmur2(callerId.getBytes(StandardCharsets.UTF_8))) % partitionCount;
    }
}
