package dev.dialer.dispatcher.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.TestClock;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.Transition;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.retry.RetryScheduleAccess;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The ledger's claims and waits against the dial-time policy, on the real PostgreSQL: a cancel marked before an
 * attempt is claimed stops the claim (and leaves nothing live to hang up); an attempt that never reached the carrier
 * does not count against the callee's cap, and one that did counts from when it did; a policy wait restarts a requeued
 * attempt's wait for a carrier; a request that has ended does not wait.
 */
class WaitsAndClaimsIT extends DispatcherOnDatabase {

    @Autowired
    AttemptLedger attempts;

    @Autowired
    PolicyLedger policy;

    @Autowired
    ReactiveTransactionManager transactionManager;

    @Autowired
    MeterRegistry meters;

    @Autowired
    PolicyViews views;

    @Autowired
    CallEvents events;

    @Autowired
    PolicyProperties properties;

    @Test
    void aCallWhoseValidUntilPassedWhileItsAttemptWasRecordedIsNotClaimedButExpires() {
        // Cleared at noon in Berlin, its valid_until ten minutes on; its attempt recorded only twenty minutes later
        // (PostgreSQL away in between).
        Instant cleared = Instant.parse("2026-12-02T11:00:00Z");
        CallCommand command = command("+4915112340109", cleared.plus(Duration.ofMinutes(10)));
        TestClock clock = TestClock.at(cleared);
        DialGate gate = new DialGate(views, policy, attempts, events, properties, new PolicyMetrics(meters), clock,
                transactionManager);
        assertThat(gate.stillClear(command)).isTrue();
        attempts.record(command).block(WAIT);

        clock.advance(Duration.ofMinutes(20));

        assertThat(gate.stillClear(command)).isFalse();
        assertThat(gate.claim(command).block(WAIT)).isInstanceOf(DialGate.Claim.Held.class);
        assertThat(db.sql("SELECT final_status FROM dispatch.requests WHERE request_id = $1")
                .bind(0, command.requestId()).map(row -> row.get(0, String.class)).one().block(WAIT))
                .isEqualTo("expired");
        assertThat(db.sql("SELECT count(*) FROM dispatch.attempts WHERE request_id = $1 AND carrier_asked_at IS NULL")
                .bind(0, command.requestId()).map(row -> row.get(0, Long.class)).one().block(WAIT))
                .as("never claimed for the carrier").isOne();
    }

    @Test
    void twoCopiesOfACommandDeferringAtOnceWaitForEachOtherRatherThanDeadlock() {
        CallCommand command = command("+4915112340105");
        attempts.record(command).block(WAIT);
        TransactionalOperator transactionally = TransactionalOperator.create(transactionManager);
        Instant due = Instant.now().plus(Duration.ofHours(1));
        // Each as DialGate.defer: the wait's row, then its event, which locks the request's row for update.
        // The second writes its wait once the first has written its own, while the first still holds it.
        Sinks.Empty<Void> firstWaits = Sinks.empty();
        Mono<PolicyLedger.Scheduled> first = policy.schedule(command, "window", due)
                .doOnNext(scheduled -> firstWaits.tryEmitEmpty())
                .delayElement(Duration.ofMillis(500))
                .flatMap(scheduled -> eventAppended(command).thenReturn(scheduled))
                .as(transactionally::transactional);
        Mono<PolicyLedger.Scheduled> second = firstWaits.asMono()
                .then(policy.schedule(command, "window", due))
                .flatMap(scheduled -> eventAppended(command).thenReturn(scheduled))
                .as(transactionally::transactional);

        // With the request share-locked by both, each waited for the other's lock to go: PostgreSQL ended one (40P01).
        // The second, once it has the lock, finds the first's wait.
        assertThat(Mono.zip(first, second, (one, other) -> List.of(one, other)).block(WAIT))
                .containsExactly(PolicyLedger.Scheduled.WAITS, PolicyLedger.Scheduled.WAITED_ALREADY);
    }

    private Mono<Void> eventAppended(CallCommand command) {
        return db.sql("SELECT next_sequence FROM dispatch.requests WHERE request_id = $1 FOR UPDATE")
                .bind(0, command.requestId()).then()
                .then(db.sql("UPDATE dispatch.requests SET next_sequence = next_sequence + 1 WHERE request_id = $1")
                        .bind(0, command.requestId()).then());
    }

    @Test
    void aCancelMarkedBeforeTheClaimStopsItAndLeavesNoCallToHangUp() {
        CallCommand command = command("+4915112340101");
        attempts.record(command).block(WAIT);

        policy.markCancelRequested(command.requestId()).block(WAIT);

        assertThat(attempts.claimDial(command.requestId(), 1).blockOptional(WAIT)).isEmpty();
        assertThat(policy.liveAttempts(command.requestId()).collectList().block(WAIT)).isEmpty();
    }

    @Test
    void aClaimedAttemptIsLiveForACancelAndCountsAgainstTheCalleesCap() {
        String callee = "+4915112340102";
        CallCommand command = command(callee);
        attempts.record(command).block(WAIT);
        Instant since = Instant.now().minus(Duration.ofHours(1));
        assertThat(policy.dialsSince(command.accountId(), callee, since).collectList().block(WAIT))
                .as("recorded, not yet dialled").isEmpty();

        assertThat(attempts.claimDial(command.requestId(), 1).block(WAIT)).isEqualTo(1);

        assertThat(policy.dialsSince(command.accountId(), callee, since).collectList().block(WAIT)).hasSize(1);
        assertThat(policy.liveAttempts(command.requestId()).collectList().block(WAIT)).hasSize(1);
    }

    @Test
    void anAttemptRecordedLongBeforeItIsDialledCountsAgainstTheCalleesCapFromItsDial() {
        String callee = "+4915112340104";
        CallCommand command = command(callee);
        attempts.record(command).block(WAIT);
        // Recorded two days ago (an evening's call, then calling windows and capacity waits): dialled only now.
        db.sql("UPDATE dispatch.attempts SET created_at = now() - interval '2 days' WHERE request_id = $1")
                .bind(0, command.requestId()).then().block(WAIT);

        attempts.claimDial(command.requestId(), 1).block(WAIT);

        Instant dialled = db.sql("SELECT carrier_asked_at FROM dispatch.attempts WHERE request_id = $1")
                .bind(0, command.requestId()).map(row -> row.get(0, Instant.class)).one().block(WAIT);
        assertThat(policy.dialsSince(command.accountId(), callee, Instant.now().minus(Duration.ofHours(1)))
                .collectList().block(WAIT)).as("counted from its dial, in the last hour").containsExactly(dialled);
    }

    /**
     * A claim within the callee's cap runs late in its transaction: after the callee's lock, which it waits for while
     * claims of the callee before it hold it. Its dial counts from the claim, not from the transaction's start, or it
     * would leave the cap's 24 hours as much earlier.
     */
    @Test
    void aDialClaimedLateInItsTransactionCountsFromItsClaimNotFromTheTransactionsStart() {
        CallCommand command = command("+4915112340110");
        attempts.record(command).block(WAIT);
        TransactionalOperator transactionally = TransactionalOperator.create(transactionManager);

        Instant started = db.sql("SELECT now()").map(row -> row.get(0, Instant.class)).one()
                .delayElement(Duration.ofMillis(1500))
                .flatMap(start -> attempts.claimDial(command.requestId(), 1).thenReturn(start))
                .as(transactionally::transactional)
                .block(WAIT);

        Instant dialled = db.sql("SELECT carrier_asked_at FROM dispatch.attempts WHERE request_id = $1")
                .bind(0, command.requestId()).map(row -> row.get(0, Instant.class)).one().block(WAIT);
        assertThat(Duration.between(started, dialled)).isGreaterThanOrEqualTo(Duration.ofMillis(1500));
    }

    @Test
    void aRequeuedAttemptNeitherCountsAgainstTheCapNorHasItsCarrierWaitRunDuringAPolicyWait() {
        String callee = "+4915112340103";
        CallCommand command = command(callee);
        attempts.record(command).block(WAIT);
        int dial = attempts.claimDial(command.requestId(), 1).block(WAIT);
        Instant now = Instant.now();
        // No carrier placed it: it waits to be dialled again under its number.
        assertThat(attempts.requeueNotPlaced(command.requestId(), 1, dial, now.plusSeconds(15),
                now.minus(Duration.ofMinutes(30))).block(WAIT)).isTrue();
        assertThat(policy.dialsSince(command.accountId(), callee, now.minus(Duration.ofHours(1))).collectList()
                .block(WAIT)).as("it rang nobody").isEmpty();

        // Back from that wait, the calling window is closed: it waits for the window until tomorrow morning.
        Instant windowOpens = now.plus(Duration.ofHours(10)).truncatedTo(ChronoUnit.MILLIS);
        policy.schedule(command, "window", windowOpens).block(WAIT);

        assertThat(attempts.queuedAt(command.requestId(), 1).block(WAIT))
                .as("its wait for a carrier counts from the window's opening").isEqualTo(windowOpens);
    }

    /**
     * Two copies of one command: one claimed the attempt and dials it, the other read the request before that claim
     * and its policy makes the call wait. No wait is written (its event would follow the ringing call's).
     */
    @Test
    void aRequestWhoseAttemptIsBeingDialledDoesNotWait() {
        CallCommand command = command("+4915112340111");
        attempts.record(command).block(WAIT);
        attempts.claimDial(command.requestId(), 1).block(WAIT);

        assertThat(policy.schedule(command, "window", Instant.now().plus(Duration.ofHours(1))).block(WAIT))
                .isEqualTo(PolicyLedger.Scheduled.DIALLING);
        assertThat(scheduled(command.requestId())).isZero();
    }

    /**
     * The claim commits while the wait waits for the request's lock (a claim shares it): the wait sees the claim,
     * which a snapshot taken before the lock's wait would not show.
     */
    @Test
    void aClaimCommittingWhileAWaitAwaitsTheRequestsLockIsSeenByTheWait() throws Exception {
        CallCommand command = command("+4915112340112");
        attempts.record(command).block(WAIT);
        TransactionalOperator transactions = TransactionalOperator.create(transactionManager);
        CountDownLatch claimed = new CountDownLatch(1);
        Sinks.Empty<Void> commitClaim = Sinks.empty();
        CompletableFuture<Integer> claim = transactions.transactional(attempts.claimDial(command.requestId(), 1)
                        .doOnSuccess(dial -> claimed.countDown())
                        .flatMap(dial -> commitClaim.asMono().thenReturn(dial)))
                .toFuture();
        assertThat(claimed.await(30, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<PolicyLedger.Scheduled> waiting = transactions.transactional(
                policy.schedule(command, "window", Instant.now().plus(Duration.ofHours(1)))).toFuture();
        Thread.sleep(500);
        assertThat(waiting).as("the wait awaits the claim's lock of the request").isNotDone();
        commitClaim.tryEmitEmpty();

        assertThat(claim.get(30, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(waiting.get(30, TimeUnit.SECONDS)).isEqualTo(PolicyLedger.Scheduled.DIALLING);
        assertThat(scheduled(command.requestId())).isZero();
    }

    @Test
    void aRequestThatEndedBeforeItsWaitWasWrittenDoesNotWait() {
        CallCommand open = command("+4915112340105");
        CallCommand ended = command("+4915112340106");
        attempts.record(open).block(WAIT);
        attempts.record(ended).block(WAIT);
        // As a cancel ends a request while the policy decides to make it wait.
        db.sql("UPDATE dispatch.requests SET final_status = 'canceled', final_at = now() WHERE request_id = $1")
                .bind(0, ended.requestId()).then().block(WAIT);
        Instant later = Instant.now().plus(Duration.ofHours(1));

        assertThat(policy.schedule(open, "window", later).block(WAIT)).isEqualTo(PolicyLedger.Scheduled.WAITS);
        assertThat(policy.schedule(ended, "window", later).block(WAIT))
                .isEqualTo(PolicyLedger.Scheduled.REQUEST_ENDED);

        assertThat(scheduled(open.requestId())).isEqualTo(1);
        assertThat(scheduled(ended.requestId())).isZero();
    }

    @Test
    void anEndCommittingWhileAWaitIsBeingWrittenWaitsForTheWaitsTransaction() throws Exception {
        CallCommand command = command("+4915112340107");
        attempts.record(command).block(WAIT);
        CountDownLatch written = new CountDownLatch(1);
        Sinks.Empty<Void> commit = Sinks.empty();
        TransactionalOperator transactions = TransactionalOperator.create(transactionManager);
        CompletableFuture<PolicyLedger.Scheduled> waiting = transactions.transactional(
                        policy.schedule(command, "window", Instant.now().plus(Duration.ofHours(1)))
                                .doOnSuccess(waits -> written.countDown())
                                .flatMap(waits -> commit.asMono().thenReturn(waits)))
                .toFuture();
        assertThat(written.await(30, TimeUnit.SECONDS)).isTrue();

        // A cancel's end of the request, meanwhile: it must wait for the wait's transaction, which holds the request.
        Mono<Void> end = transactions.transactional(db.sql("SET LOCAL lock_timeout = '500ms'").then()
                .then(db.sql("UPDATE dispatch.requests SET final_status = 'canceled', final_at = now() "
                        + "WHERE request_id = $1").bind(0, command.requestId()).then()));

        assertThatThrownBy(() -> end.block(WAIT)).hasMessageContaining("lock timeout");
        commit.tryEmitEmpty();
        assertThat(waiting.get(30, TimeUnit.SECONDS)).isEqualTo(PolicyLedger.Scheduled.WAITS);
    }

    @Test
    void aWaitWrittenAgainForTheSameInstantWhileItsRowIsBeingFiredStays() {
        // The scheduler claims a window wait at its opening by its clock; the caller ID's owner, its clock a little
        // behind, reads the command before the opening and makes it wait for that same opening again.
        Instant opening = Instant.now().plus(Duration.ofDays(5)).truncatedTo(ChronoUnit.SECONDS);
        // An account of its own: its share of the claim is this row, whatever other tests left due.
        CallCommand command = command("+4915112340108", null, "acc-waits-" + UUID.randomUUID());
        attempts.record(command).block(WAIT);
        assertThat(policy.schedule(command, "window", opening).block(WAIT)).isEqualTo(PolicyLedger.Scheduled.WAITS);
        RetryScheduleAccess scheduler = new RetryScheduleAccess(db);
        List<RetryScheduleAccess.Claimed> claimed = scheduler.claimFirstOf(command.accountId(),
                opening.plusMillis(300)).block(WAIT);
        assertThat(claimed).extracting(RetryScheduleAccess.Claimed::requestId).containsExactly(command.requestId());

        assertThat(policy.schedule(command, "window", opening).block(WAIT)).isEqualTo(PolicyLedger.Scheduled.WAITS);
        scheduler.remove(claimed.get(0)).block(WAIT);

        assertThat(scheduled(command.requestId())).as("the owner's new wait is the request's only way on").isOne();
    }

    @Test
    void aCopyOfACommandWaitingForTheSameReasonLeavesTheWaitAsItWasAndAnotherReasonMovesIt() {
        CallCommand command = command("+4915112340109");
        attempts.record(command).block(WAIT);
        Instant due = Instant.now().plus(Duration.ofHours(2)).truncatedTo(ChronoUnit.MILLIS);

        assertThat(policy.schedule(command, "paused", due).block(WAIT)).isEqualTo(PolicyLedger.Scheduled.WAITS);
        assertThat(policy.schedule(command, "paused", due.plusSeconds(1)).block(WAIT))
                .as("a redelivered copy, its pause re-check a moment later")
                .isEqualTo(PolicyLedger.Scheduled.WAITED_ALREADY);
        assertThat(dueAt(command.requestId())).isEqualTo(due);

        Instant opening = due.plus(Duration.ofHours(5));
        assertThat(policy.schedule(command, "window", opening).block(WAIT)).isEqualTo(PolicyLedger.Scheduled.WAITS);
        assertThat(dueAt(command.requestId())).isEqualTo(opening);
    }

    @Test
    void aCopyOfACommandNeverBringsAnUnfiredWaitOfAnotherReasonForward() {
        // Attempt 2's retry waits an hour; a copy of its command written by an upstream producer is read meanwhile,
        // outside the calling window, which opens sooner than the retry is due.
        CallCommand first = command("+4915112340110");
        attempts.record(first).block(WAIT);
        CallCommand second = first.withAttempt(2);
        Instant retryDue = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);
        db.sql("""
                INSERT INTO dispatch.schedule (request_id, attempt_no, due_at, reason, command)
                SELECT request_id, 2, $2, 'retry', command FROM dispatch.requests WHERE request_id = $1""")
                .bind(0, first.requestId()).bind(1, retryDue).then().block(WAIT);

        assertThat(policy.schedule(second, "window", retryDue.minus(Duration.ofMinutes(50))).block(WAIT))
                .isEqualTo(PolicyLedger.Scheduled.WAITED_ALREADY);
        assertThat(dueAt(first.requestId())).as("the retry's interval still holds").isEqualTo(retryDue);

        Instant later = retryDue.plus(Duration.ofHours(10));
        assertThat(policy.schedule(second, "window", later).block(WAIT)).isEqualTo(PolicyLedger.Scheduled.WAITS);
        assertThat(dueAt(first.requestId())).as("a later wait still takes over").isEqualTo(later);
    }

    @Test
    void aPausedCopyOfACommandNeverTakesOverAnUnfiredRetrySoAResumeCannotBringItForward() {
        // Attempt 2's retry waits four minutes; its campaign is paused, and a copy of attempt 2's command (an upstream
        // producer's) is read meanwhile: the pause would look at it again in five minutes, but a resume releases
        // paused calls at once.
        CallCommand first = new CallCommand(1, "wc-" + UUID.randomUUID(), "acc-waits", "+4930555002",
                "+4915112340113", null, "a.wav", "waits-campaign", 5, 3, 1, null, null, null, null, null, null, null,
                null, Instant.now());
        attempts.record(first).block(WAIT);
        Instant retryDue = Instant.now().plus(Duration.ofMinutes(4)).truncatedTo(ChronoUnit.MILLIS);
        db.sql("""
                INSERT INTO dispatch.schedule (request_id, attempt_no, due_at, reason, command)
                SELECT request_id, 2, $2, 'retry', command FROM dispatch.requests WHERE request_id = $1""")
                .bind(0, first.requestId()).bind(1, retryDue).then().block(WAIT);

        assertThat(policy.schedule(first.withAttempt(2), "paused", retryDue.plus(Duration.ofMinutes(1))).block(WAIT))
                .isEqualTo(PolicyLedger.Scheduled.WAITED_ALREADY);
        policy.releasePaused("acc-waits", "waits-campaign", Instant.now()).block(WAIT);

        assertThat(dueAt(first.requestId())).as("the retry's interval still holds").isEqualTo(retryDue);
        assertThat(reason(first.requestId())).isEqualTo("retry");
    }

    @Test
    void aResumeReleasesACallerIdsPausedCallsInTheOrderTheyWereHeld() {
        String campaign = "ordered-" + UUID.randomUUID();
        Instant recheck = Instant.now().plus(Duration.ofMinutes(5)).truncatedTo(ChronoUnit.MILLIS);
        List<String> held = new java.util.ArrayList<>();
        // Held a second apart, their request ids in no particular order.
        for (int i = 0; i < 6; i++) {
            CallCommand command = new CallCommand(1, "wc-" + UUID.randomUUID(), "acc-waits", "+4930555003",
                    "+491511234012" + i, null, "a.wav", campaign, 0, 3, 1, null, null, null, null, null, null, null,
                    null, Instant.now());
            attempts.record(command).block(WAIT);
            db.sql("""
                    INSERT INTO dispatch.schedule (request_id, attempt_no, due_at, reason, command)
                    SELECT request_id, 1, $2, 'paused', command FROM dispatch.requests WHERE request_id = $1""")
                    .bind(0, command.requestId()).bind(1, recheck.plusSeconds(i)).then().block(WAIT);
            held.add(command.requestId());
        }
        // Released an hour ahead, where the service's own scheduler leaves them alone: due now, they would be dialled
        // (and one of these numbers refused for capacity, again and again, by the tests that follow).
        Instant now = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);

        try {
            assertThat(policy.releasePaused("acc-waits", campaign, now).block(WAIT)).isEqualTo(6);

            List<Instant> due = held.stream().map(this::dueAt).toList();
            assertThat(due).as("in the order they were held").isSorted().doesNotHaveDuplicates();
            assertThat(due.get(0)).isEqualTo(now);
            assertThat(due.get(5)).as("all due at once").isBefore(now.plusMillis(1));
        } finally {
            db.sql("DELETE FROM dispatch.schedule WHERE request_id = ANY($1)")
                    .bind(0, held.toArray(String[]::new)).then().block(WAIT);
        }
    }

    @Test
    void aWaitACopyOfTheNextAttemptWroteWhileTheAttemptWasLiveNeverBringsTheRetryForward() {
        // Attempt 1 rings; copies of attempt 2's command, written by an upstream producer, were read meanwhile: one
        // parked by its lane behind its caller ID's backlog, due in a second; one of a paused campaign, looked at again
        // in five minutes. Attempt 1 ends no-answer, its retry due in an hour and in four minutes.
        Instant inAnHour = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);
        CallCommand parked = endedWhileTheNextAttemptWaits("+4915112340111", "parked", Instant.now().plusSeconds(1),
                inAnHour);
        assertThat(dueAt(parked.requestId())).as("the retry's interval holds").isEqualTo(inAnHour);
        assertThat(reason(parked.requestId())).isEqualTo("retry");
        assertThat(attempts.record(parked.withAttempt(2)).block(WAIT))
                .as("a copy read before the retry fires is not recorded").isFalse();

        Instant recheck = Instant.now().plus(Duration.ofMinutes(5)).truncatedTo(ChronoUnit.MILLIS);
        String paused = endedWhileTheNextAttemptWaits("+4915112340112", "paused", recheck,
                recheck.minus(Duration.ofMinutes(1))).requestId();
        assertThat(dueAt(paused)).as("the later of the two").isEqualTo(recheck);
        policy.releasePaused("acc-waits", "waits-campaign", Instant.now()).block(WAIT);
        assertThat(dueAt(paused)).as("a resume does not bring the retry forward").isEqualTo(recheck);
    }

    /** Attempt 1 of a new request claimed, a wait of attempt 2 written, then attempt 1 ended; attempt 1's command. */
    private CallCommand endedWhileTheNextAttemptWaits(String to, String reason, Instant waitDue, Instant retryDue) {
        CallCommand first = new CallCommand(1, "wc-" + UUID.randomUUID(), "acc-waits", "+4930555002", to, null,
                "a.wav", "waits-campaign", 60, 3, 1, null, null, null, null, null, null, null, null, Instant.now());
        String id = first.requestId();
        attempts.record(first).block(WAIT);
        assertThat(attempts.claimDial(id, 1).block(WAIT)).isEqualTo(1);
        attempts.storeProviderCallId(id, 1, 1, "sid-" + id).block(WAIT);
        db.sql("""
                INSERT INTO dispatch.schedule (request_id, attempt_no, due_at, reason, command)
                SELECT request_id, 2, $2, $3, command FROM dispatch.requests WHERE request_id = $1""")
                .bind(0, id).bind(1, waitDue).bind(2, reason).then().block(WAIT);
        AttemptLedger.Scheduled scheduled = attempts.transitionAndSchedule(new Transition(id, 1,
                AttemptStatus.NO_ANSWER, "no-answer", "sid-" + id, 480, "Temporarily Unavailable", 1), 2, retryDue)
                .block(WAIT);
        assertThat(scheduled).isNotNull();
        assertThat(scheduled.dueAt()).as("the time the end's event announces is the row's")
                .isEqualTo(dueAt(id).isAfter(retryDue) ? dueAt(id) : retryDue);
        return first;
    }

    private String reason(String requestId) {
        return db.sql("SELECT reason FROM dispatch.schedule WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, String.class)).one().block(WAIT);
    }

    private Instant dueAt(String requestId) {
        return db.sql("SELECT due_at FROM dispatch.schedule WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, Instant.class)).one().block(WAIT);
    }

    private long scheduled(String requestId) {
        return db.sql("SELECT count(*) FROM dispatch.schedule WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    private static CallCommand command(String to) {
        return command(to, null);
    }

    private static CallCommand command(String to, Instant validUntil) {
        return command(to, validUntil, "acc-waits");
    }

    private static CallCommand command(String to, Instant validUntil, String accountId) {
        return new CallCommand(1, "wc-" + UUID.randomUUID(), accountId, "+4930555002", to, null, "a.wav", null, 0, 3,
                1, null, null, null, validUntil, null, null, null, null, Instant.now());
    }
}
