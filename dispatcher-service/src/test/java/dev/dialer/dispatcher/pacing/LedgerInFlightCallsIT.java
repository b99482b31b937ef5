package dev.dialer.dispatcher.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * What a dispatcher that gains partitions counts as trunk slots already held, on the real PostgreSQL: every call the
 * carrier was asked for that may still be going on by its own ring timeout and time limit, held for what is left of
 * that, not only those placed within {@code slot-time-limit}.
 */
class LedgerInFlightCallsIT extends DispatcherOnDatabase {

    private static final int PARTITIONS = 6;
    private static final Set<Integer> ALL = IntStream.range(0, PARTITIONS).boxed().collect(Collectors.toSet());

    @Autowired
    AttemptLedger attempts;

    @Autowired
    InFlightCalls inFlight;

    @Test
    void aLongCallPlacedBeforeTheSlotTimeLimitIsCountedForWhatIsLeftOfItsOwnHold() {
        // Three hours allowed to talk, placed 70 minutes ago: longer ago than slot-time-limit (65 minutes).
        String talking = placed(Map.of("timeout", 120, "timeLimit", 10_800), Duration.ofMinutes(70));
        // The carriers' defaults (60 s of ringing, an hour of talk, 4 minutes' margin), placed as long ago: over.
        String over = placed(Map.of(), Duration.ofMinutes(70));
        // Placed a minute ago with the defaults.
        String recent = placed(Map.of(), Duration.ofMinutes(1));

        Map<String, TrunkGate.CountedCall> counted;
        try {
            counted = inFlight.on(ALL, PARTITIONS).collectList().block(WAIT).stream()
                    .filter(call -> List.of(talking, over, recent).contains(call.slotKey()))
                    .collect(Collectors.toMap(TrunkGate.CountedCall::slotKey, call -> call));
        } finally {
            // Ended, so that no dispatcher of a later test counts them as calls holding its trunk's slots.
            db.sql("UPDATE dispatch.attempts SET status = 'completed' WHERE request_id LIKE 'inflight-%'")
                    .then().block(WAIT);
        }

        assertThat(counted).containsOnlyKeys(talking, recent);
        assertThat(Duration.ofNanos(counted.get(talking).holdNanos()))
                .isEqualTo(Duration.ofSeconds(120 + 10_800).plusMinutes(4));
        assertThat(Duration.ofNanos(counted.get(talking).ageNanos())).isBetween(Duration.ofMinutes(70),
                Duration.ofMinutes(71));
        assertThat(Duration.ofNanos(counted.get(recent).holdNanos())).isEqualTo(Duration.ofMinutes(65));
    }

    @Test
    void ofTheCallsNamedThoseStillInFlightAreTold() {
        String talking = placed(Map.of("timeout", 120, "timeLimit", 10_800), Duration.ofMinutes(70));
        String notPlaced = placed(Map.of(), Duration.ofMinutes(1));
        String requeued = placed(Map.of(), Duration.ofMinutes(1));
        String ended = placed(Map.of(), Duration.ofMinutes(1));
        Set<String> still;
        try {
            // As the previous owner of their partition ends a dial it could not place, requeues one the carrier
            // refused for its capacity, and applies a terminal status.
            db.sql("UPDATE dispatch.attempts SET carrier_asked_at = NULL WHERE request_id = $1")
                    .bind(0, notPlaced.substring(0, notPlaced.lastIndexOf('#')))
                    .then().block(WAIT);
            db.sql("UPDATE dispatch.attempts SET requeued = true WHERE request_id = $1")
                    .bind(0, requeued.substring(0, requeued.lastIndexOf('#')))
                    .then().block(WAIT);
            db.sql("UPDATE dispatch.attempts SET status = 'completed' WHERE request_id = $1")
                    .bind(0, ended.substring(0, ended.lastIndexOf('#')))
                    .then().block(WAIT);
            still = inFlight.stillInFlight(List.of(talking, notPlaced, requeued, ended, "unknown-request#1",
                    TrunkGate.slotKey(talking.substring(0, talking.lastIndexOf('#')), 2))).block(WAIT);
        } finally {
            db.sql("UPDATE dispatch.attempts SET status = 'completed' WHERE request_id LIKE 'inflight-%'")
                    .then().block(WAIT);
        }

        assertThat(still).containsExactly(talking);
    }

    /** An attempt in progress whose carrier was asked {@code ago}; its slot key. */
    private String placed(Map<String, Object> carrierOptions, Duration ago) {
        String id = "inflight-" + UUID.randomUUID();
        CallCommand command = new CallCommand(1, id, "acc-inflight", "+4930555077", "+4915112340301", null, "a.wav",
                null, 0, 1, 1, null, null, null, null, null, null, null, carrierOptions, Instant.now());
        attempts.record(command).block(WAIT);
        attempts.claimDial(id, 1).block(WAIT);
        db.sql("""
                        UPDATE dispatch.attempts SET status = 'in-progress', carrier_asked_at = $2
                         WHERE request_id = $1""")
                .bind(0, id)
                .bind(1, Instant.now().minus(ago))
                .then().block(WAIT);
        return TrunkGate.slotKey(id, 1);
    }
}
