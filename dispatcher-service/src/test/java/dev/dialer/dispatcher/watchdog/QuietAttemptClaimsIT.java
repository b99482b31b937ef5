package dev.dialer.dispatcher.watchdog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.QuietAttempt;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The watchdog's claims on the real PostgreSQL: dispatchers claiming at the same moment never get the same attempt,
 * and a claimed attempt is left alone until its lease lapses.
 */
class QuietAttemptClaimsIT extends DispatcherOnDatabase {

    @Autowired
    AttemptLedger ledger;

    @Test
    void concurrentClaimsNeverShareAnAttemptAndALeaseHoldsItUntilItLapses() {
        String batch = "claim-" + UUID.randomUUID();
        List<String> ids = IntStream.range(0, 30).mapToObj(i -> batch + "-" + i).toList();
        Flux.fromIterable(ids)
                .concatMap(id -> ledger.record(command(id)).then(ledger.markCarrierAsked(id, 1)))
                .then(db.sql("UPDATE dispatch.attempts SET updated_at = now() - interval '3 hours'"
                        + " WHERE request_id LIKE $1").bind(0, batch + "-%").then())
                .block(WAIT);
        Instant now = Instant.now();
        Instant quietSince = now.minus(Duration.ofHours(2));

        List<List<QuietAttempt>> claims = Flux.range(0, 4)
                .flatMap(claimer -> ledger.claimQuiet(quietSince, now, now.plusSeconds(60), 1000).collectList()
                        .subscribeOn(Schedulers.parallel()), 4)
                .collectList()
                .block(WAIT);

        Set<String> seen = new HashSet<>();
        for (List<QuietAttempt> claim : claims) {
            for (QuietAttempt attempt : claim) {
                assertThat(seen.add(attempt.requestId())).as("claimed twice: %s", attempt.requestId()).isTrue();
            }
        }
        assertThat(seen).containsAll(ids);
        Set<String> again = ledger.claimQuiet(quietSince, now, now.plusSeconds(60), 1000)
                .map(QuietAttempt::requestId).collect(Collectors.toSet()).block(WAIT);
        assertThat(again).as("leased attempts are not claimed again").doesNotContainAnyElementsOf(ids);
        Set<String> afterLease = ledger.claimQuiet(quietSince, now.plusSeconds(61), now.plusSeconds(120), 1000)
                .map(QuietAttempt::requestId).collect(Collectors.toSet()).block(WAIT);
        assertThat(afterLease).as("a lapsed lease frees them").containsAll(ids);
    }

    private static CallCommand command(String requestId) {
        return new CallCommand(1, requestId, "acc-claims", "+4930555000", "+4915100000009", null, "a.wav", null, 0, 3,
                1, null, null, null, null, null, null, null, null, Instant.now());
    }
}
