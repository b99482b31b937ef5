package dev.dialer.api.calls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

class QueuedRowBatchesTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    /** Long enough for the tests that end their statements themselves, on a loaded machine. */
    private static final Duration LIMIT = Duration.ofSeconds(2);

    /** Statements started and not finished yet, each with the requests it writes. */
    private final List<Statement> statements = new CopyOnWriteArrayList<>();
    private final List<Integer> sizes = new CopyOnWriteArrayList<>();

    private record Statement(List<QueuedRowBatches.Rows> rows, Sinks.Empty<Void> outcome) {
    }

    private QueuedRowBatches<QueuedRowBatches.Rows> batches(int writers, int maxRows) {
        return new QueuedRowBatches<QueuedRowBatches.Rows>(rows -> {
            Statement statement = new Statement(rows, Sinks.empty());
            statements.add(statement);
            return statement.outcome().asMono();
        }, rows -> rows.calls().size(), writers, maxRows, sizes::add, LIMIT);
    }

    @Test
    void anIdleWriterWritesARequestsRowsAtOnceAndCompletesItWhenWritten() {
        QueuedRowBatches<QueuedRowBatches.Rows> batches = batches(1, 100);

        StepVerifier.create(batches.record(rows("r1", 1)))
                .then(() -> {
                    assertThat(statements).hasSize(1);
                    statements.get(0).outcome().tryEmitEmpty();
                })
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void requestsArrivingWhileTheWriterIsBusyShareTheNextStatement() {
        QueuedRowBatches<QueuedRowBatches.Rows> batches = batches(1, 100);
        List<Mono<Void>> waiting = new ArrayList<>();
        IntStream.range(0, 5).forEach(i -> waiting.add(batches.record(rows("r" + i, 2)).cache()));
        waiting.forEach(Mono::subscribe);

        assertThat(statements).hasSize(1);
        statements.get(0).outcome().tryEmitEmpty();

        assertThat(statements).hasSize(2);
        assertThat(statements.get(1).rows()).extracting(QueuedRowBatches.Rows::accountId)
                .containsExactly("r1", "r2", "r3", "r4");
        statements.get(1).outcome().tryEmitEmpty();
        waiting.forEach(done -> StepVerifier.create(done).expectComplete().verify(WAIT));
        assertThat(sizes).containsExactly(1, 4);
    }

    @Test
    void aStatementHoldsAboutMaxRowsAndTheRestWaitsForTheNext() {
        QueuedRowBatches<QueuedRowBatches.Rows> batches = batches(1, 3);
        IntStream.range(0, 6).forEach(i -> batches.record(rows("r" + i, 1)).subscribe());

        statements.get(0).outcome().tryEmitEmpty();

        assertThat(statements.get(1).rows()).hasSize(3);
        statements.get(1).outcome().tryEmitEmpty();
        assertThat(statements.get(2).rows()).hasSize(2);
    }

    @Test
    void neverMoreStatementsInFlightThanWriters() {
        QueuedRowBatches<QueuedRowBatches.Rows> batches = batches(2, 1);
        IntStream.range(0, 10).forEach(i -> batches.record(rows("r" + i, 1)).subscribe());

        assertThat(statements).hasSize(2);
        statements.get(0).outcome().tryEmitEmpty();
        assertThat(statements).hasSize(3);
    }

    @Test
    void aFailedStatementFailsEveryRequestItServedAndTheNextOnesStillGetWritten() {
        QueuedRowBatches<QueuedRowBatches.Rows> batches = batches(1, 100);
        Mono<Void> first = batches.record(rows("r0", 1)).cache();
        first.subscribe(null, error -> { });
        Mono<Void> second = batches.record(rows("r1", 1)).cache();
        Mono<Void> third = batches.record(rows("r2", 1)).cache();
        second.subscribe(null, error -> { });
        third.subscribe(null, error -> { });

        statements.get(0).outcome().tryEmitEmpty();
        statements.get(1).outcome().tryEmitError(new IllegalStateException("connection lost"));
        batches.record(rows("r3", 1)).subscribe();

        StepVerifier.create(second).expectErrorMessage("connection lost").verify(WAIT);
        StepVerifier.create(third).expectErrorMessage("connection lost").verify(WAIT);
        assertThat(statements).hasSize(3);
        assertThat(statements.get(2).rows()).extracting(QueuedRowBatches.Rows::accountId).containsExactly("r3");
    }

    /** A statement that never answers is given up at its limit: its requests fail, and the writer takes the next. */
    @Test
    void aStatementThatNeverAnswersFailsItsRequestsAtItsLimitAndFreesItsWriter() {
        QueuedRowBatches<QueuedRowBatches.Rows> batches = batches(1, 100);
        Mono<Void> hung = batches.record(rows("r0", 1)).cache();
        hung.subscribe(null, error -> { });
        Mono<Void> next = batches.record(rows("r1", 1)).cache();
        next.subscribe(null, error -> { });

        StepVerifier.create(hung).expectError(TimeoutException.class).verify(WAIT);
        await().atMost(WAIT).until(() -> statements.size() == 2);
        statements.get(1).outcome().tryEmitEmpty();
        StepVerifier.create(next).expectComplete().verify(WAIT);
    }

    private static QueuedRowBatches.Rows rows(String account, int count) {
        List<CallLedger.Accepted> calls = IntStream.range(0, count)
                .mapToObj(i -> new CallLedger.Accepted(account + "-" + i, "+918068281234", "+919876543215", null,
                        null, 1))
                .toList();
        return new QueuedRowBatches.Rows(account, calls, Instant.parse("2026-01-01T00:00:00Z"));
    }
}
