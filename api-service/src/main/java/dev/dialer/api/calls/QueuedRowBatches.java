package dev.dialer.api.calls;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.function.ToIntFunction;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Group commit of the accept-time {@code queued} rows: the rows of requests that arrive while earlier rows are being
 * written go to PostgreSQL together, in one statement, as soon as a writer is free. An idle service writes each
 * request's rows at once (no timer, no added wait); a busy one writes far fewer, larger statements, which is what
 * lets single sends scale. Each request still completes only when its own rows are written (or errors when their
 * statement failed), so a call is found {@code queued} as soon as its send answered.
 *
 * <p>Bounded: at most {@code writers} statements in flight, each of about {@code maxRows} rows (a request's rows are
 * never split: the last request of a statement may take it past the bound). The waiting requests are the requests in flight, which the
 * server's own limits already bound.
 */
final class QueuedRowBatches<R> {

    /** One request's calls, a row each, and who waits for them. */
    record Rows(String accountId, List<CallLedger.Accepted> calls, Instant createdAt) {
    }

    private record Pending<R>(R rows, MonoSink<Void> done) {
    }

    private final Queue<Pending<R>> pending = new ConcurrentLinkedQueue<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Function<List<R>, Mono<Void>> write;
    private final ToIntFunction<R> rowsOf;
    private final int writers;
    private final int maxRows;
    private final IntConsumer requestsPerStatement;
    private final Duration statementLimit;

    /**
     * @param write                writes the rows of several requests in one statement
     * @param rowsOf               how many rows a request's share of the statement counts for
     * @param writers              statements in flight at most
     * @param maxRows              about how many rows a statement holds at most
     * @param requestsPerStatement told how many requests each statement serves (a metric)
     * @param statementLimit       how long a statement may take before it is given up, failing its requests: one on a
     *                             connection that hangs without failing (a primary gone without a reset) would
     *                             otherwise hold its writer for good, and with every writer so held, every later
     *                             request would wait for ever, its calls in Kafka already
     */
    QueuedRowBatches(Function<List<R>, Mono<Void>> write, ToIntFunction<R> rowsOf, int writers, int maxRows,
                     IntConsumer requestsPerStatement, Duration statementLimit) {
        this.write = write;
        this.rowsOf = rowsOf;
        this.writers = writers;
        this.maxRows = maxRows;
        this.requestsPerStatement = requestsPerStatement;
        this.statementLimit = statementLimit;
    }

    /** Completes once the rows are written, with the rows of whichever requests share their statement. */
    Mono<Void> record(R rows) {
        return Mono.create(sink -> {
            pending.add(new Pending<>(rows, sink));
            drain();
        });
    }

    /** Starts a statement for the waiting rows while a writer is free. */
    private void drain() {
        while (!pending.isEmpty()) {
            int running = inFlight.get();
            if (running >= writers) {
                return;
            }
            if (!inFlight.compareAndSet(running, running + 1)) {
                continue;
            }
            List<Pending<R>> batch = take();
            if (batch.isEmpty()) {
                inFlight.decrementAndGet();
                continue;
            }
            writeBatch(batch);
        }
    }

    /** Requests in arrival order until the statement holds {@code maxRows} rows (its last request may pass it). */
    private List<Pending<R>> take() {
        List<Pending<R>> batch = new ArrayList<>();
        int rows = 0;
        Pending<R> next;
        while (rows < maxRows && (next = pending.poll()) != null) {
            batch.add(next);
            rows += rowsOf.applyAsInt(next.rows());
        }
        return batch;
    }

    /**
     * The statement is subscribed here, by the batcher that owns it, not by any one request: the requests in the
     * batch only wait for its outcome, so one of them going away does not cancel the others' rows.
     */
    private void writeBatch(List<Pending<R>> batch) {
        requestsPerStatement.accept(batch.size());
        Mono.defer(() -> write.apply(batch.stream().map(Pending::rows).toList()))
                .timeout(statementLimit)
                .subscribe(null,
                        error -> finish(batch, error),
                        () -> finish(batch, null));
    }

    private void finish(List<Pending<R>> batch, Throwable error) {
        inFlight.decrementAndGet();
        for (Pending<R> waiting : batch) {
            if (error == null) {
                waiting.done().success();
            } else {
                waiting.done().error(error);
            }
        }
        drain();
    }
}
