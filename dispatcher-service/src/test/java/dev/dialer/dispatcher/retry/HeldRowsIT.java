package dev.dialer.dispatcher.retry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.TestClock;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Rows held because no carrier of their route would take the call now go behind the rows due after them, on the real
 * PostgreSQL: a long outage of one route, whose held rows are older than everything else, must not starve the
 * retries, window releases and parked calls of the other routes. How late such a row fires still counts the whole
 * hold. And the accounts with rows due are found in turn, and a claim takes each its share, oldest first. Each wait is
 * counted under its row's reason.
 */
class HeldRowsIT extends DispatcherOnDatabase {

    /** Far from the scheduler's own clock, so that it never claims these rows itself. */
    private static final Instant T0 = Instant.now().plus(Duration.ofDays(3)).truncatedTo(ChronoUnit.MILLIS);

    @Autowired
    AttemptLedger attempts;

    /** The account of this test's rows: a claim of its share leaves other tests' rows alone. */
    private final String account = "acc-held-" + UUID.randomUUID();

    @Test
    void aHeldRowIsClaimedAgainOnlyAfterTheRowsDueBeforeItWasHeld() {
        RetrySchedule schedule = new RetrySchedule(db);
        String outageA = waiting(T0.minusSeconds(60));
        String outageB = waiting(T0.minusSeconds(59));
        String otherRoute = waiting(T0.minusSeconds(30));

        List<ScheduledAttempt> first = schedule.claimDue(T0, T0, Duration.ofSeconds(30), share(2)).collectList()
                .block(WAIT);
        assertThat(first).extracting(row -> row.command().requestId()).containsExactlyInAnyOrder(outageA, outageB);
        for (ScheduledAttempt row : first) {
            schedule.holdUntil(row, T0.plusSeconds(5)).block(WAIT);
        }

        // The outage goes on: once the hold ends, the other route's row, due before it, comes first.
        Instant later = T0.plusSeconds(6);
        assertThat(schedule.claimDue(later, later, Duration.ofSeconds(30), share(1)).collectList().block(WAIT))
                .extracting(row -> row.command().requestId()).containsExactly(otherRoute);
        List<ScheduledAttempt> again = schedule.claimDue(later, later, Duration.ofSeconds(30), share(2)).collectList()
                .block(WAIT);
        assertThat(again).extracting(row -> row.command().requestId()).containsExactlyInAnyOrder(outageA, outageB);

        // A held row stays one row, and is still removed by the lease of the claim that took it again.
        ScheduledAttempt a = again.stream().filter(row -> row.command().requestId().equals(outageA)).findFirst()
                .orElseThrow();
        schedule.removeAll(List.of(a)).block(WAIT);
        assertThat(rows(outageA)).isZero();
    }

    @Test
    void theAccountsWithRowsDueAreFoundInTurnAndAClaimTakesEachItsShareOldestFirst() {
        RetrySchedule schedule = new RetrySchedule(db);
        // Far past the other tests' rows.
        Instant due = T0.plus(Duration.ofDays(10));
        String run = "acc-turn-" + UUID.randomUUID().toString().substring(0, 8);
        String first = run + "-a";
        String second = run + "-b";
        String notDue = run + "-c";
        String earliest = waiting(first, "z-" + UUID.randomUUID(), due.minusSeconds(10), "retry");
        // Due together: taken by request id byte by byte ("B" before "a"), whatever the database's collation.
        String upperB = waiting(first, run + "-B", due, "retry");
        String lowerA = waiting(first, run + "-a", due, "retry");
        String lowerB = waiting(first, run + "-b", due, "retry");
        String only = waiting(second, "o-" + UUID.randomUUID(), due, "retry");
        waiting(notDue, "f-" + UUID.randomUUID(), due.plusSeconds(1), "retry");
        Duration lease = Duration.ofSeconds(30);

        assertThat(ofRun(schedule.dueAccounts(due, "", 1_000_000).block(WAIT), run))
                .as("in order, those with nothing due left out").containsExactly(first, second);
        assertThat(ofRun(schedule.dueAccounts(due, first, 1_000_000).block(WAIT), run))
                .as("after the one served last, then from the start").containsExactly(second, first);
        assertThat(schedule.dueAccounts(due, "", 1).block(WAIT)).as("at most as many as asked").hasSize(1);
        Instant beforeAll = Instant.EPOCH;
        assertThat(schedule.dueAccounts(beforeAll, "", 1_000_000).block(WAIT)).as("nothing due").isEmpty();

        List<ScheduledAttempt> claimed = schedule.claimDue(due, due, lease, List.of(new RetrySchedule.Share(first, 2),
                new RetrySchedule.Share(second, 5), new RetrySchedule.Share(notDue, 5))).collectList().block(WAIT);
        assertThat(claimed).extracting(row -> row.command().requestId())
                .containsExactlyInAnyOrder(earliest, upperB, only);
        assertThat(claimed).extracting(RetrySchedule::accountOf).containsOnly(first, second);
        // A share starting after a row passes the rows before it by although they are due and nobody holds them.
        ScheduledAttempt lowerARow = new ScheduledAttempt(command(first, lowerA), 1, due, "retry", due);
        assertThat(schedule.claimDue(due, due, lease, List.of(new RetrySchedule.Share(first, 5, lowerARow)))
                .collectList().block(WAIT)).extracting(row -> row.command().requestId()).containsExactly(lowerB);
        assertThat(schedule.claimDue(due, due, lease, List.of(new RetrySchedule.Share(first, 5))).collectList()
                .block(WAIT)).as("the rows other claims hold left alone").extracting(row -> row.command().requestId())
                .containsExactly(lowerA);
    }

    @Test
    void aTickServesAnAccountWithOneRowDueBeforeAnotherAccountsEarlierBacklogIsFired() {
        // Between the other tests' times here and those of the other classes on this database, so that the rows
        // this tick leases and leaves (theirs) are none another test still claims.
        Instant due = T0.plus(Duration.ofHours(2));
        Set<String> requestIds = new HashSet<>();
        String large = "acc-large-" + UUID.randomUUID();
        for (int row = 0; row < 60; row++) {
            requestIds.add(waiting(large, "l-" + UUID.randomUUID(), due.minusSeconds(60).plusMillis(row), "retry"));
        }
        String single = waiting("acc-small-" + UUID.randomUUID(), "s-" + UUID.randomUUID(), due, "retry");
        requestIds.add(single);
        Scheduler scheduler = new Scheduler(requestIds, 10);
        scheduler.carrierUp.set(true);

        for (int tick = 0; tick < 10 && scheduler.published.size() < 61; tick++) {
            scheduler.tickAt(due);
        }

        List<String> published = scheduler.published.stream()
                .map(record -> Contract.read(record.value(), CallCommand.class).requestId()).toList();
        assertThat(published).hasSize(61).doesNotHaveDuplicates();
        // By due time alone it would be the last of the 61.
        assertThat(published.indexOf(single)).as("served in its turn, not behind the backlog").isLessThan(30);
    }

    @Test
    void rowsLeftForAHoldAreClaimableAgainWhenItEndsNotWhenTheirOwnLeaseLapses() {
        RetrySchedule schedule = new RetrySchedule(db);
        String first = waiting(T0.minusSeconds(10));
        String second = waiting(T0.minusSeconds(9));
        List<ScheduledAttempt> claimed = schedule.claimDue(T0, T0, Duration.ofSeconds(30), share(2)).collectList()
                .block(WAIT);
        assertThat(claimed).hasSize(2);
        ScheduledAttempt firstRow = claimed.stream().filter(row -> row.command().requestId().equals(first))
                .findFirst().orElseThrow();
        ScheduledAttempt secondRow = claimed.stream().filter(row -> row.command().requestId().equals(second))
                .findFirst().orElseThrow();
        // The second row was made to wait again meanwhile (its lease cleared): the hold leaves it alone.
        db.sql("UPDATE dispatch.schedule SET lease_until = NULL, due_at = $2 WHERE request_id = $1")
                .bind(0, second).bind(1, T0.plusSeconds(60)).then().block(WAIT);

        schedule.leaseUntil(java.util.Map.of(firstRow, T0.plusSeconds(5), secondRow, T0.plusSeconds(5))).block(WAIT);

        Instant beforeTheHoldEnds = T0.plusSeconds(4);
        assertThat(schedule.claimDue(beforeTheHoldEnds, beforeTheHoldEnds, Duration.ofSeconds(30), share(2))
                .collectList().block(WAIT)).isEmpty();
        Instant afterIt = T0.plusSeconds(6);
        assertThat(schedule.claimDue(afterIt, afterIt, Duration.ofSeconds(30), share(2)).collectList().block(WAIT))
                .as("before its own lease (30 s) lapses").extracting(row -> row.command().requestId())
                .containsExactly(first);
    }

    /** The accounts of {@code run} among {@code accounts}, in their order. */
    private static List<String> ofRun(List<String> accounts, String run) {
        return accounts.stream().filter(account -> account.startsWith(run)).toList();
    }

    /** A claim's share for this test's account. */
    private List<RetrySchedule.Share> share(int most) {
        return List.of(new RetrySchedule.Share(account, most));
    }

    @Test
    void oneQuestionTellsWhichOfAClaimsRequestsAreStillToBeCalled() {
        String open = waiting(T0.minusSeconds(5));
        String ended = waiting(T0.minusSeconds(5));
        db.sql("UPDATE dispatch.requests SET final_status = 'canceled' WHERE request_id = $1").bind(0, ended).then()
                .block(WAIT);

        assertThat(new RequestNotFinal(db).stillWantedOf(List.of(command(open), command(ended), command(open)))
                .block(WAIT)).containsExactly(open);
        assertThat(new RequestNotFinal(db).stillWantedOf(List.of()).block(WAIT)).isEmpty();
    }

    @Test
    void aRowHeldAgainAndAgainIsRecordedAsLateAsTheWholeHold() {
        String requestId = waiting(T0);
        Scheduler scheduler = new Scheduler(requestId);

        // The route has no carrier for an hour; the row comes due again every few seconds and is held each time.
        scheduler.tickAt(T0.plusSeconds(1));
        scheduler.tickAt(T0.plus(Duration.ofMinutes(20)));
        scheduler.tickAt(T0.plus(Duration.ofMinutes(40)));
        assertThat(scheduler.held()).isEqualTo(3);
        scheduler.carrierUp.set(true);
        scheduler.tickAt(T0.plus(Duration.ofHours(1)));

        assertThat(scheduler.published).hasSize(1);
        assertThat(scheduler.lateness().count()).isEqualTo(1);
        assertThat(scheduler.lateness().totalTime(TimeUnit.SECONDS)).isEqualTo(3600.0);
        assertThat(rows(requestId)).as("removed by the due time it was last claimed at").isZero();
    }

    @Test
    void aNewWaitWrittenIntoAHeldRowIsLateFromItsOwnDueTime() {
        String requestId = waiting(T0);
        Scheduler scheduler = new Scheduler(requestId);
        scheduler.tickAt(T0.plusSeconds(1));
        scheduler.tickAt(T0.plus(Duration.ofMinutes(20)));

        // The carrier rejects the attempt for capacity meanwhile: a wait of its own, due an hour later.
        Instant requeuedUntil = T0.plus(Duration.ofHours(1));
        assertThat(attempts.requeueForCapacity(requestId, 1, null, null, requeuedUntil).block(WAIT)).isTrue();
        scheduler.carrierUp.set(true);
        scheduler.tickAt(requeuedUntil.plusSeconds(2));

        assertThat(scheduler.published).hasSize(1);
        assertThat(scheduler.lateness().totalTime(TimeUnit.SECONDS)).isEqualTo(2.0);
        assertThat(rows(requestId)).isZero();
    }

    @Test
    void aCallWaitingForItsCampaignsResumeStaysInTheScheduleWhileThePauseLasts() {
        String requestId = waiting(T0, "paused");
        Scheduler scheduler = new Scheduler(requestId);
        scheduler.carrierUp.set(true);
        scheduler.campaignPaused.set(true);

        scheduler.tickAt(T0.plusSeconds(1));
        scheduler.tickAt(T0.plus(Duration.ofMinutes(3)));
        assertThat(scheduler.published).as("not yet due again").isEmpty();
        scheduler.tickAt(T0.plus(Duration.ofMinutes(6)));

        assertThat(scheduler.published).as("nothing spends the lane's rate while the pause lasts").isEmpty();
        assertThat(scheduler.stillPaused()).isEqualTo(2);
        assertThat(rows(requestId)).isOne();

        scheduler.campaignPaused.set(false);
        scheduler.tickAt(T0.plus(Duration.ofMinutes(12)));
        assertThat(scheduler.published).hasSize(1);
        assertThat(rows(requestId)).isZero();
        // Late from its last recheck (due 11 minutes in), not from before the pause: the pause is no lateness.
        assertThat(scheduler.lateness().totalTime(TimeUnit.SECONDS)).isEqualTo(60.0);
    }

    @Test
    void aPausedCampaignHoldsOnlyTheCallsWaitingForItsResume() {
        String requestId = waiting(T0);
        Scheduler scheduler = new Scheduler(requestId);
        scheduler.carrierUp.set(true);
        scheduler.campaignPaused.set(true);

        scheduler.tickAt(T0.plusSeconds(1));

        assertThat(scheduler.published).as("a retry meets the pause in the dial-time policy").hasSize(1);
        assertThat(scheduler.stillPaused()).isZero();
    }

    @Test
    void eachWaitThatEndsIsCountedFiredUnderItsOwnReasonNotAsARetry() {
        String parked = waiting(T0, "parked");
        String window = waiting(T0, "window");
        Scheduler scheduler = new Scheduler(Set.of(parked, window));
        scheduler.carrierUp.set(true);

        scheduler.tickAt(T0.plusSeconds(1));

        assertThat(scheduler.published).hasSize(2);
        assertThat(scheduler.retries("fired", "parked")).isOne();
        assertThat(scheduler.retries("fired", "window")).isOne();
        assertThat(scheduler.retries("fired", "retry")).as("no retry ended its wait").isZero();
        assertThat(rows(parked) + rows(window)).isZero();
    }

    /**
     * The retry scheduler on the real schedule, at a time the test sets, that publishes to a list and sees the route's
     * carrier up or down as the test says. It fires only the test's rows: other rows due then (other tests' rows on
     * this database) are only leased.
     */
    private final class Scheduler {

        final AtomicBoolean carrierUp = new AtomicBoolean();
        final AtomicBoolean campaignPaused = new AtomicBoolean();
        final List<OutboundRecord> published = new CopyOnWriteArrayList<>();
        private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
        private final TestClock clock = TestClock.at(null);
        private final RetryScheduler scheduler;

        Scheduler(String requestId) {
            this(Set.of(requestId));
        }

        Scheduler(Set<String> requestIds) {
            this(requestIds, 1000);
        }

        Scheduler(Set<String> requestIds, int batchSize) {
            RetrySchedule schedule = new RetrySchedule(db) {
                @Override
                Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, List<Share> shares) {
                    return super.claimDue(dueBy, now, lease, shares)
                            .filter(row -> requestIds.contains(row.command().requestId()));
                }
            };
            RetryProperties properties = new RetryProperties(Duration.ofMinutes(1), Duration.ofSeconds(1),
                    Duration.ofSeconds(30), Duration.ofMinutes(2), batchSize, Duration.ofSeconds(15),
                    Duration.ofMinutes(30), Duration.ofMinutes(5));
            this.scheduler = new RetryScheduler(schedule, (command, attempt) -> Mono.just(true), this::publish,
                    properties, clock, new RetryMetrics(meters), command -> carrierUp.get(),
                    command -> campaignPaused.get(), Duration.ofMinutes(5));
        }

        void tickAt(Instant now) {
            clock.set(now);
            scheduler.fireDue().block(WAIT);
        }

        double held() {
            return retries("held", "retry");
        }

        double stillPaused() {
            return retries("still_paused", "paused");
        }

        double retries(String stage, String reason) {
            return meters.counter("dialer.dispatcher.retries", "stage", stage, "reason", reason).count();
        }

        Timer lateness() {
            return meters.get("dialer.dispatcher.retry.lateness").timer();
        }

        private Mono<Void> publish(OutboundRecord record) {
            return Mono.fromRunnable(() -> published.add(record));
        }
    }

    /** A recorded request with a retry row due at {@code dueAt}. */
    private String waiting(Instant dueAt) {
        return waiting(dueAt, "retry");
    }

    /** A recorded request with a row of {@code reason} due at {@code dueAt}. */
    private String waiting(Instant dueAt, String reason) {
        return waiting(account, "held-" + UUID.randomUUID(), dueAt, reason);
    }

    private String waiting(String accountId, String requestId, Instant dueAt, String reason) {
        CallCommand command = command(accountId, requestId);
        attempts.record(command).block(WAIT);
        db.sql("""
                        INSERT INTO dispatch.schedule (request_id, attempt_no, due_at, reason, command)
                        VALUES ($1, 1, $2, $4, $3::jsonb)""")
                .bind(0, command.requestId())
                .bind(1, dueAt)
                .bind(2, new String(Contract.toBytes(command), StandardCharsets.UTF_8))
                .bind(3, reason)
                .then()
                .block(WAIT);
        return command.requestId();
    }

    private CallCommand command(String requestId) {
        return command(account, requestId);
    }

    private static CallCommand command(String accountId, String requestId) {
        return new CallCommand(1, requestId, accountId, "+4930555004", "+4915112340301", null, "a.wav", null, 0, 3, 1,
                null, null, null, null, null, null, null, null, Instant.now());
    }

    private long rows(String requestId) {
        return db.sql("SELECT count(*) FROM dispatch.schedule WHERE request_id = $1")
                .bind(0, requestId)
                .map(row -> row.get(0, Long.class))
                .one()
                .block(WAIT);
    }
}
