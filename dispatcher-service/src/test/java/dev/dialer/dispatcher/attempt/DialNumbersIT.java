package dev.dialer.dispatcher.attempt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.event.CallEvents;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Result;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * An attempt the carrier took no call for is dialled again under its number: each claim is a new dial, and what the
 * carrier reports about an earlier dial (a repeated or late capacity rejection, a late status) never acts on the
 * current one, on the real PostgreSQL.
 */
class DialNumbersIT extends DispatcherOnDatabase {

    @Autowired
    AttemptLedger attempts;

    @Autowired
    CallEvents events;

    @Autowired
    ConnectionFactory connections;

    @Test
    void aCallbackOfAnEarlierDialNeitherRequeuesNorMovesNorEndsTheAttemptTheCurrentDialIsOn() {
        CallCommand command = command("+4915112340201");
        String id = command.requestId();
        attempts.record(command).block(WAIT);
        assertThat(attempts.claimDial(id, 1).block(WAIT)).isEqualTo(1);
        attempts.storeProviderCallId(id, 1, 1, "sid-1").block(WAIT);
        // Later than the test: the context's own scheduler never fires the row.
        Instant due = Instant.now().plusSeconds(3600);

        // The carrier rejects dial 1 for capacity: the attempt waits to be dialled again under its number.
        assertThat(attempts.requeueForCapacity(id, 1, "sid-1", 1, due).block(WAIT)).isTrue();
        assertThat(moved(command, AttemptStatus.INITIATED, "sid-1", 1))
                .as("a late status of dial 1 while the attempt waits: it would leave the attempt unclaimable")
                .isFalse();

        // A copy of its command that passed the policy before the requeue (a rebalance's second owner) comes while
        // the wait is still in the schedule: it does not claim the attempt back, which would dial it before its
        // delay and without the policy's check.
        assertThat(events.emitOn(command, attempts.reclaimedAttempt(command), event -> event
                .status(AttemptStatus.QUEUED)).blockOptional(WAIT)).isEmpty();
        assertThat(row(id)).isEqualTo("queued/1/null/true");

        // Its command comes back, the scheduler having claimed its row: the attempt is claimed again, as dial 2,
        // which has no call id yet.
        db.sql("UPDATE dispatch.schedule SET lease_until = now() + interval '1 minute' WHERE request_id = $1")
                .bind(0, id).then().block(WAIT);
        assertThat(events.emitOn(command, attempts.reclaimedAttempt(command), event -> event
                .status(AttemptStatus.QUEUED)).blockOptional(WAIT)).isPresent();
        assertThat(attempts.claimDial(id, 1).block(WAIT)).isEqualTo(2);
        assertThat(row(id)).isEqualTo("queued/2/null/false");

        // Dial 1's rejection comes again before dial 2's call id is known: it does not requeue (that would dial the
        // callee a third time while dial 2 may be ringing), and a late answer to dial 1 names no call.
        assertThat(attempts.requeueForCapacity(id, 1, "sid-1", 1, due).block(WAIT)).isFalse();
        attempts.storeProviderCallId(id, 1, 1, "sid-1").block(WAIT);
        assertThat(row(id)).isEqualTo("queued/2/null/false");
        attempts.storeProviderCallId(id, 1, 2, "sid-2").block(WAIT);
        assertThat(row(id)).isEqualTo("queued/2/sid-2/false");

        // Dial 1's statuses and its end change nothing; dial 2's, and those naming no dial (an older tag), do.
        assertThat(moved(command, AttemptStatus.RINGING, "sid-1", 1)).isFalse();
        assertThat(attempts.transitionAndSchedule(new Transition(id, 1, AttemptStatus.BUSY, "busy", "sid-1", 486,
                "Busy Here", 1), 2, due).blockOptional(WAIT)).as("dial 1's end").isEmpty();
        assertThat(moved(command, AttemptStatus.INITIATED, "sid-2", null)).isTrue();
        assertThat(row(id)).isEqualTo("initiated/2/sid-2/false");

        // Dial 2's own capacity rejection, before it rang, requeues it (one after it rang never does: it would ring
        // the callee again for the same attempt).
        assertThat(attempts.requeueForCapacity(id, 1, "sid-2", 2, due).block(WAIT)).isTrue();
        assertThat(row(id)).isEqualTo("queued/2/null/true");
        db.sql("UPDATE dispatch.schedule SET lease_until = now() + interval '1 minute' WHERE request_id = $1")
                .bind(0, id).then().block(WAIT);
        assertThat(events.emitOn(command, attempts.reclaimedAttempt(command), event -> event
                .status(AttemptStatus.QUEUED)).blockOptional(WAIT)).isPresent();
        assertThat(attempts.claimDial(id, 1).block(WAIT)).isEqualTo(3);
        attempts.storeProviderCallId(id, 1, 3, "sid-3").block(WAIT);
        assertThat(moved(command, AttemptStatus.RINGING, "sid-3", 3)).isTrue();
        assertThat(row(id)).isEqualTo("ringing/3/sid-3/false");
        assertThat(attempts.requeueForCapacity(id, 1, "sid-3", 3, due).block(WAIT)).as("dial 3 rang").isFalse();
        assertThat(row(id)).isEqualTo("ringing/3/sid-3/false");
        db.sql("DELETE FROM dispatch.schedule WHERE request_id = $1").bind(0, id).then().block(WAIT);
    }

    @Test
    void aCopyOfACommandWhoseAttemptIsRecordedLocksNothingSoItCannotDeadlockWithTheAttemptsEnd() {
        CallCommand command = command("+4915112340203");
        String id = command.requestId();
        attempts.record(command).block(WAIT);
        Connection ending = Mono.from(connections.create()).block(WAIT);
        try {
            // An attempt's end changes the attempt's row first, then the request's (its event's sequence number).
            Mono.from(ending.beginTransaction()).block(WAIT);
            execute(ending, "UPDATE dispatch.attempts SET updated_at = now() WHERE request_id = $1", id);

            // A copy of the command (a redelivery) meanwhile: it finds the attempt recorded at once. Locking the
            // request, then waiting on the attempt's row, it held the end up and PostgreSQL broke the deadlock.
            assertThat(events.emitOn(command, attempts.newAttempt(command), event -> event
                    .status(AttemptStatus.QUEUED)).blockOptional(Duration.ofSeconds(5))).isEmpty();
            execute(ending, "UPDATE dispatch.requests SET next_sequence = next_sequence WHERE request_id = $1", id);
            Mono.from(ending.commitTransaction()).block(WAIT);
        } finally {
            Mono.from(ending.close()).block(WAIT);
        }
    }

    private static void execute(Connection connection, String sql, String requestId) {
        Flux.from(connection.createStatement(sql).bind("$1", requestId).execute())
                .flatMap(Result::getRowsUpdated)
                .blockLast(Duration.ofSeconds(5));
    }

    @Test
    void aDialTheCarrierDidNotPlaceIsRequeuedOnlyWhileItIsTheCurrentDial() {
        CallCommand command = command("+4915112340202");
        String id = command.requestId();
        attempts.record(command).block(WAIT);
        int first = attempts.claimDial(id, 1).block(WAIT);
        Instant now = Instant.now();
        Instant longAgo = now.minusSeconds(3_600);

        assertThat(attempts.requeueNotPlaced(id, 1, first + 1, now.plusSeconds(5), longAgo).block(WAIT))
                .as("not the dial in flight").isFalse();
        assertThat(attempts.requeueNotPlaced(id, 1, first, now.plusSeconds(5), longAgo).block(WAIT)).isTrue();
        assertThat(row(id)).isEqualTo("queued/1/null/true");
    }

    @Test
    void aNewAttemptClaimedAsItIsRecordedIsDialOneAndIsNeitherRecordedNorClaimedAgain() {
        CallCommand command = command("+4915112340203");
        String id = command.requestId();
        attempts.recordRequest(command).block(WAIT);

        assertThat(events.emitOn(command, attempts.newClaimedAttempt(command, UUID.randomUUID()), event -> event
                .status(AttemptStatus.QUEUED)).blockOptional(WAIT)).isPresent();
        assertThat(row(id)).isEqualTo("queued/1/null/false");
        assertThat(db.sql("SELECT carrier_asked_at IS NOT NULL FROM dispatch.attempts WHERE request_id = $1")
                .bind(0, id).map(row -> row.get(0, Boolean.class)).one().block(WAIT))
                .as("claimed: the watchdog sees it end, the callee's cap counts it").isTrue();

        // Its command again (a redelivery): nothing is recorded, claimed or announced a second time.
        assertThat(events.emitOn(command, attempts.newClaimedAttempt(command, UUID.randomUUID()), event -> event
                .status(AttemptStatus.QUEUED)).blockOptional(WAIT)).isEmpty();
        assertThat(events.emitOn(command, attempts.newAttempt(command), event -> event
                .status(AttemptStatus.QUEUED)).blockOptional(WAIT)).isEmpty();
        assertThat(attempts.claimDial(id, 1).blockOptional(WAIT)).isEmpty();
        assertThat(row(id)).isEqualTo("queued/1/null/false");
        assertThat(db.sql("SELECT count(*) FROM dispatch.outbox WHERE request_id = $1").bind(0, id)
                .map(row -> row.get(0, Long.class)).one().block(WAIT)).as("one queued event").isEqualTo(1L);
    }

    @Test
    void noAttemptIsRecordedAndClaimedForARequestACancelReached() {
        CallCommand command = command("+4915112340204");
        String id = command.requestId();
        attempts.recordRequest(command).block(WAIT);
        db.sql("UPDATE dispatch.requests SET cancel_requested_at = now() WHERE request_id = $1").bind(0, id)
                .then().block(WAIT);

        assertThat(events.emitOn(command, attempts.newClaimedAttempt(command, UUID.randomUUID()), event -> event
                .status(AttemptStatus.QUEUED)).blockOptional(WAIT)).isEmpty();
        assertThat(db.sql("SELECT count(*) FROM dispatch.attempts WHERE request_id = $1").bind(0, id)
                .map(row -> row.get(0, Long.class)).one().block(WAIT)).isZero();
    }

    /** Whether the transition of {@code dial} (null: naming none) happened, with its event. */
    private boolean moved(CallCommand command, AttemptStatus to, String callId, Integer dial) {
        Transition change = new Transition(command.requestId(), command.attempt(), to, to.wire(), callId, null, null,
                dial);
        return events.emitOn(command, attempts.transitionChange(change), event -> event.status(to))
                .blockOptional(WAIT).isPresent();
    }

    /** status / dial_no / provider_call_id / requeued. */
    private String row(String requestId) {
        return db.sql("""
                        SELECT status || '/' || dial_no || '/' || COALESCE(provider_call_id, 'null') || '/' || requeued
                          FROM dispatch.attempts WHERE request_id = $1 AND attempt_no = 1""")
                .bind(0, requestId)
                .map(row -> row.get(0, String.class))
                .one()
                .block(WAIT);
    }

    private static CallCommand command(String to) {
        return new CallCommand(1, "dn-" + UUID.randomUUID(), "acc-dials", "+4930555003", to, null, "a.wav", null, 0, 3,
                1, null, null, null, null, null, null, null, null, Instant.now());
    }
}
