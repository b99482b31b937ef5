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
 * hold. And a tick's claims take due rows in one order, each claim after the last row the one before took. Each wait
 * is counted under its row's reason.
 */
class HeldRowsIT extends DispatcherOnDatabase {

    /** Far from the scheduler's own clock, so that it never claims these rows itself. */
    private static final Instant T0 = Instant.now().plus(Duration.ofDays(3)).truncatedTo(ChronoUnit.MILLIS);

    @Autowired
    AttemptLedger attempts;

    @Test
    void aHeldRowIsClaimedAgainOnlyAfterTheRowsDueBeforeItWasHeld() {
        RetrySchedule schedule = new RetrySchedule(db);
        String outageA = waiting(T0.minusSeconds(60));
        String outageB = waiting(T0.minusSeconds(59));
        String otherRoute = waiting(T0.minusSeconds(30));

        List<ScheduledAttempt> first = schedule.claimDue(T0, T0, Duration.ofSeconds(30), 2, null).collectList()
                .block(WAIT);
        assertThat(first).extracting(row -> row.command().requestId()).containsExactlyInAnyOrder(outageA, outageB);
        for (ScheduledAttempt row : first) {
            schedule.holdUntil(row, T0.plusSeconds(5)).block(WAIT);
        }

        // The outage goes on: once the hold ends, the other route's row, due before it, comes first.
        Instant later = T0.plusSeconds(6);
        assertThat(schedule.claimDue(later, later, Duration.ofSeconds(30), 1, null).collectList().block(WAIT))
                .extracting(row -> row.command().requestId()).containsExactly(otherRoute);
        List<ScheduledAttempt> again = schedule.claimDue(later, later, Duration.ofSeconds(30), 2, null).collectList()
                .block(WAIT);
        assertThat(again).extracting(row -> row.command().requestId()).containsExactlyInAnyOrder(outageA, outageB);

        // A held row stays one row, and is still removed by the lease of the claim that took it again.
        ScheduledAttempt a = again.stream().filter(row -> row.command().requestId().equals(outageA)).findFirst()
                .orElseThrow();
        schedule.removeAll(List.of(a)).block(WAIT);
        assertThat(rows(outageA)).isZero();
    }

    @Test
    void eachClaimOfATickStartsAfterTheLastRowTheOneBeforeTook() {
        RetrySchedule schedule = new RetrySchedule(db);
        // Far past the other tests' rows: every claim here starts after them.
        Instant due = T0.plus(Duration.ofDays(10));
        ScheduledAttempt beforeAll = new ScheduledAttempt(command(""), 0, due.minusSeconds(60), "retry", due);
        String run = "order-" + UUID.randomUUID().toString().substring(0, 8);
        String earliest = waiting(run + "-z", due.minusSeconds(10), "retry");
        // Due together: taken by request id byte by byte ("B" before "a"), whatever the database's collation.
        String upperB = waiting(run + "-B", due, "retry");
        String lowerA = waiting(run + "-a", due, "retry");
        String lowerB = waiting(run + "-b", due, "retry");
        Duration lease = Duration.ofSeconds(30);

        // A claim starting after the earliest row passes it by although it is due and nobody holds it.
        ScheduledAttempt earliestRow = new ScheduledAttempt(command(earliest), 1, due.minusSeconds(10), "retry",
                due.minusSeconds(10));
        assertThat(schedule.claimDue(due, due, lease, 1, earliestRow).collectList().block(WAIT))
                .extracting(row -> row.command().requestId()).containsExactly(upperB);

        List<ScheduledAttempt> first = schedule.claimDue(due, due, lease, 2, beforeAll).collectList().block(WAIT);
        assertThat(first).extracting(row -> row.command().requestId()).containsExactlyInAnyOrder(earliest, lowerA);
        ScheduledAttempt last = RetrySchedule.lastInOrder(first);
        assertThat(last.command().requestId()).isEqualTo(lowerA);
        assertThat(schedule.claimDue(due, due, lease, 2, last).collectList().block(WAIT))
                .extracting(row -> row.command().requestId()).containsExactly(lowerB);
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
            RetrySchedule schedule = new RetrySchedule(db) {
                @Override
                Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, int batch,
                                                ScheduledAttempt after) {
                    return super.claimDue(dueBy, now, lease, batch, after)
                            .filter(row -> requestIds.contains(row.command().requestId()));
                }
            };
            RetryProperties properties = new RetryProperties(Duration.ofMinutes(1), Duration.ofSeconds(1),
                    Duration.ofSeconds(30), Duration.ofMinutes(2), 1000, Duration.ofSeconds(15),
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
        return waiting("held-" + UUID.randomUUID(), dueAt, reason);
    }

    private String waiting(String requestId, Instant dueAt, String reason) {
        CallCommand command = command(requestId);
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

    private static CallCommand command(String requestId) {
        return new CallCommand(1, requestId, "acc-held", "+4930555004", "+4915112340301", null, "a.wav", null, 0, 3, 1,
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
