package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.Transition;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.resilience.InfraRetry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.DataIntegrityViolationException;

/**
 * Non-final status changes that wait while a statement runs are made together by the next one, each exactly as it
 * would be made alone, on the real PostgreSQL. Here at most five changes a statement and two statements at once: the
 * attempt row of a first change is held locked by another transaction ({@link HeldAttempt}), so the changes that
 * follow it wait, for a whole batch to start alongside or for the held statement to end.
 */
class StatusMovesIT extends DispatcherOnDatabase {

    @Autowired
    AttemptLedger attempts;

    @Autowired
    CallEvents events;

    /** Meters of this test's own batcher, its own registry each (a gauge's name is taken by its first). */
    private MeterRegistry registry;

    /**
     * A batcher of this test's own, so that no other change (the dispatcher's own callbacks, from the topic it shares
     * with other tests) joins or starts its batches: at most five changes a statement, two statements at once.
     */
    private StatusMoves moves;

    @BeforeEach
    void ownBatcher() {
        batcher(5, 2);
    }

    /** A batcher of at most {@code batchSize} changes a statement, {@code inFlight} statements at once. */
    private void batcher(int batchSize, int inFlight) {
        registry = new SimpleMeterRegistry();
        moves = new StatusMoves(attempts, events, new CallbackProperties(batchSize, inFlight, null), registry);
    }

    @Autowired
    ConnectionFactory connections;

    @Test
    void changesThatWaitedTogetherAreMadeInOneStatementEachAsItWouldBeAlone() throws Exception {
        CallCommand first = dialled();
        CallCommand initiated = dialled();
        CallCommand ringing = dialled();
        CallCommand repeated = dialled();
        CallCommand cancelled = dialled();
        CallCommand otherDial = dialled();
        CallCommand beyondTheSize = dialled();
        db.sql("UPDATE dispatch.attempts SET status = 'ringing' WHERE request_id = $1")
                .bind(0, repeated.requestId()).then().block(WAIT);
        db.sql("UPDATE dispatch.requests SET cancel_requested_at = now() WHERE request_id = $1")
                .bind(0, cancelled.requestId()).then().block(WAIT);
        CompletableFuture<CallEvents.Changed> firstMoved;
        List<CompletableFuture<CallEvents.Changed>> waited;
        try (HeldAttempt held = HeldAttempt.of(connections, db, first)) {
            firstMoved = move(first, AttemptStatus.INITIATED, null);
            held.awaitBlocking();
            // One statement runs: the changes wait until a whole batch (five) does, which starts alongside it.
            waited = List.of(
                    move(initiated, AttemptStatus.INITIATED, null),
                    move(ringing, AttemptStatus.RINGING, 1),
                    move(repeated, AttemptStatus.RINGING, 1),
                    move(cancelled, AttemptStatus.INITIATED, null),
                    // About a dial the attempt is not on.
                    move(otherDial, AttemptStatus.RINGING, 2),
                    // The same request again: it waits for a later batch.
                    move(initiated, AttemptStatus.RINGING, 1),
                    // Beyond the batch size: in the batch after, with the one above, once the held statement ends.
                    move(beyondTheSize, AttemptStatus.INITIATED, null));
            assertThat(previous(waited.get(0))).as("made while the first change is held").contains(
                    AttemptStatus.QUEUED);
            assertThat(waiting()).as("a request's second change, and the one beyond the batch size").isEqualTo(2);
            assertThat(waited.get(5)).as("not a whole batch: waits for the held statement").isNotDone();
            assertThat(waited.get(6)).as("not a whole batch: waits for the held statement").isNotDone();
            assertThat(firstMoved).as("held by the lock").isNotDone();
        }

        assertThat(previous(firstMoved)).contains(AttemptStatus.QUEUED);
        assertThat(previous(waited.get(0))).contains(AttemptStatus.QUEUED);
        assertThat(previous(waited.get(1))).contains(AttemptStatus.QUEUED);
        assertThat(waited.get(2).get(WAIT.toSeconds(), TimeUnit.SECONDS)).as("a repeated ringing").isNull();
        CallEvents.Changed cancelledChange = waited.get(3).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(cancelledChange.cancelRequested()).isTrue();
        assertThat(waited.get(0).get().cancelRequested()).isFalse();
        assertThat(waited.get(4).get(WAIT.toSeconds(), TimeUnit.SECONDS)).as("another dial's ringing").isNull();
        assertThat(previous(waited.get(5))).contains(AttemptStatus.INITIATED);
        assertThat(previous(waited.get(6))).contains(AttemptStatus.QUEUED);
        List<String> together = transactions(1, initiated, ringing, cancelled);
        assertThat(together).as("the changes that waited together").hasSize(1);
        assertThat(transactions(1, first)).as("the held change, alone").hasSize(1)
                .doesNotContainAnyElementsOf(together);
        assertThat(transactions(2, initiated)).as("a request's second change, with the change beyond the size")
                .isEqualTo(transactions(1, beyondTheSize))
                .doesNotContainAnyElementsOf(together);

        assertThat(rows(initiated)).containsExactly("ringing/sid-" + initiated.requestId());
        assertThat(rows(repeated)).containsExactly("ringing/null");
        assertThat(rows(ringing)).containsExactly("ringing/sid-" + ringing.requestId());
        assertThat(rows(otherDial)).containsExactly("queued/null");
        assertThat(events(initiated)).containsExactly("1 initiated after queued", "2 ringing after initiated");
        assertThat(events(ringing)).containsExactly("1 ringing after queued");
        assertThat(events(repeated)).isEmpty();
        assertThat(events(otherDial)).isEmpty();
        assertThat(events(cancelled)).containsExactly("1 initiated after queued");
    }

    @Test
    void aBatchThatFailsIsMadeAgainOneChangeAtATimeSoOnlyTheChangeThatCannotBeMadeFails() throws Exception {
        CallCommand first = dialled();
        CallCommand clashing = dialled();
        CallCommand fine = dialled();
        String takenEventId = "taken-" + UUID.randomUUID();
        events.emit(dialled(), event -> event.eventId(takenEventId).status(AttemptStatus.QUEUED),
                reactor.util.retry.Retry.max(0)).block(WAIT);
        Counter split = registry.get("dialer.dispatcher.callbacks.status.batch.split").counter();
        double splitBefore = split.count();

        CompletableFuture<CallEvents.Changed> clash;
        CompletableFuture<CallEvents.Changed> fineMoved;
        try (HeldAttempt held = HeldAttempt.of(connections, db, first)) {
            move(first, AttemptStatus.INITIATED, null);
            held.awaitBlocking();
            clash = moves.move(clashing, transition(clashing, AttemptStatus.INITIATED, null),
                    event -> event.eventId(takenEventId).status(AttemptStatus.INITIATED)).toFuture();
            fineMoved = move(fine, AttemptStatus.INITIATED, null);
            assertThat(waiting()).isEqualTo(2);
        }

        assertThat(previous(fineMoved)).contains(AttemptStatus.QUEUED);
        assertThatThrownBy(() -> clash.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(DataIntegrityViolationException.class);
        assertThat(split.count() - splitBefore).as("the two were tried together first").isEqualTo(1);
        assertThat(rows(clashing)).containsExactly("queued/null");
        assertThat(events(clashing)).isEmpty();
        assertThat(events(fine)).containsExactly("1 initiated after queued");
    }

    @Test
    void aRowHeldElsewhereFailsItsOwnChangeAtTheLockTimeoutAndHoldsNoOtherChange() throws Exception {
        assertThat(db.sql("SHOW lock_timeout").map(row -> row.get(0, String.class)).one().block(WAIT))
                .as("set on every connection of the pool").isEqualTo("10s");
        batcher(5, 1);
        CallCommand alone = dialled();
        CallCommand held = dialled();
        CallCommand besideIt = dialled();
        CallCommand andAnother = dialled();
        try (HeldAttempt aloneLock = HeldAttempt.of(connections, db, alone);
             HeldAttempt heldLock = HeldAttempt.of(connections, db, held)) {
            CompletableFuture<CallEvents.Changed> aloneMoved = move(alone, AttemptStatus.INITIATED, null);
            aloneLock.awaitBlocking();
            // The only statement allowed at once waits for the lock: these three wait behind it, for one batch, the
            // held row's change first.
            CompletableFuture<CallEvents.Changed> heldMoved = move(held, AttemptStatus.INITIATED, null);
            CompletableFuture<CallEvents.Changed> besideMoved = move(besideIt, AttemptStatus.INITIATED, null);
            CompletableFuture<CallEvents.Changed> anotherMoved = move(andAnother, AttemptStatus.INITIATED, null);
            assertThat(waiting()).isEqualTo(3);

            failedAtTheLockTimeout(aloneMoved, "ended by PostgreSQL while the lock is still held");
            // The batch stops at the lock timeout too, and is made again one change a statement: the held change's own
            // statement waits for the row, and the others are made meanwhile.
            assertThat(previous(besideMoved)).as("made while the row beside it is still held")
                    .contains(AttemptStatus.QUEUED);
            assertThat(previous(anotherMoved)).as("made after it, while the row is still held")
                    .contains(AttemptStatus.QUEUED);
            assertThat(heldMoved).as("its own statement waits for the row").isNotDone();
            assertThat(splits()).isEqualTo(1);
            heldLock.close();
            assertThat(previous(heldMoved)).as("made once its row is free").contains(AttemptStatus.QUEUED);
        }
        assertThat(rows(alone)).as("the change that failed was not made").containsExactly("queued/null");
        assertThat(events(alone)).isEmpty();
        assertThat(events(held)).containsExactly("1 initiated after queued");
        assertThat(events(besideIt)).containsExactly("1 initiated after queued");
        assertThat(events(andAnother)).containsExactly("1 initiated after queued");
    }

    @Test
    void aChangeWaitingForAHeldRowHoldsNoChangeBehindItAndItsRequestsNextChangeGoesAlone() throws Exception {
        batcher(64, 2);
        CallCommand held = dialled();
        CallCommand behind = dialled();
        CallCommand slow = dialled();
        CallCommand afterIt = dialled();
        try (HeldAttempt heldLock = HeldAttempt.of(connections, db, held)) {
            CompletableFuture<CallEvents.Changed> heldMoved = move(held, AttemptStatus.INITIATED, null);
            heldLock.awaitBlocking();
            // Far from a whole batch: it starts once the statement running has run a second, not at its lock timeout.
            assertThat(previous(move(behind, AttemptStatus.INITIATED, null))).as("made while the row is held")
                    .contains(AttemptStatus.QUEUED);
            assertThat(heldMoved).as("waits for its row").isNotDone();
            failedAtTheLockTimeout(heldMoved, "until PostgreSQL's lock timeout");

            // The held request's change again, with another change, queued together while a statement runs.
            CompletableFuture<CallEvents.Changed> heldAgain;
            CompletableFuture<CallEvents.Changed> afterItMoved;
            try (HeldAttempt slowLock = HeldAttempt.of(connections, db, slow)) {
                CompletableFuture<CallEvents.Changed> slowMoved = move(slow, AttemptStatus.INITIATED, null);
                slowLock.awaitBlocking();
                heldAgain = move(held, AttemptStatus.INITIATED, null);
                afterItMoved = move(afterIt, AttemptStatus.INITIATED, null);
                // The held request's change goes alone in the second statement allowed; the other waits for a slot.
                heldLock.awaitBlocking();
                slowLock.close();
                assertThat(previous(slowMoved)).contains(AttemptStatus.QUEUED);
            }
            assertThat(previous(afterItMoved)).as("made in a statement of its own, while the row is still held")
                    .contains(AttemptStatus.QUEUED);
            assertThat(heldAgain).isNotDone();
            heldLock.close();
            assertThat(previous(heldAgain)).as("made once its row is free").contains(AttemptStatus.QUEUED);
        }
        assertThat(largestBatch()).as("no change with another")
                .isEqualTo(1);
        assertThat(splits()).isZero();
    }

    @Test
    void changesOfRequestsWhoseRowsAreHeldGoAloneInAllButOneSlotSoOthersAlwaysHaveOne() throws Exception {
        batcher(64, 2);
        CallCommand first = dialled();
        CallCommand second = dialled();
        CallCommand other = dialled();
        try (HeldAttempt firstLock = HeldAttempt.of(connections, db, first);
             HeldAttempt secondLock = HeldAttempt.of(connections, db, second)) {
            // Both wait for their rows, in both slots, until the lock timeout: their requests are known held.
            CompletableFuture<CallEvents.Changed> firstMoved = move(first, AttemptStatus.INITIATED, null);
            CompletableFuture<CallEvents.Changed> secondMoved = move(second, AttemptStatus.INITIATED, null);
            failedAtTheLockTimeout(firstMoved, "the first");
            failedAtTheLockTimeout(secondMoved, "the second");

            // Their callers try again, and another call's change comes: one held request's change takes a slot
            // alone, the other waits, and the other call's change takes the last slot.
            CompletableFuture<CallEvents.Changed> firstAgain = move(first, AttemptStatus.INITIATED, null);
            CompletableFuture<CallEvents.Changed> secondAgain = move(second, AttemptStatus.INITIATED, null);
            assertThat(previous(move(other, AttemptStatus.INITIATED, null))).as("made while both rows are held")
                    .contains(AttemptStatus.QUEUED);
            assertThat(firstAgain).as("waits for its row").isNotDone();
            assertThat(secondAgain).as("waits for a slot, or its row").isNotDone();
        }
        assertThat(largestBatch()).as("no change with another")
                .isEqualTo(1);
    }

    @Test
    void aRequestsNextChangeWaitsForTheOneInFlightEvenWithAStatementFreeAndIsJudgedByWhatItLeft() throws Exception {
        CallCommand held = dialled();
        List<CallCommand> others = List.of(dialled(), dialled(), dialled(), dialled());
        CompletableFuture<CallEvents.Changed> heldInitiated;
        CompletableFuture<CallEvents.Changed> heldRinging;
        try (HeldAttempt lock = HeldAttempt.of(connections, db, held)) {
            heldInitiated = move(held, AttemptStatus.INITIATED, null);
            lock.awaitBlocking();
            heldRinging = move(held, AttemptStatus.RINGING, 1);
            // With four other requests' changes a whole batch waits: they go through alongside, without the held
            // request's.
            List<CompletableFuture<CallEvents.Changed>> othersMoved = others.stream()
                    .map(other -> move(other, AttemptStatus.INITIATED, null)).toList();
            for (CompletableFuture<CallEvents.Changed> moved : othersMoved) {
                assertThat(previous(moved)).contains(AttemptStatus.QUEUED);
            }
            assertThat(heldRinging).as("behind its request's change in flight").isNotDone();
            assertThat(waiting()).isEqualTo(1);
            // Meanwhile another writer moves the held attempt on, and commits.
            lock.commitStatus("in-progress");
        }

        assertThat(heldInitiated.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                .as("initiated after in-progress, read under the lock").isNull();
        assertThat(heldRinging.get(WAIT.toSeconds(), TimeUnit.SECONDS)).as("ringing after in-progress").isNull();
        assertThat(rows(held)).containsExactly("in-progress/null");
        assertThat(events(held)).isEmpty();
    }

    private CompletableFuture<CallEvents.Changed> move(CallCommand command, AttemptStatus to, Integer dial) {
        return moves.move(command, transition(command, to, dial), event -> event.status(to)).toFuture();
    }

    private static Transition transition(CallCommand command, AttemptStatus to, Integer dial) {
        return new Transition(command.requestId(), command.attempt(), to, to.wire(), "sid-" + command.requestId(),
                null, null, dial);
    }

    private static Optional<AttemptStatus> previous(CompletableFuture<CallEvents.Changed> change) throws Exception {
        CallEvents.Changed changed = change.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(changed).as("the change happened").isNotNull();
        return changed.previous();
    }

    private double waiting() {
        return registry.get("dialer.dispatcher.callbacks.status.waiting").gauge().value();
    }

    private double splits() {
        return registry.get("dialer.dispatcher.callbacks.status.batch.split").counter().count();
    }

    private double largestBatch() {
        return registry.get("dialer.dispatcher.callbacks.status.batch").summary().max();
    }

    /** The change failed when PostgreSQL stopped its wait for a row at the lock timeout: an outage to its caller. */
    private static void failedAtTheLockTimeout(CompletableFuture<CallEvents.Changed> change, String description) {
        assertThatThrownBy(() -> change.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                .as(description)
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(DataAccessResourceFailureException.class)
                .satisfies(failed -> assertThat(InfraRetry.isTransient(failed.getCause()))
                        .as("an outage, which its caller tries again: %s", failed.getCause()).isTrue());
    }

    /** A recorded attempt, claimed for its first dial. */
    private CallCommand dialled() {
        CallCommand command = new CallCommand(1, "sm-" + UUID.randomUUID(), "acc-moves", "+4930555004",
                "+4915112340301", null, "a.wav", null, 0, 3, 1, null, null, null, null, null, null, null, null,
                Instant.now());
        assertThat(attempts.record(command).block(WAIT)).isTrue();
        assertThat(attempts.claimDial(command.requestId(), 1).block(WAIT)).isEqualTo(1);
        return command;
    }

    /** The request's attempts: "status/provider call id". */
    private List<String> rows(CallCommand command) {
        return db.sql("""
                        SELECT status || '/' || COALESCE(provider_call_id, 'null') FROM dispatch.attempts
                         WHERE request_id = $1""")
                .bind(0, command.requestId())
                .map(row -> row.get(0, String.class))
                .all().collectList().block(WAIT);
    }

    /** The request's stored events: "sequence status after previous". */
    private List<String> events(CallCommand command) {
        return db.sql("""
                        SELECT (payload ->> 'sequence_number') || ' ' || (payload ->> 'status') || ' after '
                               || (payload ->> 'previous_status')
                          FROM dispatch.outbox WHERE request_id = $1 ORDER BY id""")
                .bind(0, command.requestId())
                .map(row -> row.get(0, String.class))
                .all().collectList().block(WAIT);
    }

    /**
     * The distinct transactions that stored the requests' events numbered {@code sequence}, told apart by their start
     * (a row's {@code created_at}; its {@code xmin} is the relay's once it marks the row sent).
     */
    private List<String> transactions(int sequence, CallCommand... commands) {
        return db.sql("""
                        SELECT DISTINCT created_at::text FROM dispatch.outbox
                         WHERE request_id = ANY($1) AND sequence_number = $2""")
                .bind(0, Arrays.stream(commands).map(CallCommand::requestId).toArray(String[]::new))
                .bind(1, sequence)
                .map(row -> row.get(0, String.class))
                .all().collectList().block(WAIT);
    }
}
