package dev.dialer.dispatcher.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.retry.RetryScheduleAccess;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The parking lot on the real PostgreSQL, against the retry scheduler's claim and delete: a command parked again
 * while the row it was published from is still there keeps its wait, copies of one record parked together make
 * one row, and each caller ID's parked due times are there for the next owner of its partition.
 */
class ParkingLotIT extends DispatcherOnDatabase {

    private static final Random RANDOM = new Random();

    @Test
    void aCommandParkedAgainBeforeTheSchedulerDeletesItsRowKeepsItsNewWait() {
        ParkingLot lot = new ParkingLot(db);
        RetryScheduleAccess scheduler = new RetryScheduleAccess(db);
        CallCommand command = command("park-" + UUID.randomUUID());
        // An hour ahead, where the service's own scheduler, on the real clock, leaves these rows alone.
        Instant now = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);
        lot.parkAll(List.of(new ParkingLot.Parked(command, now.minusSeconds(1)))).block(WAIT);

        // The scheduler claims the due row and publishes its command…
        RetryScheduleAccess.Claimed claimed = scheduler.claimDue(now).block(WAIT).stream()
                .filter(row -> row.requestId().equals(command.requestId())).findFirst().orElseThrow();
        // …which the lane parks again before the scheduler has deleted the row…
        Instant parkedAgainUntil = now.plusSeconds(60);
        lot.parkAll(List.of(new ParkingLot.Parked(command, parkedAgainUntil))).block(WAIT);
        // …and the scheduler's delete comes after.
        scheduler.remove(claimed).block(WAIT);

        assertThat(rows(command.requestId())).as("the new wait is the command's only copy, and it stays")
                .containsExactly(new Row(1, parkedAgainUntil, "parked", false));
        assertThat(scheduler.claimDue(parkedAgainUntil).block(WAIT))
                .anySatisfy(row -> assertThat(row.requestId()).isEqualTo(command.requestId()));
    }

    @Test
    void aRecordReadAgainAndParkedBehindItsOwnBacklogKeepsItsTurn() {
        ParkingLot lot = new ParkingLot(db);
        CallCommand command = command("park-" + UUID.randomUUID());
        Instant due = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);
        lot.parkAll(List.of(new ParkingLot.Parked(command, due))).block(WAIT);

        // Read again after a rebalance, from an offset committed before it was parked: its lane, which knows the
        // caller ID's backlog, parks it behind that backlog's last.
        lot.parkAll(List.of(new ParkingLot.Parked(command, due.plus(Duration.ofMinutes(30))))).block(WAIT);

        assertThat(rows(command.requestId())).containsExactly(new Row(1, due, "parked", false));
    }

    @Test
    void aParkedRowWaitsNoLongerThanItsRequestsValidUntil() {
        ParkingLot lot = new ParkingLot(db);
        Instant due = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);
        Instant validUntil = due.minus(Duration.ofMinutes(40));
        CallCommand expiring = expiringBy("park-" + UUID.randomUUID(), validUntil);
        CallCommand lasting = expiringBy("park-" + UUID.randomUUID(), due.plus(Duration.ofMinutes(5)));

        lot.parkAll(List.of(new ParkingLot.Parked(expiring, due), new ParkingLot.Parked(lasting, due))).block(WAIT);

        assertThat(rows(expiring.requestId())).as("due just after its valid_until, to be ended expired then")
                .containsExactly(new Row(1, validUntil.plus(ParkingLot.EXPIRY_MARGIN), "parked", false));
        assertThat(rows(lasting.requestId())).containsExactly(new Row(1, due, "parked", false));
    }

    @Test
    void aRequestParkedFirstKeepsASpanOfItsRecordsTrace() {
        ParkingLot lot = new ParkingLot(db);
        CallCommand traced = command("park-" + UUID.randomUUID());
        CallCommand untraced = command("park-" + UUID.randomUUID());
        Instant due = Instant.now().plus(Duration.ofHours(1));
        String incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        lot.parkAll(List.of(new ParkingLot.Parked(traced, due, incoming), new ParkingLot.Parked(untraced, due)))
                .block(WAIT);

        assertThat(traceparent(traced.requestId())).matches("00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01")
                .doesNotContain("b7ad6b7169203331");
        assertThat(traceparent(untraced.requestId())).as("a trace of its own")
                .matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
    }

    private String traceparent(String requestId) {
        return db.sql("SELECT traceparent FROM dispatch.requests WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, String.class)).one().block(WAIT);
    }

    @Test
    void copiesOfOneRecordParkedTogetherMakeOneRowAndOtherAttemptsKeepTheirOwn() {
        ParkingLot lot = new ParkingLot(db);
        CallCommand first = command("park-" + UUID.randomUUID());
        CallCommand second = first.withAttempt(2);
        Instant due = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);

        lot.parkAll(List.of(new ParkingLot.Parked(first, due), new ParkingLot.Parked(first, due.plusSeconds(1)),
                new ParkingLot.Parked(second, due))).block(WAIT);

        assertThat(rows(first.requestId())).containsExactly(
                new Row(1, due.plusSeconds(1), "parked", false), new Row(2, due, "parked", false));
    }

    @Test
    void eachCallerIdsParkedDueTimesAreKeptForTheNextOwnerOfItsPartition() {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        Clock clock = Clock.fixed(now, ZoneOffset.UTC);
        ParkingLot lot = new ParkingLot(db, clock);
        String caller = "+4930555" + (100 + RANDOM.nextInt(800));
        String other = "+4930556" + (100 + RANDOM.nextInt(800));
        lot.parkAll(List.of(new ParkingLot.Parked(command("park-" + UUID.randomUUID(), caller), now.plusSeconds(5)),
                new ParkingLot.Parked(command("park-" + UUID.randomUUID(), caller), now.plusSeconds(6)),
                new ParkingLot.Parked(command("park-" + UUID.randomUUID(), other), now.plusSeconds(1)))).block(WAIT);
        // A later batch widens the row: records shed ahead of the parked ones, and one behind them.
        lot.parkAll(List.of(new ParkingLot.Parked(command("park-" + UUID.randomUUID(), caller), now.plusSeconds(3)),
                new ParkingLot.Parked(command("park-" + UUID.randomUUID(), caller), now.plusSeconds(9)))).block(WAIT);

        assertThat(parkedLanes(lot, now.minusSeconds(1), now))
                .contains(new ParkingLot.ParkedLane(caller, now.plusSeconds(3), now.plusSeconds(9)),
                        new ParkingLot.ParkedLane(other, now.plusSeconds(1), now.plusSeconds(1)));
        assertThat(parkedLanes(lot, now.plusSeconds(2), now)).as("only those with records due after the time asked")
                .extracting(ParkingLot.ParkedLane::callerId).contains(caller).doesNotContain(other);

        // Once all of them have come back, the caller ID's next parking starts the row again.
        ParkingLot later = new ParkingLot(db, Clock.fixed(now.plusSeconds(60), ZoneOffset.UTC));
        later.parkAll(List.of(new ParkingLot.Parked(command("park-" + UUID.randomUUID(), caller),
                now.plusSeconds(65)))).block(WAIT);
        assertThat(parkedLanes(later, now.plusSeconds(60), now.plusSeconds(60)))
                .contains(new ParkingLot.ParkedLane(caller, now.plusSeconds(65), now.plusSeconds(65)));

        // A day after its last due time, a row is deleted when the rows are read.
        assertThat(parkedLanes(lot, Instant.EPOCH, now.plusSeconds(65).plus(ParkingLot.FORGOTTEN_AFTER)))
                .extracting(ParkingLot.ParkedLane::callerId).contains(caller).doesNotContain(other);
        assertThat(parkedLanes(lot, Instant.EPOCH, now)).extracting(ParkingLot.ParkedLane::callerId)
                .as("deleted, not only left out").doesNotContain(other);
    }

    @Test
    void eachCallerIdsParkedOffsetsAreKeptWithItsDueTimesForTheNextOwnerToTellWhatIsReadAgain() {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        ParkingLot lot = new ParkingLot(db, Clock.fixed(now, ZoneOffset.UTC));
        String caller = "+4930555" + (100 + RANDOM.nextInt(800));
        lot.parkAll(List.of(parked(caller, now.plusSeconds(5), 3, 11), parked(caller, now.plusSeconds(6), 3, 12)))
                .block(WAIT);
        // Shed ahead of them (an older offset), one behind, and one that came back from the schedule (no offset).
        lot.parkAll(List.of(parked(caller, now.plusSeconds(3), 3, 8), parked(caller, now.plusSeconds(9), 3, 20),
                new ParkingLot.Parked(command("park-" + UUID.randomUUID(), caller), now.plusSeconds(10)))).block(WAIT);
        assertThat(parkedLanes(lot, now.minusSeconds(1), now)).contains(new ParkingLot.ParkedLane(caller,
                now.plusSeconds(3), now.plusSeconds(10), new PartitionLanes.ParkedOffsets(3, 8, 20)));

        // Only records that came back: the offsets stay as they were.
        lot.parkAll(List.of(new ParkingLot.Parked(command("park-" + UUID.randomUUID(), caller), now.plusSeconds(11))))
                .block(WAIT);
        assertThat(parkedLanes(lot, now.minusSeconds(1), now)).contains(new ParkingLot.ParkedLane(caller,
                now.plusSeconds(3), now.plusSeconds(11), new PartitionLanes.ParkedOffsets(3, 8, 20)));

        // The topic's partitions counted anew: the caller ID's records on another partition start the offsets again.
        lot.parkAll(List.of(parked(caller, now.plusSeconds(12), 5, 2))).block(WAIT);
        assertThat(parkedLanes(lot, now.minusSeconds(1), now)).contains(new ParkingLot.ParkedLane(caller,
                now.plusSeconds(3), now.plusSeconds(12), new PartitionLanes.ParkedOffsets(5, 2, 2)));

        // Once all of them have come back, the caller ID's next parking starts them again too: with none, when it
        // parks only records that came back (shed from the front of the lane), then from the next that has one.
        ParkingLot later = new ParkingLot(db, Clock.fixed(now.plusSeconds(60), ZoneOffset.UTC));
        later.parkAll(List.of(new ParkingLot.Parked(command("park-" + UUID.randomUUID(), caller),
                now.plusSeconds(64)))).block(WAIT);
        assertThat(parkedLanes(later, now.plusSeconds(60), now.plusSeconds(60)))
                .contains(new ParkingLot.ParkedLane(caller, now.plusSeconds(64), now.plusSeconds(64)));
        later.parkAll(List.of(parked(caller, now.plusSeconds(65), 5, 40))).block(WAIT);
        assertThat(parkedLanes(later, now.plusSeconds(60), now.plusSeconds(60))).contains(new ParkingLot.ParkedLane(
                caller, now.plusSeconds(64), now.plusSeconds(65), new PartitionLanes.ParkedOffsets(5, 40, 40)));
    }

    private static ParkingLot.Parked parked(String callerId, Instant due, int partition, long offset) {
        return new ParkingLot.Parked(command("park-" + UUID.randomUUID(), callerId), due, null, partition, offset);
    }

    @Test
    void aRecountMovesACallerIdsParkedRowsStillToComeUpInTheirOrderAndLaterOnlyForASlowerLane() {
        // An hour ahead, where the service's own scheduler, on the real clock, leaves these rows alone.
        Instant now = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);
        ParkingLot lot = new ParkingLot(db, Clock.fixed(now, ZoneOffset.UTC));
        String caller = "+4930555" + (100 + RANDOM.nextInt(800));
        String other = "+4930556" + (100 + RANDOM.nextInt(800));
        // What a cancel left of a long backlog: gaps where its rows were, and two rows due an hour and two away.
        CallCommand onItsWay = command("park-" + UUID.randomUUID(), caller);
        CallCommand soon = command("park-" + UUID.randomUUID(), caller);
        CallCommand inAnHour = command("park-" + UUID.randomUUID(), caller);
        CallCommand inTwoHours = command("park-" + UUID.randomUUID(), caller);
        CallCommand othersLane = command("park-" + UUID.randomUUID(), other);
        lot.parkAll(List.of(new ParkingLot.Parked(onItsWay, now.minusSeconds(1)),
                new ParkingLot.Parked(soon, now.plusSeconds(6)),
                new ParkingLot.Parked(inAnHour, now.plus(Duration.ofHours(1))),
                new ParkingLot.Parked(inTwoHours, now.plus(Duration.ofHours(2))),
                new ParkingLot.Parked(othersLane, now.plus(Duration.ofHours(2))))).block(WAIT);

        Instant handedOut = now.plus(Duration.ofHours(2));
        ParkingLot.Backlog left = lot.recount(caller, now, now.plusSeconds(5), Duration.ofSeconds(2), handedOut, false)
                .block(WAIT);

        assertThat(left).isEqualTo(new ParkingLot.Backlog(now.plusSeconds(5), now.plusSeconds(9)));
        assertThat(rows(onItsWay.requestId())).as("due already: on its way back, left as it is")
                .containsExactly(new Row(1, now.minusSeconds(1), "parked", false));
        assertThat(rows(soon.requestId())).as("moved up to the start")
                .containsExactly(new Row(1, now.plusSeconds(5), "parked", false));
        assertThat(rows(inAnHour.requestId())).containsExactly(new Row(1, now.plusSeconds(7), "parked", false));
        assertThat(rows(inTwoHours.requestId())).containsExactly(new Row(1, now.plusSeconds(9), "parked", false));
        assertThat(rows(othersLane.requestId())).as("another caller ID's rows stay")
                .containsExactly(new Row(1, now.plus(Duration.ofHours(2)), "parked", false));
        assertThat(parkedLanes(lot, now, now)).as("the next owner of the partition parks behind what is left")
                .contains(new ParkingLot.ParkedLane(caller, now.plusSeconds(5), now.plusSeconds(9)));

        // Rows already as close as the pace keeps them are not moved later.
        assertThat(lot.recount(caller, now, now.plusSeconds(1), Duration.ofSeconds(10), handedOut, false).block(WAIT))
                .isEqualTo(new ParkingLot.Backlog(now.plusSeconds(1), now.plusSeconds(9)));
        assertThat(rows(inTwoHours.requestId())).containsExactly(new Row(1, now.plusSeconds(9), "parked", false));
        // Unless the lane starts calls more slowly than they were spaced for: then spaced anew, later, in order.
        assertThat(lot.recount(caller, now, now.plusSeconds(20), Duration.ofSeconds(10), handedOut, true).block(WAIT))
                .isEqualTo(new ParkingLot.Backlog(now.plusSeconds(20), now.plusSeconds(40)));
        assertThat(rows(soon.requestId())).containsExactly(new Row(1, now.plusSeconds(20), "parked", false));
        assertThat(rows(inAnHour.requestId())).containsExactly(new Row(1, now.plusSeconds(30), "parked", false));
        assertThat(rows(inTwoHours.requestId())).containsExactly(new Row(1, now.plusSeconds(40), "parked", false));
        assertThat(rows(onItsWay.requestId())).as("due already, left as it is")
                .containsExactly(new Row(1, now.minusSeconds(1), "parked", false));
        assertThat(parkedLanes(lot, now, now)).contains(new ParkingLot.ParkedLane(caller, now.plusSeconds(20),
                now.plusSeconds(40)));

        // Once none is left to come, nothing is returned and the caller ID's row ends now.
        db.sql("DELETE FROM dispatch.schedule WHERE request_id = ANY($1)")
                .bind(0, new String[] {soon.requestId(), inAnHour.requestId(), inTwoHours.requestId()})
                .then().block(WAIT);
        // A look that outlasted its lane's patience commits after the lane parked more: the row stays as they left it.
        lot.parkAll(List.of(new ParkingLot.Parked(command("park-" + UUID.randomUUID(), other),
                now.plus(Duration.ofHours(3))))).block(WAIT);
        assertThat(lot.recount(other, now, now.plusSeconds(5), Duration.ofSeconds(2), now.plus(Duration.ofHours(2)),
                        false).block(WAIT)).isEqualTo(new ParkingLot.Backlog(now.plusSeconds(5), now.plusSeconds(7)));
        assertThat(parkedLanes(lot, now, now)).as("not lowered below what was parked after the look began")
                .contains(new ParkingLot.ParkedLane(other, now.plus(Duration.ofHours(2)),
                        now.plus(Duration.ofHours(3))));

        assertThat(lot.recount(caller, now, now.plusSeconds(5), Duration.ofSeconds(2), handedOut, false)
                .blockOptional(WAIT)).isEmpty();
        assertThat(parkedLanes(lot, now.minusSeconds(1), now))
                .contains(new ParkingLot.ParkedLane(caller, now, now));
    }

    private static List<ParkingLot.ParkedLane> parkedLanes(ParkingLot lot, Instant since, Instant now) {
        return lot.parkedLanes(since, now).collectList().block(WAIT);
    }

    @AfterEach
    void dropRows() {
        // The rows would come due within the hour, while other tests' dispatchers run on this database.
        db.sql("DELETE FROM dispatch.schedule WHERE request_id LIKE 'park-%'").then().block(WAIT);
        db.sql("DELETE FROM dispatch.parked_lanes WHERE caller_id LIKE '+4930555%' OR caller_id LIKE '+4930556%'")
                .then().block(WAIT);
    }

    private List<Row> rows(String requestId) {
        return db.sql("""
                        SELECT attempt_no, due_at, reason, lease_until IS NOT NULL FROM dispatch.schedule
                         WHERE request_id = $1 ORDER BY attempt_no""")
                .bind(0, requestId)
                .map(row -> new Row(row.get(0, Integer.class), row.get(1, Instant.class), row.get(2, String.class),
                        Boolean.TRUE.equals(row.get(3, Boolean.class))))
                .all()
                .collectList()
                .block(WAIT);
    }

    private static CallCommand command(String requestId) {
        return command(requestId, "+4930555001");
    }

    private static CallCommand expiringBy(String requestId, Instant validUntil) {
        return new CallCommand(1, requestId, "acc-parking", "+4930555001", "+4915100000019", null, "a.wav", null, 0, 3,
                1, null, null, null, validUntil, null, null, null, null, Instant.now());
    }

    private static CallCommand command(String requestId, String callerId) {
        return new CallCommand(1, requestId, "acc-parking", callerId, "+4915100000019", null, "a.wav", null, 0, 3,
                1, null, null, null, null, null, null, null, null, Instant.now());
    }

    /** A schedule row as the test reads it. */
    private record Row(int attempt, Instant dueAt, String reason, boolean leased) {
    }
}
