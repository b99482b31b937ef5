package dev.dialer.dispatcher.pacing;

import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.InFlightAttempt;
import dev.dialer.dispatcher.carrier.CarrierProperties;
import dev.dialer.dispatcher.carrier.sip.SipTrunkProperties;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The calls in flight on gained partitions, from the attempt ledger: attempts the carrier was asked for that have not
 * ended and may still be going on (each within its own hold, {@link SlotHold}: its ring timeout, time limit and the
 * margin), whose caller ID lives on one of the partitions. A caller ID's partition is the one Kafka's Java client
 * (murmur2) gives its key, as the commands consumer routes them.
 */
@Component
class LedgerInFlightCalls implements InFlightCalls {

    private final AttemptLedger ledger;
    private final Clock clock;
    private final SlotHold slotHold;

    @Autowired
    LedgerInFlightCalls(AttemptLedger ledger, Clock clock, PacingProperties pacing, CarrierProperties voiceGateway,
                        SipTrunkProperties sip) {
        this(ledger, clock, Lanes.slotHold(pacing, voiceGateway, sip));
    }

    LedgerInFlightCalls(AttemptLedger ledger, Clock clock, SlotHold slotHold) {
        this.ledger = ledger;
        this.clock = clock;
        this.slotHold = slotHold;
    }

    @Override
    public Flux<TrunkGate.CountedCall> on(Set<Integer> partitions, int partitionCount) {
        Instant now = clock.instant();
        return ledger.inFlight(now.minus(slotHold.longest()))
                .filter(attempt -> partitions.contains(KafkaPublisher.partitionOf(attempt.callerId(), partitionCount)))
                .map(attempt -> counted(attempt, partitionCount, now))
                .filter(call -> call.ageNanos() < call.holdNanos());
    }

    @Override
    public Mono<Set<String>> stillInFlight(Collection<String> slotKeys) {
        List<String> requestIds = new ArrayList<>();
        List<Integer> attempts = new ArrayList<>();
        for (String slotKey : slotKeys) {
            int hash = slotKey.lastIndexOf('#');
            requestIds.add(slotKey.substring(0, hash));
            attempts.add(Integer.parseInt(slotKey.substring(hash + 1)));
        }
        return ledger.stillInFlight(requestIds, attempts)
                .map(attempt -> TrunkGate.slotKey(attempt.getKey(), attempt.getValue()))
                .collect(Collectors.toSet());
    }

    private TrunkGate.CountedCall counted(InFlightAttempt attempt, int partitionCount, Instant now) {
        long age = Duration.between(attempt.carrierAskedAt(), now).toNanos();
        return new TrunkGate.CountedCall(TrunkGate.slotKey(attempt.requestId(), attempt.attempt()),
                KafkaPublisher.partitionOf(attempt.callerId(), partitionCount), age,
                slotHold.nanos(attempt.carrierOptions()),
                attempt.carrier());
    }
}
