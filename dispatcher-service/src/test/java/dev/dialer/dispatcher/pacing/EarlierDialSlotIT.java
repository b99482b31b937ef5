package dev.dialer.dispatcher.pacing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.OpenAttempts;
import dev.dialer.dispatcher.attempt.Transition;
import dev.dialer.dispatcher.callback.CallbackApplier.Result;
import dev.dialer.dispatcher.callback.CallbackApplier;
import dev.dialer.dispatcher.callback.CarrierCallback;
import dev.dialer.dispatcher.event.CallEvents;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The trunk slot of an attempt dialled a second time, held by a dispatcher that does not know the attempt (it gained
 * the caller ID's partition, or restarted, or let the entry go): late terminal callbacks of the first dial change
 * nothing in the ledger, and leave the slot of the dial still ringing held; only that dial's own end frees it, once.
 * A capacity refusal shrinks the trunk of the carrier its tag names. On the real PostgreSQL, through
 * {@link CallbackApplier}.
 */
class EarlierDialSlotIT extends DispatcherOnDatabase {

    private static final int PARTITIONS = 3;
    private static final String CAPACITY_REASON = "Service Unavailable - Max Calls In Progress";

    @Autowired
    AttemptLedger attempts;

    @Autowired
    CallEvents events;

    @Autowired
    CallbackApplier applier;

    @Autowired
    OpenAttempts openAttempts;

    @Autowired
    Lanes lanes;

    @Autowired
    LedgerInFlightCalls inFlightCalls;

    TrunkGate trunk;

    @BeforeEach
    void ownEveryPartition() {
        // Only then is no rebalance to come that would move the slots this test holds.
        await().atMost(WAIT).until(() -> lanes.owned().equals(Set.of(0, 1, 2)));
        trunk = lanes.trunks().gate("voice-gateway");
    }

    @Test
    void aLateEndOfTheFirstDialLeavesTheSecondDialsSlotHeldUntilItsOwnEndFreesItOnce() {
        CallCommand command = command("+4930555101");
        String slot = secondDialRingingAndCounted(command);
        int inFlight = trunk.inFlight();

        assertThat(applier.apply(dialOne(command, AttemptStatus.BUSY, 486, "Busy Here")).block(WAIT))
                .as("dial 1 busy, which would schedule a retry").isEqualTo(Result.IGNORED);
        assertThat(applier.apply(dialOne(command, AttemptStatus.COMPLETED, 200, "OK")).block(WAIT))
                .as("dial 1 answered, which would end the request").isEqualTo(Result.IGNORED);
        assertThat(trunk.holds(slot)).as("dial 2 still rings").isTrue();
        assertThat(trunk.inFlight()).isEqualTo(inFlight);
        assertThat(status(command)).isEqualTo("ringing/2");

        CarrierCallback secondEnds = new CarrierCallback(command.requestId(), 1, AttemptStatus.COMPLETED, "completed",
                "sid-2", 200, "OK", 30, null, null, 2);
        assertThat(applier.apply(secondEnds).block(WAIT)).isEqualTo(Result.APPLIED);
        assertThat(trunk.holds(slot)).isFalse();
        assertThat(trunk.inFlight()).isEqualTo(inFlight - 1);
        assertThat(applier.apply(secondEnds).block(WAIT)).as("repeated").isEqualTo(Result.IGNORED);
        assertThat(trunk.inFlight()).isEqualTo(inFlight - 1);
        assertThat(status(command)).isEqualTo("completed/2");
    }

    @Test
    void aLateCapacityRejectionOfTheFirstDialNeitherFreesTheSecondDialsSlotNorShrinksTheLimit() {
        CallCommand command = command("+4930555102");
        String slot = secondDialRingingAndCounted(command);
        int inFlight = trunk.inFlight();
        int limit = trunk.currentLimit();
        long rejections = trunk.capacityRejections();
        CarrierCallback firstRejected = dialOne(command, AttemptStatus.FAILED, 503, CAPACITY_REASON);

        assertThat(applier.apply(firstRejected).block(WAIT)).as("would requeue").isEqualTo(Result.IGNORED);
        // The attempt has waited for a carrier longer than it may: a rejection now ends the request.
        db.sql("UPDATE dispatch.attempts SET created_at = now() - interval '1 day', waiting_since = NULL"
                        + " WHERE request_id = $1")
                .bind(0, command.requestId()).then().block(WAIT);
        assertThat(applier.apply(firstRejected).block(WAIT)).as("would end the request").isEqualTo(Result.IGNORED);
        assertThat(trunk.holds(slot)).as("dial 2 still rings").isTrue();
        assertThat(trunk.inFlight()).isEqualTo(inFlight);
        assertThat(trunk.capacityRejections()).isEqualTo(rejections);
        assertThat(trunk.currentLimit()).isEqualTo(limit);
        assertThat(status(command)).isEqualTo("ringing/2");

        // Dial 2 rang: its own refusal is no capacity rejection (it ends the attempt as a 503 does), but frees its
        // slot once.
        CarrierCallback secondRejected = new CarrierCallback(command.requestId(), 1, AttemptStatus.FAILED, "failed",
                "sid-2", 503, CAPACITY_REASON, null, null, null, 2);
        assertThat(applier.apply(secondRejected).block(WAIT)).isEqualTo(Result.APPLIED);
        assertThat(trunk.holds(slot)).isFalse();
        assertThat(trunk.inFlight()).isEqualTo(inFlight - 1);
        assertThat(applier.apply(secondRejected).block(WAIT)).as("repeated").isEqualTo(Result.IGNORED);
        assertThat(trunk.inFlight()).isEqualTo(inFlight - 1);
        assertThat(trunk.capacityRejections()).isEqualTo(rejections);
        assertThat(status(command)).isEqualTo("failed/2");
        db.sql("DELETE FROM dispatch.schedule WHERE request_id = $1").bind(0, command.requestId()).then().block(WAIT);
    }

    @Test
    void aCapacityRefusalAfterTheCallRangIsATransientFailureRetriedAsANewAttemptNeverRequeued() {
        CallCommand command = command("+4930555106");
        String id = command.requestId();
        firstDialPlaced(command);
        Transition ringing = new Transition(id, 1, AttemptStatus.RINGING, "ringing", "sid-1", 180, "Ringing", 1);
        assertThat(events.emitOn(command, attempts.transitionChange(ringing), event -> event
                .status(AttemptStatus.RINGING)).blockOptional(WAIT)).isPresent();
        long rejections = trunk.capacityRejections();
        int limit = trunk.currentLimit();
        assertThat(attempts.requeueForCapacity(id, 1, "sid-1", 1, Instant.now().plusSeconds(3_600)).block(WAIT))
                .as("the ledger never requeues a dial that rang").isFalse();

        assertThat(applier.apply(dialOne(command, AttemptStatus.FAILED, 503, CAPACITY_REASON)).block(WAIT))
                .isEqualTo(Result.APPLIED);

        assertThat(status(command)).as("ended, not back to queued").isEqualTo("failed/1");
        assertThat(db.sql("SELECT attempt_no || '/' || reason FROM dispatch.schedule WHERE request_id = $1")
                .bind(0, id).map(row -> row.get(0, String.class)).all().collectList().block(WAIT))
                .as("a retry as a new attempt, by the interval").containsExactly("2/retry");
        assertThat(db.sql("SELECT sip_reason FROM dispatch.attempts WHERE request_id = $1 AND attempt_no = 1")
                .bind(0, id).map(row -> row.get(0, String.class)).one().block(WAIT))
                .isEqualTo(CAPACITY_REASON + " (after ringing)");
        assertThat(trunk.capacityRejections()).as("no capacity rejection").isEqualTo(rejections);
        assertThat(trunk.currentLimit()).isEqualTo(limit);
        db.sql("DELETE FROM dispatch.schedule WHERE request_id = $1").bind(0, id).then().block(WAIT);
    }

    @Test
    void aCapacityRefusalOfTheCarrierTheRouteFailedOverToShrinksItsTrunkBeforeItsAnswerMovedTheSlot() {
        CallCommand command = command("+4930555107");
        String id = command.requestId();
        firstDialPlaced(command);
        String slot = heldAsCounted(command);
        TrunkGate backup = lanes.trunks().gate("backup");
        long rejections = trunk.capacityRejections();
        long backupRejections = backup.capacityRejections();
        int limit = trunk.currentLimit();
        int backupLimit = backup.currentLimit();
        // The route's first carrier failed the dial technically and "backup" placed it; its refusal for capacity
        // arrives before its create-call answer moved the slot to its trunk. The tag names the carrier.
        CarrierCallback refused = new CarrierCallback(id, 1, AttemptStatus.FAILED, "failed", "sid-1", 503,
                CAPACITY_REASON, null, null, null, 1, false, true, null, "backup");

        assertThat(applier.apply(refused).block(WAIT)).isEqualTo(Result.APPLIED);

        assertThat(status(command)).as("requeued under the same attempt").isEqualTo("queued/1");
        assertThat(backup.capacityRejections()).as("the refusing carrier's trunk").isEqualTo(backupRejections + 1);
        assertThat(backup.currentLimit()).isLessThan(backupLimit);
        assertThat(trunk.capacityRejections()).as("not the first carrier's").isEqualTo(rejections);
        assertThat(trunk.currentLimit()).isEqualTo(limit);
        assertThat(trunk.holds(slot) || backup.holds(slot)).as("the slot is freed").isFalse();
        db.sql("DELETE FROM dispatch.schedule WHERE request_id = $1").bind(0, id).then().block(WAIT);
    }

    @Test
    void anEndCommittedWhoseAnswerWasLostStillFreesTheSlotWhenItsRetryIsRefused() {
        CallCommand command = command("+4930555103");
        String slot = secondDialRingingAndCounted(command);
        int inFlight = trunk.inFlight();
        // The end's statement committed, but its answer never came back: the slot was not freed then.
        db.sql("UPDATE dispatch.attempts SET status = 'completed' WHERE request_id = $1")
                .bind(0, command.requestId()).then().block(WAIT);

        CarrierCallback secondEnds = new CarrierCallback(command.requestId(), 1, AttemptStatus.COMPLETED, "completed",
                "sid-2", 200, "OK", 30, null, null, 2);
        assertThat(applier.apply(secondEnds).block(WAIT)).as("the retry of the end").isEqualTo(Result.IGNORED);
        assertThat(trunk.holds(slot)).isFalse();
        assertThat(trunk.inFlight()).isEqualTo(inFlight - 1);
        assertThat(applier.apply(secondEnds).block(WAIT)).as("repeated").isEqualTo(Result.IGNORED);
        assertThat(trunk.inFlight()).isEqualTo(inFlight - 1);
    }

    @Test
    void aRequeueCommittedWhoseAnswerWasLostStillFreesTheSlotWhenItsRetryIsRefused() {
        CallCommand command = command("+4930555104");
        String id = command.requestId();
        firstDialPlaced(command);
        String slot = heldAsCounted(command);
        int inFlight = trunk.inFlight();
        // The requeue's statement committed, but its answer never came back: the slot was not freed then.
        assertThat(attempts.requeueForCapacity(id, 1, "sid-1", 1, Instant.now().plusSeconds(3_600)).block(WAIT))
                .isTrue();

        CarrierCallback rejected = dialOne(command, AttemptStatus.FAILED, 503, CAPACITY_REASON);
        assertThat(applier.apply(rejected).block(WAIT)).as("the retry of the requeue").isEqualTo(Result.IGNORED);
        assertThat(trunk.holds(slot)).isFalse();
        assertThat(trunk.inFlight()).isEqualTo(inFlight - 1);
        // The database is shared with later test classes, whose schedulers must not find this wait.
        db.sql("DELETE FROM dispatch.schedule WHERE request_id = $1").bind(0, id).then().block(WAIT);
    }

    @Test
    void aRepeatedRejectionOfTheDialBeforeLeavesTheSlotALaneTookForTheNextDialSinceTheRequeue() throws Exception {
        CallCommand command = command("+4930555105");
        String id = command.requestId();
        // Dial 1 was rejected and requeued, its slot freed; the requeue came due and the lane took a slot for dial 2,
        // which is not claimed yet.
        firstDialRequeued(command);
        Thread.sleep(50);
        String slot = TrunkGate.slotKey(id, 1);
        int partition = KafkaPublisher.partitionOf(command.callerId(), PARTITIONS);
        assertThat(trunk.acquireOrWait(slot, command.accountId(), partition, System.nanoTime(), () -> { }))
                .isNotEqualTo(TrunkGate.QUEUED);
        assertThat(trunk.isGranted(slot) || trunk.holds(slot)).isTrue();

        // Something late (a repeated status of dial 1) moves the attempt's updated_at past the slot's taking.
        Thread.sleep(50);
        db.sql("UPDATE dispatch.attempts SET updated_at = now() WHERE request_id = $1").bind(0, id).then().block(WAIT);

        CarrierCallback repeated = dialOne(command, AttemptStatus.FAILED, 503, CAPACITY_REASON);
        assertThat(applier.apply(repeated).block(WAIT)).isEqualTo(Result.IGNORED);

        assertThat(trunk.holds(slot)).as("the slot taken for dial 2 since the requeue").isTrue();
        trunk.release(slot, false);
        db.sql("DELETE FROM dispatch.schedule WHERE request_id = $1").bind(0, id).then().block(WAIT);
    }

    /** Dial 1 of the command's attempt is claimed and placed: the carrier named its call {@code sid-1}. */
    private void firstDialPlaced(CallCommand command) {
        String id = command.requestId();
        attempts.record(command).block(WAIT);
        assertThat(attempts.claimDial(id, 1).block(WAIT)).isEqualTo(1);
        attempts.storeProviderCallId(id, 1, 1, "sid-1").block(WAIT);
    }

    /** Dial 1 of the command's attempt is placed, then rejected for capacity: the attempt waits, requeued. */
    private void firstDialRequeued(CallCommand command) {
        String id = command.requestId();
        firstDialPlaced(command);
        assertThat(attempts.requeueForCapacity(id, 1, "sid-1", 1, Instant.now().plusSeconds(3_600)).block(WAIT))
                .isTrue();
    }

    /**
     * Dial 1 of the command's attempt is rejected for capacity and the attempt is dialled again: dial 2 rings. Its
     * slot is held as a dispatcher that gained the caller ID's partition holds it, counted from the ledger, and this
     * dispatcher's {@link OpenAttempts} knows nothing of the attempt.
     *
     * @return the slot's key
     */
    private String secondDialRingingAndCounted(CallCommand command) {
        String id = command.requestId();
        firstDialRequeued(command);
        // The scheduler brings the command back and lets its row go; the command claims dial 2.
        db.sql("DELETE FROM dispatch.schedule WHERE request_id = $1").bind(0, id).then().block(WAIT);
        assertThat(events.emitOn(command, attempts.reclaimedAttempt(command), event -> event
                .status(AttemptStatus.QUEUED)).blockOptional(WAIT)).isPresent();
        assertThat(attempts.claimDial(id, 1).block(WAIT)).isEqualTo(2);
        attempts.storeProviderCallId(id, 1, 2, "sid-2").block(WAIT);
        Transition ringing = new Transition(id, 1, AttemptStatus.RINGING, "ringing", "sid-2", 180, "Ringing", 2);
        assertThat(events.emitOn(command, attempts.transitionChange(ringing), event -> event
                .status(AttemptStatus.RINGING)).blockOptional(WAIT)).isPresent();

        String slot = heldAsCounted(command);
        openAttempts.ended(id, 1);
        assertThat(openAttempts.laterDialThan(id, 1, 1)).as("known to this dispatcher").isFalse();
        return slot;
    }

    /**
     * The slot of the command's attempt, held as a dispatcher that gained the caller ID's partition holds it: counted
     * from the ledger's dials in flight.
     *
     * @return the slot's key
     */
    private String heldAsCounted(CallCommand command) {
        String slot = command.requestId() + "#1";
        int partition = KafkaPublisher.partitionOf(command.callerId(), PARTITIONS);
        trunk.countingStarts();
        List<TrunkGate.CountedCall> counted = inFlightCalls.on(Set.of(partition), PARTITIONS)
                .filter(call -> call.slotKey().equals(slot))
                .collectList()
                .block(WAIT);
        assertThat(counted).hasSize(1);
        // Held by this count, or already by the dispatcher's own count of the calls in flight (made again a few
        // seconds after its partitions were assigned), which may have found the same dial first: held once either way.
        trunk.holdCounted(counted);
        assertThat(trunk.holds(slot)).isTrue();
        return slot;
    }

    private static CarrierCallback dialOne(CallCommand command, AttemptStatus status, int sip, String reason) {
        return new CarrierCallback(command.requestId(), 1, status, status.wire(), "sid-1", sip, reason, null, null,
                null, 1);
    }

    /** status / dial_no. */
    private String status(CallCommand command) {
        return db.sql("SELECT status || '/' || dial_no FROM dispatch.attempts WHERE request_id = $1")
                .bind(0, command.requestId())
                .map(row -> row.get(0, String.class))
                .one()
                .block(WAIT);
    }

    /** Retried every 5 minutes, 3 attempts at most: a busy first attempt would be tried again. */
    private static CallCommand command(String callerId) {
        return new CallCommand(1, "eds-" + UUID.randomUUID(), "acc-dial-slots", callerId, "+4915112340301", null,
                "a.wav", null, 5, 3, 1, null, null, null, null, null, null, null, null, Instant.now());
    }
}
