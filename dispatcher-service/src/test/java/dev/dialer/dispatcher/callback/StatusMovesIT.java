package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.Transition;
import dev.dialer.dispatcher.event.CallEvents;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.dao.DataIntegrityViolationException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Non-final status changes that wait while a statement runs are made together by the next one, each exactly as it
 * would be made alone, on the real PostgreSQL. The first change's attempt row is held locked by another transaction,
 * so the changes that follow it are seen waiting before they are released as one batch.
 */
class StatusMovesIT extends DispatcherOnDatabase {

    @Autowired
    StatusMoves moves;

    @Autowired
    AttemptLedger attempts;

    @Autowired
    CallEvents events;

    @Autowired
    MeterRegistry registry;

    @Autowired
    ConnectionFactory connections;

    @Test
    void changesThatWaitedTogetherAreMadeInOneStatementEachAsItWouldBeAlone() throws Exception {
        CallCommand first = dialled();
        CallCommand initiated = dialled();
        CallCommand ringing = dialled();
        CallCommand repeated = dialled();
        CallCommand cancelled = dialled();
        db.sql("UPDATE dispatch.attempts SET status = 'ringing' WHERE request_id = $1")
                .bind(0, repeated.requestId()).then().block(WAIT);
        db.sql("UPDATE dispatch.requests SET cancel_requested_at = now() WHERE request_id = $1")
                .bind(0, cancelled.requestId()).then().block(WAIT);
        CompletableFuture<CallEvents.Changed> firstMoved;
        List<CompletableFuture<CallEvents.Changed>> waited;
        try (Held held = holdAttempt(first)) {
            firstMoved = move(first, AttemptStatus.INITIATED, null);
            held.awaitBlocking();
            waited = List.of(
                    move(initiated, AttemptStatus.INITIATED, null),
                    move(ringing, AttemptStatus.RINGING, 1),
                    move(repeated, AttemptStatus.RINGING, 1),
                    move(cancelled, AttemptStatus.INITIATED, null),
                    // The same request again: it waits for the batch after.
                    move(initiated, AttemptStatus.RINGING, 1));
            assertThat(waiting()).isGreaterThanOrEqualTo(5);
            assertThat(firstMoved).as("held by the lock").isNotDone();
        }

        assertThat(previous(firstMoved)).contains(AttemptStatus.QUEUED);
        assertThat(previous(waited.get(0))).contains(AttemptStatus.QUEUED);
        assertThat(previous(waited.get(1))).contains(AttemptStatus.QUEUED);
        assertThat(waited.get(2).get(WAIT.toSeconds(), TimeUnit.SECONDS)).as("a repeated ringing").isNull();
        CallEvents.Changed cancelledChange = waited.get(3).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(cancelledChange.cancelRequested()).isTrue();
        assertThat(waited.get(0).get().cancelRequested()).isFalse();
        assertThat(previous(waited.get(4))).contains(AttemptStatus.INITIATED);
        assertThat(transactions(1, initiated, ringing, cancelled)).as("the changes that waited together").hasSize(1);
        assertThat(transactions(1, first, initiated)).as("the held change, then those that waited").hasSize(2);
        assertThat(transactions(2, initiated)).as("a request's second change, in the batch after")
                .hasSize(1).doesNotContainAnyElementsOf(transactions(1, initiated));

        assertThat(statuses(initiated)).containsExactly("ringing");
        assertThat(statuses(repeated)).containsExactly("ringing");
        assertThat(statuses(ringing)).containsExactly("ringing");
        assertThat(events(initiated)).containsExactly("1 initiated after queued", "2 ringing after initiated");
        assertThat(events(ringing)).containsExactly("1 ringing after queued");
        assertThat(events(repeated)).isEmpty();
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
        try (Held held = holdAttempt(first)) {
            move(first, AttemptStatus.INITIATED, null);
            held.awaitBlocking();
            clash = moves.move(clashing, transition(clashing, AttemptStatus.INITIATED, null),
                    event -> event.eventId(takenEventId).status(AttemptStatus.INITIATED)).toFuture();
            fineMoved = move(fine, AttemptStatus.INITIATED, null);
            assertThat(waiting()).isGreaterThanOrEqualTo(2);
        }

        assertThat(previous(fineMoved)).contains(AttemptStatus.QUEUED);
        assertThatThrownBy(() -> clash.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(DataIntegrityViolationException.class);
        assertThat(split.count() - splitBefore).as("the two were tried together first").isEqualTo(1);
        assertThat(statuses(clashing)).containsExactly("queued");
        assertThat(events(clashing)).isEmpty();
        assertThat(events(fine)).containsExactly("1 initiated after queued");
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

    /** A recorded attempt, claimed for its first dial. */
    private CallCommand dialled() {
        CallCommand command = new CallCommand(1, "sm-" + UUID.randomUUID(), "acc-moves", "+4930555004",
                "+4915112340301", null, "a.wav", null, 0, 3, 1, null, null, null, null, null, null, null, null,
                Instant.now());
        assertThat(attempts.record(command).block(WAIT)).isTrue();
        assertThat(attempts.claimDial(command.requestId(), 1).block(WAIT)).isEqualTo(1);
        return command;
    }

    private List<String> statuses(CallCommand command) {
        return db.sql("SELECT status FROM dispatch.attempts WHERE request_id = $1")
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

    /** The distinct transactions that stored the requests' events numbered {@code sequence}. */
    private List<String> transactions(int sequence, CallCommand... commands) {
        return db.sql("""
                        SELECT DISTINCT xmin::text FROM dispatch.outbox
                         WHERE request_id = ANY($1) AND sequence_number = $2""")
                .bind(0, Arrays.stream(commands).map(CallCommand::requestId).toArray(String[]::new))
                .bind(1, sequence)
                .map(row -> row.get(0, String.class))
                .all().collectList().block(WAIT);
    }

    /** Holds the attempt's row locked from another connection until closed. */
    private Held holdAttempt(CallCommand command) {
        Connection connection = Mono.from(connections.create()).block(WAIT);
        Mono.from(connection.beginTransaction()).block(WAIT);
        Integer pid = Flux.from(connection.createStatement("""
                        SELECT pg_backend_pid() FROM dispatch.attempts WHERE request_id = $1 FOR UPDATE""")
                        .bind("$1", command.requestId())
                        .execute())
                .flatMap(result -> result.map((row, meta) -> row.get(0, Integer.class)))
                .blockLast(WAIT);
        return new Held(connection, pid);
    }

    private final class Held implements AutoCloseable {

        private final Connection connection;
        private final int pid;

        Held(Connection connection, int pid) {
            this.connection = connection;
            this.pid = pid;
        }

        /** Until a statement waits for the lock held here: the batch holding the first change runs. */
        void awaitBlocking() {
            await().atMost(WAIT).until(() -> db.sql("""
                            SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))""")
                    .bind(0, pid)
                    .map(row -> row.get(0, Long.class))
                    .one().block(WAIT) > 0);
        }

        @Override
        public void close() {
            Mono.from(connection.rollbackTransaction()).block(WAIT);
            Mono.from(connection.close()).block(WAIT);
        }
    }
}
