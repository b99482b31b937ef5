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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The watchdog's claims on the real PostgreSQL: dispatchers claiming at the same moment never get the same attempt,
 * a claimed attempt is left alone until its lease lapses, and an attempt is quiet only once it was asked of the
 * carrier and had its last news before the horizon.
 */
class QuietAttemptClaimsIT extends DispatcherOnDatabase {

    @Autowired
    AttemptLedger ledger;

    /**
     * This class's attempts ended: left live and long quiet, they would be claimed by the watchdogs of test classes
     * that share the database after it, and given up on there.
     */
    @AfterEach
    void endAttempts() {
        db.sql("UPDATE dispatch.attempts SET status = 'failed'"
                        + " WHERE live AND (request_id LIKE 'claim-%' OR request_id LIKE 'quiet-%')")
                .then().block(WAIT);
    }

    @Test
    void concurrentClaimsNeverShareAnAttemptAndALeaseHoldsItUntilItLapses() {
        String batch = "claim-" + UUID.randomUUID();
        List<String> ids = IntStream.range(0, 30).mapToObj(i -> batch + "-" + i).toList();
        Flux.fromIterable(ids)
                .concatMap(id -> ledger.record(command(id)).then(ledger.markCarrierAsked(id, 1)))
                .then(age(batch + "-%", "3 hours", "3 hours"))
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

    @Test
    void anAttemptIsQuietOnlyOnceBothItsLastNewsAndTheCarriersAskAreOlderThanTheHorizon() {
        String batch = "quiet-" + UUID.randomUUID();
        Flux.just("asked-lately", "news-lately", "both-old")
                .concatMap(name -> ledger.record(command(batch + "-" + name))
                        .then(ledger.markCarrierAsked(batch + "-" + name, 1)))
                .then(age(batch + "-asked-lately", "0 seconds", "3 hours"))
                .then(age(batch + "-news-lately", "3 hours", "0 seconds"))
                .then(age(batch + "-both-old", "3 hours", "3 hours"))
                .block(WAIT);
        Instant now = Instant.now();

        Set<String> claimed = ledger.claimQuiet(now.minus(Duration.ofHours(2)), now, now.plusSeconds(60), 1000)
                .map(QuietAttempt::requestId).filter(id -> id.startsWith(batch)).collect(Collectors.toSet())
                .block(WAIT);

        assertThat(claimed).containsExactly(batch + "-both-old");
    }

    /** An attempt waiting out its own life is leased till then, and claimed only after it; not another dial's. */
    @Test
    void anAttemptLeasedUntilTheEndOfItsLifeIsClaimedOnlyAfterIt() {
        String batch = "quiet-" + UUID.randomUUID();
        String waiting = batch + "-waiting";
        ledger.record(command(waiting)).then(ledger.markCarrierAsked(waiting, 1))
                .then(age(waiting, "3 hours", "3 hours"))
                .block(WAIT);
        Instant now = Instant.now();
        Instant lifeEnd = now.plus(Duration.ofHours(1));

        int dial = db.sql("SELECT dial_no FROM dispatch.attempts WHERE request_id = $1").bind(0, waiting)
                .map(row -> row.get(0, Integer.class)).one().block(WAIT);

        ledger.leaseWatchUntil(waiting, 1, dial + 1, lifeEnd.plus(Duration.ofHours(1))).block(WAIT);
        ledger.leaseWatchUntil(waiting, 1, dial, lifeEnd).block(WAIT);

        Instant quietSince = now.minus(Duration.ofHours(2));
        assertThat(claimed(batch, quietSince, lifeEnd.minusSeconds(1))).as("leased till the end of its life").isEmpty();
        assertThat(claimed(batch, quietSince, lifeEnd.plusSeconds(1))).containsExactly(waiting);
    }

    private Set<String> claimed(String batch, Instant quietSince, Instant at) {
        return ledger.claimQuiet(quietSince, at, at.plusSeconds(60), 1000)
                .map(QuietAttempt::requestId).filter(id -> id.startsWith(batch)).collect(Collectors.toSet())
                .block(WAIT);
    }

    /** Sets back when the attempts were asked of the carrier and when they last had news. */
    private Mono<Void> age(String requestIds, String asked, String news) {
        return db.sql("UPDATE dispatch.attempts SET carrier_asked_at = now() - $2::interval,"
                        + " updated_at = now() - $3::interval WHERE request_id LIKE $1")
                .bind(0, requestIds)
                .bind(1, asked)
                .bind(2, news)
                .then();
    }

    private static CallCommand command(String requestId) {
        return new CallCommand(1, requestId, "acc-claims", "+4930555000", "+4915100000009", null, "a.wav", null, 0, 3,
                1, null, null, null, null, null, null, null, null, Instant.now());
    }
}
