package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.DispatcherFixture.shortCalls;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.Transition;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.event.StateChange;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * The windows a crash can hit between an attempt's writes. An attempt's state change and the event it implies are one
 * PostgreSQL transaction: a trigger on {@code dispatch.outbox} refuses chosen events (as a serialization failure, which
 * the dispatcher retries) to inject a failure between the ledger's write and the event's; while it refuses, neither is
 * there, and once it lets go, both are. An attempt recorded but never claimed for the carrier is dialled by its
 * redelivered command, once.
 */
// Published events are kept: the test reads what was stored.
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.config.name=dispatcher-service", "dialer.dispatcher.outbox.retention=PT1H"})
@DirtiesContext
class AtomicTransitionsIT {

    private static final String CALLER = "+4930777100";
    private static final Duration WAIT = Duration.ofSeconds(60);

    /** Reads the outbox, not the published events: no tail. */
    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, shortCalls()).tailing();

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        fixture.register(registry);
        // Quiet after 10 s without news (calls dialled here end well before, even on a busy machine), claimed again
        // 1 s after a failed reconciliation.
        registry.add("dialer.dispatcher.carrier.ring-timeout", () -> "PT1S");
        registry.add("dialer.dispatcher.carrier.time-limit", () -> "PT1S");
        registry.add("dialer.dispatcher.watchdog.margin", () -> "PT8S");
        registry.add("dialer.dispatcher.watchdog.poll-interval", () -> "PT0.5S");
        registry.add("dialer.dispatcher.watchdog.lease", () -> "PT1S");
    }

    @Autowired
    DatabaseClient db;

    @Autowired
    AttemptLedger ledger;

    @Autowired
    CallEvents events;

    @Autowired
    ConnectionFactory connections;

    @BeforeEach
    void installRefusals() {
        for (String statement : List.of(
                "CREATE TABLE IF NOT EXISTS dispatch.it_refused_events (request_id text, event_type text)",
                "CREATE SEQUENCE IF NOT EXISTS dispatch.it_refusals",
                """
                CREATE OR REPLACE FUNCTION dispatch.it_refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM dispatch.it_refused_events r
                                WHERE r.request_id = NEW.request_id AND r.event_type = NEW.event_type) THEN
                        -- Counted outside the transaction it aborts: sequences are not rolled back.
                        PERFORM nextval('dispatch.it_refusals');
                        RAISE EXCEPTION 'event refused by the test' USING ERRCODE = '40001';
                    END IF;
                    RETURN NEW;
                END $$""",
                "DROP TRIGGER IF EXISTS it_refuse_event ON dispatch.outbox",
                """
                CREATE TRIGGER it_refuse_event BEFORE INSERT ON dispatch.outbox
                    FOR EACH ROW EXECUTE FUNCTION dispatch.it_refuse_event()""")) {
            db.sql(statement).then().block(WAIT);
        }
    }

    @Test
    void attemptRowExistsOnlyWithItsQueuedEventAndIsDialledOnceTheEventCanBeWritten() {
        String requestId = "txq-" + UUID.randomUUID();
        refuse(requestId, "call.status");
        long before = refusals();

        fixture.produce(CALLER, command(requestId, "+4915112345678"));

        // The handler tried (and the transaction rolled back) several times over.
        await().atMost(WAIT).until(() -> refusals() >= before + 3);
        assertThat(attemptStatus(requestId)).as("no attempt row without its queued event").isNull();
        assertThat(outboxEvents(requestId)).isEmpty();
        assertThat(fixture.callsFor(requestId)).as("an attempt not recorded is not dialled").isEmpty();

        allow(requestId);

        await().atMost(WAIT).until(() -> outboxEvents(requestId).contains("call.final"));
        assertThat(outboxEvents(requestId)).startsWith("call.status:queued");
        assertThat(attemptStatus(requestId)).isEqualTo("completed");
        assertThat(fixture.callsFor(requestId)).hasSize(1);
    }

    @Test
    void attemptRecordedButNeverClaimedIsDialledOnceByItsRedeliveredCommand() {
        String requestId = "txc-" + UUID.randomUUID();
        String json = command(requestId, "+4915112345679");
        CallCommand command = Contract.read(json.getBytes(), CallCommand.class);
        // As a dispatcher that died after recording the attempt (with its event) and before claiming it for the carrier.
        events.atomically(ledger.record(command)
                        .then(events.emit(command, event -> event.status(AttemptStatus.QUEUED), Retry.max(0))))
                .block(WAIT);

        fixture.produce(CALLER, json);
        await().atMost(WAIT).until(() -> outboxEvents(requestId).contains("call.final"));
        // A further copy of the command finds the attempt claimed: it is a duplicate and dials nothing.
        String marker = "txc-" + UUID.randomUUID();
        fixture.produce(CALLER, json);
        fixture.produce(CALLER, command(marker, "+4915112345678"));
        await().atMost(WAIT).until(() -> outboxEvents(marker).contains("call.final"));

        assertThat(fixture.callsFor(requestId)).hasSize(1);
        assertThat(attemptStatus(requestId)).isEqualTo("completed");
    }

    @Test
    void statusTimeoutCommitsTheFailedAttemptItsEventAndTheFinalTogether() {
        String requestId = "txw-" + UUID.randomUUID();
        CallCommand command = Contract.read(command(requestId, "+4915100000001").getBytes(), CallCommand.class);
        refuse(requestId, "call.final");
        long before = refusals();
        // As after a create-call request that timed out: recorded, the carrier asked, no call id ever learnt.
        ledger.record(command).then(ledger.markCarrierAsked(requestId, 1)).block(WAIT);

        // The watchdog claimed it, failed to finish it, and claimed it again after its lease.
        await().atMost(WAIT).until(() -> refusals() >= before + 2);
        assertThat(attemptStatus(requestId)).as("the attempt does not end without the request's final")
                .isEqualTo("queued");
        assertThat(outboxEvents(requestId)).isEmpty();

        allow(requestId);

        await().atMost(WAIT).until(() -> outboxEvents(requestId).contains("call.final"));
        assertThat(attemptStatus(requestId)).isEqualTo("failed");
        assertThat(outboxEvents(requestId)).containsExactly("call.status:failed", "call.final");
    }

    @Test
    void aPolicyEndLeavesARequestWhoseAttemptIsBeingDialledToThatAttemptsEnd() {
        String requestId = "txl-" + UUID.randomUUID();
        CallCommand command = Contract.read(command(requestId, "+4915100000002").getBytes(), CallCommand.class);
        // As the copy of the command that claimed the attempt and asked the carrier, whose call was never heard of.
        ledger.record(command).then(ledger.markCarrierAsked(requestId, 1)).block(WAIT);

        // Another copy decided the request had expired (valid_until passed between the two, or its views had read a
        // DNC entry the first had not).
        Boolean ended = events.finish(command, FinalStatus.EXPIRED, event -> event.reason("valid_until"),
                Retry.max(0)).block(WAIT);

        assertThat(ended).as("a request whose attempt is being dialled is not ended beside it").isFalse();
        assertThat(outboxEvents(requestId)).doesNotContain("call.final");
        // The attempt's own end ends it: here the watchdog's, the carrier never having answered.
        await().atMost(WAIT).until(() -> outboxEvents(requestId).contains("call.final"));
        assertThat(outboxEvents(requestId)).containsExactly("call.status:failed", "call.final");
        assertThat(finalStatus(requestId)).isEqualTo("failed");

        String waiting = "txl-" + UUID.randomUUID();
        CallCommand recorded = Contract.read(command(waiting, "+4915100000003").getBytes(), CallCommand.class);
        ledger.record(recorded).block(WAIT);
        assertThat(events.finish(recorded, FinalStatus.EXPIRED, event -> event.reason("valid_until"), Retry.max(0))
                .block(WAIT)).as("an attempt recorded and not claimed for the carrier does not hold the end").isTrue();
        assertThat(finalStatus(waiting)).isEqualTo("expired");
    }

    @Test
    void callbackThatEndsTheRequestCommitsTheAttemptsEndItsEventAndTheFinalTogether() {
        String requestId = "txf-" + UUID.randomUUID();
        refuse(requestId, "call.final");
        long before = refusals();

        fixture.produce(CALLER, command(requestId, "+4915112345676"));

        // The completed callback was applied, refused at the final, rolled back and applied again.
        await().atMost(WAIT).until(() -> refusals() >= before + 3);
        assertThat(attemptStatus(requestId)).as("the attempt does not end without the request's final")
                .isEqualTo("in-progress");
        assertThat(outboxEvents(requestId)).doesNotContain("call.status:completed", "call.final");

        allow(requestId);

        await().atMost(WAIT).until(() -> outboxEvents(requestId).contains("call.final"));
        assertThat(attemptStatus(requestId)).isEqualTo("completed");
        assertThat(outboxEvents(requestId)).containsOnlyOnce("call.status:completed", "call.final");
        assertThat(outboxEvents(requestId)).endsWith("call.status:completed", "call.final");
        assertThat(fixture.callsFor(requestId)).hasSize(1);
    }

    /**
     * A command reusing the request id of a call in progress with another attempt number (an upstream producer's) is
     * not recorded while that call lives: it would call the person again while the first call rings.
     */
    @Test
    void anotherAttemptOfARequestIsRecordedOnlyOnceNoneOfItsAttemptsIsLive() {
        String requestId = "txa-" + UUID.randomUUID();
        CallCommand first = recordedQueued(requestId, "+4915112345676");
        CallCommand second = first.withAttempt(2);

        assertThat(recorded(second, ledger.newClaimedAttempt(second, UUID.randomUUID())))
                .as("not recorded while attempt 1 is queued").isEmpty();
        assertThat(recorded(second, ledger.newAttempt(second))).isEmpty();
        assertThat(attempts(requestId)).isEqualTo(1);

        endedBusy(first);
        assertThat(recorded(second, ledger.newClaimedAttempt(second, UUID.randomUUID())))
                .as("recorded once attempt 1 has ended").isPresent();
        assertThat(attempts(requestId)).isEqualTo(2);
    }

    /**
     * A command for an attempt whose wait has not fired (a retry's interval still running) is not recorded: an upstream
     * producer's copy with the next attempt number would call the person before the interval is over. Once the
     * scheduler fires the wait (its row leased), the attempt is recorded.
     */
    @Test
    void anAttemptWhoseWaitHasNotFiredIsNotRecorded() {
        String requestId = "txw-" + UUID.randomUUID();
        CallCommand first = recordedQueued(requestId, "+4915112345674");
        endedBusy(first);
        CallCommand second = first.withAttempt(2);
        waitsAnHour(requestId, 2, "retry");

        assertThat(recorded(second, ledger.newClaimedAttempt(second, UUID.randomUUID())))
                .as("not recorded while its retry waits").isEmpty();
        assertThat(recorded(second, ledger.newAttempt(second))).isEmpty();
        assertThat(attempts(requestId)).isEqualTo(1);

        db.sql("UPDATE dispatch.schedule SET lease_until = now() + interval '1 minute' WHERE request_id = $1")
                .bind(0, requestId).then().block(WAIT);
        assertThat(recorded(second, ledger.newClaimedAttempt(second, UUID.randomUUID())))
                .as("recorded once its wait has fired").isPresent();
        assertThat(attempts(requestId)).isEqualTo(2);
    }

    /**
     * A command that skips an attempt number (an upstream producer's copy with attempt 3 while the retry of attempt 2
     * waits) is not recorded either: it would call the person before the retry's interval, and leave the request one
     * attempt short. The retry's row brings attempt 2 at its time.
     */
    @Test
    void anAttemptBeyondOneWhoseWaitHasNotFiredIsNotRecorded() {
        String requestId = "txs-" + UUID.randomUUID();
        CallCommand first = recordedQueued(requestId, "+4915112345672");
        endedBusy(first);
        waitsAnHour(requestId, 2, "retry");

        assertThat(recorded(first.withAttempt(3), ledger.newClaimedAttempt(first.withAttempt(3), UUID.randomUUID())))
                .as("not recorded while attempt 2 waits").isEmpty();
        assertThat(attempts(requestId)).isEqualTo(1);

        db.sql("UPDATE dispatch.schedule SET lease_until = now() + interval '1 minute' WHERE request_id = $1")
                .bind(0, requestId).then().block(WAIT);
        assertThat(recorded(first.withAttempt(2), ledger.newClaimedAttempt(first.withAttempt(2), UUID.randomUUID())))
                .as("attempt 2 recorded once its wait has fired").isPresent();
    }

    /**
     * A row a lane parked does not stop its attempt: a second copy of a command parked behind the first turns the
     * fired row into a parked one, and the first copy, already in the lane, still dials in its turn.
     */
    @Test
    void anAttemptWhoseRowALaneParkedIsRecorded() {
        String requestId = "txp-" + UUID.randomUUID();
        CallCommand first = recordedQueued(requestId, "+4915112345673");
        endedBusy(first);
        CallCommand second = first.withAttempt(2);
        waitsAnHour(requestId, 2, "parked");

        assertThat(recorded(second, ledger.newClaimedAttempt(second, UUID.randomUUID()))).isPresent();
        assertThat(attempts(requestId)).isEqualTo(2);
    }

    /**
     * Two commands of one request with different attempt numbers, recorded at once: the later waits for the request's
     * lock while the other records its attempt, then checks for a live attempt in a snapshot taken before that
     * attempt was committed. It records nothing all the same: the person is not called twice at once.
     */
    @Test
    void attemptsOfOneRequestRecordedAtOnceLeaveOneLive() {
        String requestId = "txc-" + UUID.randomUUID();
        CallCommand first = recordedQueued(requestId, "+4915112345675");
        endedBusy(first);
        CallCommand third = first.withAttempt(3);

        Connection other = Mono.from(connections.create()).block(WAIT);
        try {
            // Attempt 2 recorded as the ledger records one: the request locked, then the attempt inserted.
            Mono.from(other.beginTransaction()).block(WAIT);
            int holder = Flux.from(other.createStatement(
                            "SELECT pg_backend_pid() FROM dispatch.requests WHERE request_id = $1 FOR UPDATE")
                            .bind("$1", requestId).execute())
                    .flatMap(result -> result.map((row, meta) -> row.get(0, Integer.class)))
                    .blockLast(WAIT);
            Flux.from(other.createStatement(
                            "INSERT INTO dispatch.attempts (request_id, attempt_no, status) VALUES ($1, 2, 'queued')")
                            .bind("$1", requestId).execute())
                    .flatMap(result -> result.getRowsUpdated())
                    .blockLast(WAIT);
            CompletableFuture<Boolean> recorded = events.emitOn(third,
                            ledger.newClaimedAttempt(third, UUID.randomUUID()),
                            event -> event.attempt(3).status(AttemptStatus.QUEUED))
                    .hasElement().toFuture();
            await().atMost(WAIT).until(() -> db.sql(
                            "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))")
                    .bind(0, holder).map(row -> row.get(0, Long.class)).one().block(WAIT) > 0);
            Mono.from(other.commitTransaction()).block(WAIT);

            assertThat(recorded).succeedsWithin(WAIT).isEqualTo(false);
        } finally {
            Mono.from(other.close()).block(WAIT);
        }
        assertThat(db.sql("SELECT attempt_no FROM dispatch.attempts WHERE request_id = $1 AND status IN "
                        + "('queued', 'initiated', 'ringing', 'in-progress')")
                .bind(0, requestId).map(row -> row.get(0, Integer.class)).all().collectList().block(WAIT))
                .as("live attempts").containsExactly(2);
    }

    /** A request's first attempt recorded {@code queued} with its event, as a command's handler records it. */
    private CallCommand recordedQueued(String requestId, String to) {
        CallCommand command = Contract.read(command(requestId, to).getBytes(), CallCommand.class);
        events.atomically(ledger.record(command)
                        .then(events.emit(command, event -> event.status(AttemptStatus.QUEUED), Retry.max(0))))
                .block(WAIT);
        return command;
    }

    /** {@code command}'s attempt ends {@code busy}, with its event. */
    private void endedBusy(CallCommand command) {
        events.emitOn(command, ledger.transitionChange(new Transition(command.requestId(), command.attempt(),
                AttemptStatus.BUSY, "busy", "sid-" + command.attempt(), 486, "Busy Here")),
                event -> event.status(AttemptStatus.BUSY)).block(WAIT);
    }

    /**
     * {@code recording} (a new attempt of {@code command}) run with its queued event: empty when it recorded nothing,
     * else the attempt's status before (none, for a new one).
     */
    private Optional<Optional<AttemptStatus>> recorded(CallCommand command, StateChange recording) {
        return events.emitOn(command, recording, event -> event.attempt(command.attempt())
                .status(AttemptStatus.QUEUED)).blockOptional(WAIT);
    }

    /** The request's attempt {@code attempt} waits in the schedule for an hour, for {@code reason}, not fired. */
    private void waitsAnHour(String requestId, int attempt, String reason) {
        db.sql("""
                INSERT INTO dispatch.schedule (request_id, attempt_no, due_at, reason, command)
                SELECT request_id, $2, now() + interval '1 hour', $3, command FROM dispatch.requests
                 WHERE request_id = $1""").bind(0, requestId).bind(1, attempt).bind(2, reason).then().block(WAIT);
    }

    private long attempts(String requestId) {
        return db.sql("SELECT count(*) FROM dispatch.attempts WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    @Test
    void statusChangeAndItsEventAreOneStatementAndOneThatDoesNotHappenStoresNothing() {
        String requestId = "txs-" + UUID.randomUUID();
        // Recorded directly, never sent: nothing else writes to this request.
        CallCommand command = Contract.read(command(requestId, "+4915112345675").getBytes(), CallCommand.class);
        events.atomically(ledger.record(command)
                        .then(events.emit(command, event -> event.status(AttemptStatus.QUEUED), Retry.max(0))))
                .block(WAIT);
        Transition ringing = new Transition(requestId, 1, AttemptStatus.RINGING, "ringing", "sid-1", 180, "Ringing");

        refuse(requestId, "call.status");
        long refusedBefore = refusals();
        assertThatThrownBy(() -> events.emitOn(command, ledger.transitionChange(ringing),
                event -> event.status(AttemptStatus.RINGING)).block(WAIT))
                .as("the event's refusal fails the statement").isNotNull();
        assertThat(refusals()).as("the statement reached the event's refusal").isGreaterThan(refusedBefore);
        assertThat(attemptStatus(requestId)).as("no change without its event").isEqualTo("queued");
        assertThat(outboxEvents(requestId)).containsExactly("call.status:queued");

        allow(requestId);
        assertThat(events.emitOn(command, ledger.transitionChange(ringing),
                event -> event.status(AttemptStatus.RINGING)).block(WAIT)).contains(AttemptStatus.QUEUED);
        assertThat(attemptStatus(requestId)).isEqualTo("ringing");
        assertThat(outboxEvents(requestId)).containsExactly("call.status:queued", "call.status:ringing");
        assertThat(db.sql("""
                        SELECT payload ->> 'previous_status', (payload ->> 'sequence_number')::bigint, sequence_number
                          FROM dispatch.outbox WHERE request_id = $1 AND payload ->> 'status' = 'ringing'""")
                .bind(0, requestId)
                .map(row -> row.get(0, String.class) + "/" + row.get(1, Long.class) + "/" + row.get(2, Long.class))
                .one().block(WAIT))
                .as("previous status, and the same sequence number in the payload and the row")
                .isEqualTo("queued/2/2");

        // A repeated ringing moves nothing: no event, and no sequence number taken.
        assertThat(events.emitOn(command, ledger.transitionChange(ringing),
                event -> event.status(AttemptStatus.RINGING)).blockOptional(WAIT)).isEmpty();
        assertThat(outboxEvents(requestId)).hasSize(2);
        assertThat(db.sql("SELECT next_sequence FROM dispatch.requests WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, Long.class)).one().block(WAIT)).isEqualTo(2L);
    }

    private void refuse(String requestId, String eventType) {
        db.sql("INSERT INTO dispatch.it_refused_events (request_id, event_type) VALUES ($1, $2)")
                .bind(0, requestId).bind(1, eventType).then().block(WAIT);
    }

    private void allow(String requestId) {
        db.sql("DELETE FROM dispatch.it_refused_events WHERE request_id = $1").bind(0, requestId).then().block(WAIT);
    }

    private long refusals() {
        // last_value is 1 before the first nextval; is_called tells the two apart.
        return db.sql("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM dispatch.it_refusals")
                .map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    private String finalStatus(String requestId) {
        return db.sql("SELECT final_status FROM dispatch.requests WHERE request_id = $1")
                .bind(0, requestId).map(row -> row.get(0, String.class)).one().block(WAIT);
    }

    private String attemptStatus(String requestId) {
        return db.sql("SELECT status FROM dispatch.attempts WHERE request_id = $1 AND attempt_no = 1")
                .bind(0, requestId).map(row -> row.get(0, String.class)).one().block(WAIT);
    }

    /** The request's events in the outbox, in order: {@code call.status:<status>}, or the type alone for others. */
    private List<String> outboxEvents(String requestId) {
        return db.sql("""
                        SELECT event_type, payload ->> 'status' FROM dispatch.outbox
                         WHERE request_id = $1 ORDER BY sequence_number""")
                .bind(0, requestId)
                .map(row -> "call.status".equals(row.get(0, String.class))
                        ? "call.status:" + row.get(1, String.class) : row.get(0, String.class))
                .all().collectList().block(WAIT);
    }

    private static String command(String requestId, String to) {
        return """
                {"version":1,"request_id":"%s","account_id":"acc-tx","caller_id":"%s","to":"%s",
                 "audio":"welcome.wav","campaign":"tx","created_at":"%s"}""".formatted(requestId, CALLER, to,
                Instant.now());
    }
}
