package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.Transition;
import dev.dialer.dispatcher.callback.CallbackApplier.Result;
import dev.dialer.dispatcher.event.CallEvents;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

/**
 * The report of a SIP call taken over from a dispatcher whose lease on it lapsed ({@code failed} with
 * {@code dispatcher_restart}) ends the attempt only while that call is the attempt's: a kept call that outlived its
 * dial (its row could not be deleted when its dial ended) changes nothing once the attempt was dialled again, or
 * placed by another carrier under the same dial. On the real PostgreSQL, through {@link CallbackApplier}, and the
 * ledger's transition bound to a call on its own and in a batch.
 */
// A capacity requeue waits longer than the test: the context's own scheduler never fires the row the test removes.
@TestPropertySource(properties = "dialer.dispatcher.pacing.capacity-requeue-delay=PT1H")
class TakenOverCallReportsIT extends DispatcherOnDatabase {

    private static final String CAPACITY_REASON = "Maximum Calls In Progress";

    @Autowired
    AttemptLedger attempts;

    @Autowired
    CallEvents events;

    @Autowired
    CallbackApplier applier;

    @Test
    void aKeptCallOfTheDialBeforeTakenOverWhileTheNextDialRingsChangesNothing() {
        CallCommand command = command("+4930555201");
        String id = command.requestId();
        attempts.record(command).block(WAIT);
        assertThat(attempts.claimDial(id, 1).block(WAIT)).isEqualTo(1);
        attempts.storeProviderCallId(id, 1, 1, "sip-1", "sip-trunk").block(WAIT);

        // Dial 1 meets the trunk's capacity limit: the attempt waits to be dialled again under its number.
        assertThat(applier.apply(new CarrierCallback(id, 1, AttemptStatus.FAILED, "failed", "sip-1", 503,
                CAPACITY_REASON, null, null, null, 1)).block(WAIT)).isEqualTo(Result.APPLIED);
        assertThat(row(id)).isEqualTo("queued/1/null/true");

        // Its command comes back and claims dial 2, which is placed and rings.
        db.sql("DELETE FROM dispatch.schedule WHERE request_id = $1").bind(0, id).then().block(WAIT);
        assertThat(events.emitOn(command, attempts.reclaimedAttempt(command), event -> event
                .status(AttemptStatus.QUEUED)).blockOptional(WAIT)).isPresent();
        assertThat(attempts.claimDial(id, 1).block(WAIT)).isEqualTo(2);
        assertThat(takenOver(id, "sip-1", 1)).as("dial 1's kept call, before dial 2's call id is known")
                .isEqualTo(Result.IGNORED);
        attempts.storeProviderCallId(id, 1, 2, "sip-2", "sip-trunk").block(WAIT);
        assertThat(applier.apply(new CarrierCallback(id, 1, AttemptStatus.RINGING, "ringing", "sip-2", 180,
                "Ringing", null, null, null, 2)).block(WAIT)).isEqualTo(Result.APPLIED);

        // Dial 1's kept call could not be deleted; its lease lapses and a dispatcher takes it over and cancels it.
        assertThat(takenOver(id, "sip-1", 1)).isEqualTo(Result.IGNORED);
        assertThat(takenOver(id, "sip-1", null)).as("kept before its dial was").isEqualTo(Result.IGNORED);

        assertThat(row(id)).isEqualTo("ringing/2/sip-2/false");
        assertThat(statuses(id)).doesNotContain("failed");
        assertThat(retries(id)).as("no next attempt while dial 2 rings").isZero();

        // Dial 2's own end still ends it.
        assertThat(applier.apply(new CarrierCallback(id, 1, AttemptStatus.BUSY, "busy", "sip-2", 486, "Busy Here",
                null, null, null, 2)).block(WAIT)).isEqualTo(Result.APPLIED);
        assertThat(row(id)).isEqualTo("busy/2/sip-2/false");
        db.sql("DELETE FROM dispatch.schedule WHERE request_id = $1").bind(0, id).then().block(WAIT);
    }

    @Test
    void aKeptCallOfADialAnotherCarrierPlacedUnderTheSameNumberChangesNothing() {
        CallCommand command = command("+4930555202");
        String id = command.requestId();
        attempts.record(command).block(WAIT);
        assertThat(attempts.claimDial(id, 1).block(WAIT)).isEqualTo(1);

        // The SIP trunk could not keep its call in time (it was dropped before its INVITE, though its row was written
        // late): the route fails over, and the Voice Gateway places the call, still as dial 1, and it rings.
        attempts.storeProviderCallId(id, 1, 1, "vg-sid-1", "voice-gateway").block(WAIT);
        assertThat(applier.apply(new CarrierCallback(id, 1, AttemptStatus.RINGING, "ringing", "vg-sid-1", 180,
                "Ringing", null, null, null, 1)).block(WAIT)).isEqualTo(Result.APPLIED);

        assertThat(takenOver(id, "sip-dropped-1", 1)).isEqualTo(Result.IGNORED);
        assertThat(takenOver(id, "sip-dropped-1", null)).as("kept before its dial was").isEqualTo(Result.IGNORED);

        assertThat(row(id)).isEqualTo("ringing/1/vg-sid-1/false");
        assertThat(statuses(id)).doesNotContain("failed");
        assertThat(retries(id)).isZero();
    }

    @Test
    void theKeptCallOfTheDialInFlightIsStillEndedByItsTakeOver() {
        for (String known : new String[] {"sip-1", null}) {
            CallCommand command = command("+4930555203");
            String id = command.requestId();
            attempts.record(command).block(WAIT);
            assertThat(attempts.claimDial(id, 1).block(WAIT)).isEqualTo(1);
            if (known != null) {
                attempts.storeProviderCallId(id, 1, 1, known, "sip-trunk").block(WAIT);
            }

            // The dispatcher died with the call ringing (or before it stored the call's id).
            assertThat(takenOver(id, "sip-1", 1)).as("call id known: %s", known).isEqualTo(Result.APPLIED);
            assertThat(row(id)).isEqualTo("failed/1/sip-1/false");
            assertThat(statuses(id)).contains("failed");
            assertThat(retries(id)).as("a transient failure, retried").isEqualTo(1);
            db.sql("DELETE FROM dispatch.schedule WHERE request_id = $1").bind(0, id).then().block(WAIT);
        }
    }

    @Test
    void aChangeBoundToItsCallIsMadeOnlyWhileTheAttemptKnowsNoOtherCallOnItsOwnAsInABatch() {
        CallCommand elsewhere = command("+4930555204");
        CallCommand own = command("+4930555205");
        for (CallCommand command : List.of(elsewhere, own)) {
            attempts.record(command).block(WAIT);
            assertThat(attempts.claimDial(command.requestId(), 1).block(WAIT)).isEqualTo(1);
        }
        attempts.storeProviderCallId(elsewhere.requestId(), 1, 1, "vg-sid-4", "voice-gateway").block(WAIT);
        attempts.storeProviderCallId(own.requestId(), 1, 1, "sip-5", "sip-trunk").block(WAIT);
        Transition stale = new Transition(elsewhere.requestId(), 1, AttemptStatus.IN_PROGRESS, "in-progress",
                "sip-4", 200, "OK", 1, true);
        Transition current = new Transition(own.requestId(), 1, AttemptStatus.IN_PROGRESS, "in-progress", "sip-5",
                200, "OK", 1, true);

        assertThat(events.emitOn(elsewhere, attempts.transitionChange(stale), event -> event
                .status(AttemptStatus.IN_PROGRESS)).blockOptional(WAIT)).isEmpty();
        assertThat(events.changeOnEach(attempts.transitionsChange(List.of(stale, current)), List.of(
                        new CallEvents.Change(elsewhere, event -> event.status(AttemptStatus.IN_PROGRESS)),
                        new CallEvents.Change(own, event -> event.status(AttemptStatus.IN_PROGRESS))))
                .block(WAIT)).containsOnlyKeys(own.requestId());

        assertThat(row(elsewhere.requestId())).isEqualTo("queued/1/vg-sid-4/false");
        assertThat(row(own.requestId())).isEqualTo("in-progress/1/sip-5/false");
    }

    /**
     * The report a dispatcher makes of a ringing SIP call it took over: {@code failed}, {@code dispatcher_restart},
     * about that call, of the dial it was kept as ({@code null}: kept before its dial was).
     */
    private Result takenOver(String requestId, String callId, Integer dial) {
        return applier.apply(new CarrierCallback(requestId, 1, AttemptStatus.FAILED, "failed", callId, null,
                "the dispatcher restarted while the call rang", null, null, "dispatcher_restart", dial, true))
                .block(WAIT);
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

    /** The statuses of the request's {@code call.status} events, in the order they were stored. */
    private List<String> statuses(String requestId) {
        return db.sql("""
                        SELECT payload ->> 'status' FROM dispatch.outbox
                         WHERE request_id = $1 AND event_type = 'call.status' ORDER BY id""")
                .bind(0, requestId)
                .map(row -> row.get(0, String.class))
                .all()
                .collectList()
                .block(WAIT);
    }

    /** The request's next attempts scheduled as retries. */
    private long retries(String requestId) {
        return db.sql("SELECT count(*) FROM dispatch.schedule WHERE request_id = $1 AND reason = 'retry'")
                .bind(0, requestId)
                .map(row -> row.get(0, Long.class))
                .one()
                .block(WAIT);
    }

    /** Retried every 5 minutes, 3 attempts at most: a failed attempt would be tried again. */
    private static CallCommand command(String callerId) {
        return new CallCommand(1, "toc-" + UUID.randomUUID(), "acc-taken-over", callerId, "+4915112340401", null,
                "a.wav", null, 5, 3, 1, null, null, null, null, null, null, null, null, Instant.now());
    }
}
